"""Seeded, reproducible benchmark workloads in the layouts of niengiam.samples, at national scale.

Workload 1, the national backfill: the 34 provinces of 2025 × 20 years (2006-2025) × 3 datasets =
2,040 workbooks, each laid out like the demo's samples (agency lines "UBND TỈNH …", Vietnamese
headers, notes under the table, a hidden scratch sheet). A yearly report repeats the last few years
with their revised figures (a five-year-plan style window of 4-10 years per province): the latest
year is an estimate (Ước đạt), the year before preliminary (Sơ bộ), older years final. That is how a
single province-year reaches 50-500 rows with the codes the catalogues know, and it exercises
vintages: each year's file supersedes the partitions of the years it repeats.

- industrial output: 20 rows per year (whole industry, sections B-E, three ownership types and every
  section × ownership cell), current and constant 2010 prices → 80-200 rows;
- trade: 14 rows per year (exports, imports, retail sales and their groups) → 56-140 rows;
- awards: 50-90 of the 90 catalogue awards for the year, collectives and individuals.

Workload 2, one large table: exports by commodity × province × year, 1,000,000 rows, as xlsx and as
csv, in the trade layout with a province column ("Tỉnh, thành phố") and a commodity column ("Mặt
hàng"). Its grain (province, year, flow, commodity) is unique. The shipped trade_groups catalogue
knows 11 groups only, so the generator also writes the commodity list as catalogue rows
(commodities.csv) that bench/launch.py adds to trade_groups; without them every row is an unknown
code. Nothing else of niengiam is changed.

Everything is seeded: the same seed and scale write byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import random
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from niengiam.samples import (
    ALL_OWNERSHIPS,
    AWARDS_HEADER,
    AWARDS_MERGES,
    CREATED,
    INDUSTRY_HEADER,
    OWNERSHIPS,
    SECTIONS,
    SIGNATURE,
    TRADE_HEADER,
    WHOLE_INDUSTRY,
    SampleTable,
    format_vn_number,
    split_tenths,
    write_xlsx,
)

GENERATOR_VERSION = 6  # 6: a province's structure drifts slowly (its shares were drawn afresh each year)
# 5: the large table is a plausible series per commodity (was random per row)
DEFAULT_SEED = 20250701
OUT = Path(__file__).resolve().parent / "out"
YEARS = range(2006, 2026)
DATASETS = ("industrial_output", "trade", "awards")
LARGE_ROWS = 1_000_000
CATALOGS = Path(__file__).resolve().parents[1] / "schemas" / "catalogs"

# The 34 provinces and centrally-run cities from 2025-07-01 (Resolution 202/2025/QH15), each named as
# its agency line writes it; every name resolves through schemas/catalogs/provinces.csv.
CITIES = ["Hà Nội", "Hải Phòng", "Huế", "Đà Nẵng", "Hồ Chí Minh", "Cần Thơ"]
PROVINCES_34 = [
    "Hà Nội", "Huế", "Lai Châu", "Điện Biên", "Sơn La", "Lạng Sơn", "Cao Bằng", "Quảng Ninh",
    "Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Tuyên Quang", "Lào Cai", "Thái Nguyên", "Phú Thọ", "Bắc Ninh",
    "Hưng Yên", "Hải Phòng", "Ninh Bình", "Quảng Trị", "Đà Nẵng", "Quảng Ngãi", "Gia Lai", "Khánh Hòa",
    "Lâm Đồng", "Đắk Lắk", "Hồ Chí Minh", "Đồng Nai", "Tây Ninh", "Cần Thơ", "Vĩnh Long", "Đồng Tháp",
    "Cà Mau", "An Giang",
]
LEVEL_WORDS = {
    "state": "Nhà nước",
    "government": "Chính phủ",
    "ministry": "Bộ",
    "province": "Tỉnh",
    "department": "Sở",
}
# Trade flows as the samples write them: (roman STT, flow label, unit, share of the province's size, groups).
TRADE = [
    ("I", "Kim ngạch xuất khẩu", "Triệu USD", 0.045,
     ["Hàng dệt may", "Hàng điện tử, linh kiện", "Hóa chất, phân bón", "Hàng hóa khác"]),
    ("II", "Kim ngạch nhập khẩu", "Triệu USD", 0.032,
     ["Nguyên phụ liệu dệt may", "Máy móc, thiết bị, phụ tùng", "Hàng hóa khác"]),
    ("III", "Tổng mức bán lẻ hàng hóa và doanh thu dịch vụ tiêu dùng", "Tỷ đồng", 0.9,
     ["Bán lẻ hàng hóa", "Dịch vụ lưu trú, ăn uống", "Du lịch lữ hành", "Dịch vụ khác"]),
]
# Export commodity groups (Vietnamese customs headings); the large table details each into HS lines.
COMMODITY_GROUPS = [
    "Hàng thủy sản", "Hàng rau quả", "Hạt điều", "Cà phê", "Chè", "Hạt tiêu", "Gạo", "Sắn và các sản phẩm từ sắn",
    "Bánh kẹo và các sản phẩm từ ngũ cốc", "Thức ăn gia súc và nguyên liệu", "Quặng và khoáng sản khác",
    "Than đá", "Dầu thô", "Xăng dầu các loại", "Hóa chất", "Sản phẩm hóa chất", "Phân bón các loại",
    "Chất dẻo nguyên liệu", "Sản phẩm từ chất dẻo", "Cao su", "Sản phẩm từ cao su",
    "Túi xách, ví, vali, mũ, ô dù", "Sản phẩm mây, tre, cói và thảm", "Gỗ và sản phẩm gỗ",
    "Giấy và các sản phẩm từ giấy", "Xơ, sợi dệt các loại", "Hàng dệt, may", "Vải mành, vải kỹ thuật khác",
    "Giày dép các loại", "Nguyên phụ liệu dệt, may, da, giày", "Sản phẩm gốm, sứ",
    "Thủy tinh và các sản phẩm từ thủy tinh", "Đá quý, kim loại quý và sản phẩm", "Sắt thép các loại",
    "Sản phẩm từ sắt thép", "Kim loại thường khác và sản phẩm", "Máy vi tính, sản phẩm điện tử và linh kiện",
    "Điện thoại các loại và linh kiện", "Máy ảnh, máy quay phim và linh kiện",
    "Máy móc, thiết bị, dụng cụ phụ tùng khác", "Dây điện và dây cáp điện", "Phương tiện vận tải và phụ tùng",
    "Đồ chơi, dụng cụ thể thao và bộ phận", "Sản phẩm nội thất từ chất liệu khác gỗ", "Hàng hóa khác",
]
LARGE_HEADER = ["STT", "Tỉnh, thành phố", "Năm", "Chỉ tiêu", "Mã HS", "Mặt hàng", "Đơn vị tính", "Giá trị"]


# --- plan ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Province:
    """A province as its workbooks name it, and the seeded traits its figures follow."""

    name: str
    slug: str
    size: float
    growth: float
    window: int

    @property
    def agency_line(self) -> str:
        """The first title line: the provincial People's Committee."""
        kind = "THÀNH PHỐ" if self.name in CITIES else "TỈNH"
        return f"UBND {kind} {self.name.upper()}"


def _rng(seed: int, *parts: object) -> random.Random:
    """A generator for one named piece of the workload (string seeds hash the same in every process)."""
    return random.Random(":".join(map(str, (seed, *parts))))


def slugify(name: str) -> str:
    """ASCII file-name form of a Vietnamese name ("Đắk Lắk" -> "dak-lak")."""
    import unicodedata

    text = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return "-".join(text.lower().replace(".", " ").split())


def province(seed: int, name: str) -> Province:
    """Seeded size (2006 industrial output in tenths of a tỷ đồng), growth and report window."""
    rng = _rng(seed, "province", name)
    size = rng.lognormvariate(math.log(120_000), 0.9)
    return Province(name, slugify(name), size, rng.uniform(1.05, 1.16), rng.randint(4, 10))


def province_years(scale: float = 1.0) -> list[tuple[str, int]]:
    """The (province, year) pairs of a backfill: newest years first, so a small scale stays national."""
    pairs = [(name, year) for year in reversed(YEARS) for name in PROVINCES_34]
    count = max(1, min(len(pairs), round(len(pairs) * scale)))
    return sorted(pairs[:count], key=lambda p: (slugify(p[0]), p[1]))


def file_name(slug: str, year: int, dataset: str) -> str:
    """File names in the samples' style: <province>_<year>_<dataset>.xlsx."""
    suffix = {"industrial_output": "gia-tri-sxcn", "trade": "thuong-mai", "awards": "thi-dua-khen-thuong"}
    return f"{slug}_{year}_{suffix[dataset]}.xlsx"


# --- workbooks -----------------------------------------------------------------------------------


def _status_word(year: int, report_year: int) -> str:
    """Latest year an estimate, the year before preliminary, older years final."""
    if year == report_year:
        return "Ước đạt"
    return "Sơ bộ" if year == report_year - 1 else "Chính thức"


def _revision(status: str) -> float:
    """Estimates run a little low, preliminary figures almost final."""
    return {"Ước đạt": 0.985, "Sơ bộ": 0.996}.get(status, 1.0)


def _title_lines(prov: Province, title: str, unit_line: str) -> list[str]:
    return [prov.agency_line, "SỞ CÔNG THƯƠNG", "", title, unit_line, ""]


def _shares(rng: random.Random, base: list[float], drift: float) -> list[float]:
    """Base shares jittered by a province-specific drift, renormalised."""
    raw = [max(0.005, b * (1 + rng.uniform(-drift, drift))) for b in base]
    total = sum(raw)
    return [r / total for r in raw]


STRUCTURE_TREND = 0.04  # a share's own trend, per year (± this, in log terms) …
STRUCTURE_NOISE = 0.06  # … and its year-to-year wobble (±)


def _structure(seed: int, prov: Province, what: str, year: int, base: list[float], spread: float) -> list[float]:
    """A province's shares of `what` (sections, ownership types, trade groups) in a year: its own structure
    (the common `base` jittered by ±`spread`, drawn once), each share on a slow trend of its own, with a
    small wobble each year. A yearbook's structure moves slowly: shares drawn afresh each year made a
    quarter of the components change by more than 50 % from one year to the next, which real ones do not."""
    rng = _rng(seed, "structure", what, prov.name)
    own = _shares(rng, base, spread)
    trends = [rng.uniform(-STRUCTURE_TREND, STRUCTURE_TREND) for _ in base]
    wobble = _rng(seed, "structure", what, prov.name, year)
    raw = [s * math.exp(t * (year - YEARS.start)) * (1 + wobble.uniform(-STRUCTURE_NOISE, STRUCTURE_NOISE))
           for s, t in zip(own, trends, strict=True)]
    total = sum(raw)
    return [r / total for r in raw]


def _window(prov: Province, report_year: int) -> range:
    return range(report_year - prov.window + 1, report_year + 1)


def _output_rows(seed: int, prov: Province, year: int, status: str, as_text: bool) -> list[list[object]]:
    """The 20 rows of one year: total, sections, ownership types, section × ownership."""
    rng = _rng(seed, "output", prov.name, year)
    current = round(prov.size * prov.growth ** (year - YEARS.start) * rng.uniform(0.97, 1.03) * _revision(status))
    deflator = 1.04 ** (year - 2010)
    sections = _structure(seed, prov, "sections", year, [0.08, 0.76, 0.09, 0.07], 0.5)
    owners = _structure(seed, prov, "ownership", year, [0.16, 0.54, 0.30], 0.4)
    cur_sec, con_sec = split_tenths(current, sections), split_tenths(round(current / deflator), sections)
    cur_own = split_tenths(current, owners)
    con_own = split_tenths(round(current / deflator), owners)
    cells = [("", WHOLE_INDUSTRY, ALL_OWNERSHIPS, current, round(current / deflator))]
    cells += [(code, name, ALL_OWNERSHIPS, c, k) for (_, code, name), c, k in zip(SECTIONS, cur_sec, con_sec)]
    cells += [("", WHOLE_INDUSTRY, owner, c, k) for (_, owner), c, k in zip(OWNERSHIPS, cur_own, con_own)]
    for (_, code, name), c_total, k_total in zip(SECTIONS, cur_sec, con_sec):
        for (_, owner), c, k in zip(OWNERSHIPS, split_tenths(c_total, owners), split_tenths(k_total, owners)):
            cells.append((code, name, owner, c, k))
    rows: list[list[object]] = []
    for number, (code, name, owner, c, k) in enumerate(cells, start=1):
        shown = format_vn_number(c / 10) if as_text else c / 10
        rows.append([number, year, code, name, owner, shown, k / 10, status])
    return rows


def industrial_output_workbook(seed: int, prov: Province, report_year: int) -> SampleTable:
    """Industrial output of the report year and the years it repeats, by section and ownership."""
    as_text = _rng(seed, "text-numbers", prov.name, report_year).random() < 0.15
    rows = []
    for year in _window(prov, report_year):
        rows += _output_rows(seed, prov, year, _status_word(year, report_year), as_text)
    first = report_year - prov.window + 1
    return SampleTable(
        sheet_name="Biểu 01",
        title_lines=_title_lines(
            prov, f"GIÁ TRỊ SẢN XUẤT CÔNG NGHIỆP {first}-{report_year}", "Đơn vị tính: Tỷ đồng"
        ),
        header_rows=[list(INDUSTRY_HEADER)],
        rows=rows,
        notes=[f"Ghi chú: Số liệu năm {report_year} là số ước đạt, năm {report_year - 1} là số sơ bộ.", SIGNATURE],
        merges=[],
    )


def _trade_rows(seed: int, prov: Province, year: int, status: str) -> list[list[object]]:
    rng = _rng(seed, "trade", prov.name, year)
    rows: list[list[object]] = []
    for roman, flow, unit, share, groups in TRADE:
        scale = 1 / 10 if unit == "Tỷ đồng" else 1 / 250  # tenths of tỷ đồng -> tenths of the flow's unit
        total = max(len(groups), round(prov.size * share * scale * prov.growth ** (year - YEARS.start)))
        total = round(total * rng.uniform(0.95, 1.05) * _revision(status))
        rows.append([roman, flow, "", unit, year, total / 10, status])
        parts = split_tenths(total, _structure(seed, prov, f"trade {flow}", year, [1.0] * len(groups), 0.6))
        rows += [[str(n), flow, g, unit, year, p / 10, status] for n, (g, p) in enumerate(zip(groups, parts), 1)]
    return rows


def trade_workbook(seed: int, prov: Province, report_year: int) -> SampleTable:
    """Exports, imports and retail sales by group for the report year and the years it repeats."""
    rows = []
    for year in _window(prov, report_year):
        rows += _trade_rows(seed, prov, year, _status_word(year, report_year))
    first = report_year - prov.window + 1
    return SampleTable(
        sheet_name="Biểu 02",
        title_lines=_title_lines(
            prov,
            f"KIM NGẠCH XUẤT KHẨU, NHẬP KHẨU VÀ TỔNG MỨC BÁN LẺ HÀNG HÓA {first}-{report_year}",
            "(Đơn vị tính ghi theo từng chỉ tiêu)",
        ),
        header_rows=[list(TRADE_HEADER)],
        rows=rows,
        notes=[f"Ghi chú: Số liệu năm {report_year} là số ước đạt, năm {report_year - 1} là số sơ bộ.", SIGNATURE],
        merges=[],
    )


def award_catalogue() -> list[dict[str, str]]:
    """The 90 awards of schemas/catalogs/awards.csv (name and level as the department writes them)."""
    with (CATALOGS / "awards.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _count(rng: random.Random, chance: float, most: int) -> int:
    return rng.randint(1, most) if rng.random() < chance else 0


def awards_workbook(seed: int, prov: Province, year: int, catalogue: list[dict[str, str]]) -> SampleTable:
    """Counts of 50-90 catalogue awards given in one year, collectives and individuals."""
    rng = _rng(seed, "awards", prov.name, year)
    chosen = sorted(rng.sample(range(len(catalogue)), rng.randint(50, len(catalogue))))
    rows: list[list[object]] = []
    for index in chosen:
        award = catalogue[index]
        collective, individual = _count(rng, 0.4, 12), _count(rng, 0.7, 40)
        name = award["award_name_vi"]
        name = name.replace("Chiến sĩ", "Chiến sỹ") if year % 2 else name
        blank: object = None if year % 2 == 0 else "-"
        rows.append([len(rows) + 1, name, LEVEL_WORDS.get(award["award_level"], ""), year,
                     collective or blank, individual or blank, None])
    return SampleTable(
        sheet_name="Biểu 03",
        title_lines=_title_lines(prov, f"TỔNG HỢP KẾT QUẢ KHEN THƯỞNG NĂM {year}",
                                 "(Đơn vị tính: Số tập thể, số cá nhân)"),
        header_rows=[list(row) for row in AWARDS_HEADER],
        rows=rows,
        notes=['Ghi chú: Ô trống hoặc dấu "-" là không có.', SIGNATURE],
        merges=list(AWARDS_MERGES),
    )


def workbook(seed: int, name: str, year: int, dataset: str) -> SampleTable:
    """The table of one province, year and dataset."""
    prov = province(seed, name)
    if dataset == "industrial_output":
        return industrial_output_workbook(seed, prov, year)
    if dataset == "trade":
        return trade_workbook(seed, prov, year)
    return awards_workbook(seed, prov, year, award_catalogue())


# --- writing -------------------------------------------------------------------------------------


def _write_one(job: tuple[int, str, int, str, str]) -> tuple[str, int]:
    seed, name, year, dataset, path = job
    table = workbook(seed, name, year, dataset)
    write_xlsx(table, Path(path))
    return path, len(table.rows)


def _manifest_ok(folder: Path, params: dict) -> bool:
    manifest = folder / "MANIFEST.json"
    if not manifest.is_file():
        return False
    saved = json.loads(manifest.read_text(encoding="utf-8"))
    return saved.get("params") == params and all((folder / f).is_file() for f in saved.get("files", {}))


def backfill_dir(scale: float, seed: int, out: Path = OUT) -> Path:
    """Where a backfill of this scale and seed is written."""
    return out / f"backfill-s{scale:g}-seed{seed}"


def write_backfill(
    scale: float = 1.0, seed: int = DEFAULT_SEED, out: Path = OUT, processes: int = 2, progress: bool = True
) -> Path:
    """Write the backfill's workbooks (reused when already written with the same parameters)."""
    folder = backfill_dir(scale, seed, out)
    params = {"kind": "backfill", "scale": scale, "seed": seed, "version": GENERATOR_VERSION}
    if _manifest_ok(folder, params):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [
        (seed, name, year, dataset, str(folder / file_name(slugify(name), year, dataset)))
        for name, year in province_years(scale)
        for dataset in DATASETS
    ]
    files: dict[str, int] = {}
    with ProcessPoolExecutor(max_workers=max(1, processes)) as pool:
        for done, (path, count) in enumerate(pool.map(_write_one, jobs, chunksize=16), start=1):
            files[Path(path).name] = count
            if progress and (done % 200 == 0 or done == len(jobs)):
                print(f"  generated {done}/{len(jobs)} workbooks", file=sys.stderr, flush=True)
    manifest = {"params": params, "files": dict(sorted(files.items())), "sheet_rows": sum(files.values())}
    (folder / "MANIFEST.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return folder


def manifest(folder: Path) -> dict:
    """The manifest a generator run left in a folder: parameters, table rows per file, total rows."""
    return json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))


# --- the large table -----------------------------------------------------------------------------


def commodities(count: int) -> list[tuple[str, str]]:
    """(HS-style code, label) of `count` export commodity lines, grouped under the customs headings."""
    per_group = math.ceil(count / len(COMMODITY_GROUPS))
    lines = []
    for chapter, group in enumerate(COMMODITY_GROUPS, start=1):
        for item in range(1, per_group + 1):
            code = f"{chapter:02d}{item:02d}" if per_group < 100 else f"{chapter:02d}{item:03d}"
            lines.append((code, f"{group} - dòng hàng {code}"))
    return lines[:count]


def large_shape(rows: int) -> tuple[int, int, int]:
    """(provinces, years, commodities) of a table with at least `rows` rows over the national frame."""
    provinces, years = len(PROVINCES_34), len(YEARS)
    return provinces, years, math.ceil(rows / (provinces * years))


def large_rows(rows: int, seed: int) -> Iterator[list[object]]:
    """Rows of exports by province × year × commodity, in that order, exactly `rows` of them."""
    _, _, count = large_shape(rows)
    lines = commodities(count)
    rng = random.Random(f"{seed}:large")
    produced = 0
    for name in PROVINCES_34:
        shown = f"TP. {name}" if name == "Hồ Chí Minh" else name
        # a plausible series per commodity: a level, a trend and ±8 % a year (the ±50 % check stays quiet)
        levels = [(rng.lognormvariate(1.5, 1.6), rng.uniform(0.97, 1.12)) for _ in lines]
        for year in YEARS:
            for (code, label), (level, trend) in zip(lines, levels):
                if produced == rows:
                    return
                produced += 1
                value = round(level * trend ** (year - YEARS.start) * rng.uniform(0.92, 1.08), 1) or 0.1
                yield [produced, shown, year, "Xuất khẩu", code, label, "Triệu USD", value]


def _large_title() -> list[str]:
    return [
        "BỘ CÔNG THƯƠNG",
        "",
        f"KIM NGẠCH XUẤT KHẨU THEO MẶT HÀNG VÀ TỈNH, THÀNH PHỐ {YEARS.start}-{YEARS.stop - 1}",
        "(Đơn vị tính: Triệu USD)",
        "",
    ]


def write_large_xlsx(path: Path, rows: int, seed: int) -> Path:
    """The large table as xlsx, streamed row by row (xlsxwriter's constant-memory mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    wb.set_properties({"created": CREATED, "author": "Bộ Công Thương"})
    bold = wb.add_format({"bold": True})
    number = wb.add_format({"num_format": "#,##0.0"})
    ws = wb.add_worksheet("Xuất khẩu")
    title = _large_title()
    for r, line in enumerate(title):
        if line:
            ws.write_string(r, 0, line, bold)
    top = len(title)
    for c, text in enumerate(LARGE_HEADER):
        ws.write_string(top, c, text, bold)
    r = top
    for r, row in enumerate(large_rows(rows, seed), start=top + 1):
        ws.write_number(r, 0, row[0])
        ws.write_string(r, 1, row[1])
        ws.write_number(r, 2, row[2])
        ws.write_string(r, 3, row[3])
        ws.write_string(r, 4, row[4])
        ws.write_string(r, 5, row[5])
        ws.write_string(r, 6, row[6])
        ws.write_number(r, 7, row[7], number)
    ws.write_string(r + 2, 0, "Nguồn: số liệu tổng hợp từ các Sở Công Thương (dữ liệu mô phỏng cho đo hiệu năng).")
    wb.close()
    return path


def write_large_csv(path: Path, rows: int, seed: int) -> Path:
    """The large table as csv: comma-separated, figures as Vietnamese text in quotes ("1.234,5"), BOM.

    Not the samples' ';' form: niengiam's delimiter sniffing (schemas/grid.py) picks ',' when every one
    of the first 50 lines holds exactly one decimal comma, and then cannot find the header.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=",", lineterminator="\r\n")
        writer.writerows([line] if line else [] for line in _large_title())
        writer.writerow(LARGE_HEADER)
        for row in large_rows(rows, seed):
            writer.writerow([*row[:7], format_vn_number(row[7])])
    return path


def write_commodity_catalogue(path: Path, rows: int) -> Path:
    """The large table's commodity lines as rows for the trade_groups catalogue."""
    _, _, count = large_shape(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["product_group_code", "flow_code", "name_vi", "name_en", "aliases"])
        writer.writerows(
            [f"HS{code}", "export", label, f"Export commodity line {code}", ""] for code, label in commodities(count)
        )
    return path


def large_dir(rows: int, seed: int, out: Path = OUT) -> Path:
    """Where a large table of this size and seed is written."""
    return out / f"large-{rows}-seed{seed}"


def write_large(rows: int = LARGE_ROWS, seed: int = DEFAULT_SEED, out: Path = OUT, formats: tuple[str, ...] = ("xlsx", "csv")) -> Path:
    """Write the large table (xlsx and csv) and its commodity catalogue; reused when already written."""
    folder = large_dir(rows, seed, out)
    params = {"kind": "large", "rows": rows, "seed": seed, "formats": list(formats), "version": GENERATOR_VERSION}
    if _manifest_ok(folder, params):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    files = {write_commodity_catalogue(folder / "commodities.csv", rows).name: 0}
    if "csv" in formats:
        files[write_large_csv(folder / "xuat-khau-theo-mat-hang.csv", rows, seed).name] = rows
    if "xlsx" in formats:
        files[write_large_xlsx(folder / "xuat-khau-theo-mat-hang.xlsx", rows, seed).name] = rows
    (folder / "MANIFEST.json").write_text(
        json.dumps({"params": params, "files": files, "sheet_rows": rows}, indent=1), encoding="utf-8"
    )
    return folder


def sha256(path: Path) -> str:
    """Hex digest of a file, to check that generation is reproducible."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    """Command line: write a workload's files."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate",
        description="Write the benchmark workloads (seeded, reproducible) into bench/out/.",
        epilog="Example: python -m bench.generate backfill --scale 0.05",
    )
    parser.add_argument("workload", choices=["backfill", "large"])
    parser.add_argument("--scale", type=float, default=1.0, help="Fraction of the full size (default 1).")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1:
        parser.error("--scale must be in (0, 1]")
    if args.workload == "backfill":
        folder = write_backfill(args.scale, args.seed, args.out)
    else:
        folder = write_large(max(1, round(LARGE_ROWS * args.scale)), args.seed, args.out)
    info = manifest(folder)
    print(f"{folder}: {len(info['files'])} files, {info['sheet_rows']:,} table rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
