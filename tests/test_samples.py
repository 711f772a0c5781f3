"""Sample workbooks (niengiam.samples) and the award catalogue (schemas/catalogs/awards.csv).

Article oracle: Sở Công Thương Phú Thọ, "4 bài học kinh nghiệm trong công tác thi đua".
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook, SheetVisibleEnum

from niengiam import samples

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "schemas" / "catalogs" / "awards.csv"
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
LEVELS = {"state", "government", "ministry", "province", "department"}
CATALOGUE_COLUMNS = [
    "award_code",
    "official_code",
    "award_name_vi",
    "award_name_en",
    "award_level",
    "aliases",
]
ARTICLE_AWARDS = {
    "HC_LAO_DONG_HANG_NHAT": ("Huân chương Lao động hạng Nhất", "state", "1671246434"),
    "CTD_BO_CONG_THUONG": ("Cờ thi đua Bộ Công Thương", "ministry", "1647933114"),
    "BK_BO_CONG_THUONG": ("Bằng khen Bộ Công Thương", "ministry", "1650360491"),
    "KNC_PHAT_TRIEN_NGANH_CONG_THUONG": (
        "Kỷ niệm chương Vì sự phát triển ngành Công Thương",
        "ministry",
        "1671248245",
    ),
    "CSTD_CAP_TINH": ("Chiến sĩ thi đua cấp tỉnh", "province", "1647508703"),
    "BK_UBND_TINH": ("Bằng khen UBND tỉnh", "province", "1650360491"),
}
# Collective-only and individual-only awards (by catalogue code).
COLLECTIVE_ONLY = {"HC_LAO_DONG_HANG_NHAT", "CTD_BO_CONG_THUONG"}
INDIVIDUAL_ONLY = {"KNC_PHAT_TRIEN_NGANH_CONG_THUONG", "CSTD_CAP_TINH"}


# ---------------------------------------------------------------- helpers


def fold(text: str) -> str:
    """Case- and diacritics-folded key: 'Chiến Sĩ  thi đua' -> 'chien si thi dua'."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def parse_number(cell: object) -> float:
    """A numeric cell as float; Vietnamese text ("28.029,5") parsed; blank and "-" are 0."""
    if isinstance(cell, (int, float)):
        return float(cell)
    text = str(cell or "").strip()
    if text in ("", "-"):
        return 0.0
    return float(text.replace(".", "").replace(",", "."))


def tenths(cell: object) -> int:
    """A one-decimal figure as an exact integer number of tenths."""
    return round(parse_number(cell) * 10)


def sheet_rows(path: Path) -> list[list[object]]:
    """All rows of the table sheet: first visible xlsx sheet, or the `;` CSV."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return [list(row) for row in csv.reader(fh, delimiter=";")]
    wb = CalamineWorkbook.from_path(str(path))
    visible = [m.name for m in wb.sheets_metadata if m.visible == SheetVisibleEnum.Visible]
    return wb.get_sheet_by_name(visible[0]).to_python()


def data_rows(path: Path) -> list[list[object]]:
    """Data rows of a sample file: after the header row(s), up to the first blank row."""
    rows = sheet_rows(path)
    start = next(i for i, row in enumerate(rows) if row and row[0] == "STT") + 1
    if "Tập thể" in rows[start]:
        start += 1
    out = []
    for row in rows[start:]:
        if not any(str(cell).strip() for cell in row):
            break
        out.append(row)
    return out


def read_catalogue() -> list[dict[str, str]]:
    """The award catalogue rows."""
    with CATALOGUE.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def alias_list(row: dict[str, str]) -> list[str]:
    """Aliases of a catalogue row."""
    return [alias for alias in row["aliases"].split("|") if alias]


def folded_index() -> dict[str, set[str]]:
    """Folded name or alias -> the codes it points at."""
    index: dict[str, set[str]] = defaultdict(set)
    for row in read_catalogue():
        for text in [row["award_name_vi"], *alias_list(row)]:
            index[fold(text)].add(row["award_code"])
    return index


def resolve(name: str) -> str:
    """Catalogue code of an award name as written, via the folded index."""
    codes = folded_index().get(fold(name), set())
    assert len(codes) == 1, f"{name!r} resolves to {codes}"
    return next(iter(codes))


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All sample files, written once for the module."""
    dest = tmp_path_factory.mktemp("samples")
    samples.write_samples(dest)
    return dest


def file_for(sample_dir: Path, year: int, kind: str) -> Path:
    """The sample file of one dataset and year (xlsx or csv)."""
    return next(sample_dir.glob(f"phu-tho_{year}_{kind}.*"))


def industry_columns(sample_dir: Path, year: int) -> dict[tuple[str, str], tuple[object, object]]:
    """(industry code or '', ownership) -> (current, constant) cells of a year's output table."""
    return {
        (str(row[2]), str(row[4])): (row[5], row[6])
        for row in data_rows(file_for(sample_dir, year, "gia-tri-sxcn"))
    }


def total_current(sample_dir: Path, year: int) -> float:
    """Whole-industry output at current prices, as read back from the file."""
    return parse_number(industry_columns(sample_dir, year)[("", "Tổng số")][0])


# ---------------------------------------------------------------- files


def test_file_names(tmp_path: Path) -> None:
    """Three files a year; 2010 trade is a CSV; paths come back sorted."""
    paths = samples.write_samples(tmp_path)
    assert paths == sorted(paths)
    names = {p.name for p in paths}
    assert len(names) == 18
    assert "phu-tho_2010_thuong-mai.csv" in names
    assert "phu-tho_2011_thuong-mai.xlsx" in names
    assert "phu-tho_2010_thuong-mai.xlsx" not in names
    for year in samples.SAMPLE_YEARS:
        assert f"phu-tho_{year}_gia-tri-sxcn.xlsx" in names
        assert f"phu-tho_{year}_thi-dua-khen-thuong.xlsx" in names


def test_reruns_are_byte_identical(tmp_path: Path) -> None:
    """The same call writes byte-identical files every time."""

    def digests(dest: Path) -> dict[str, str]:
        return {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in samples.write_samples(dest)
        }

    first = digests(tmp_path / "a")
    assert first == digests(tmp_path / "b")
    assert first == digests(tmp_path / "a")


def test_hidden_scratch_sheet(sample_dir: Path) -> None:
    """Every xlsx has a visible table sheet first and the hidden scratch sheet 'Nháp'."""
    for path in sorted(sample_dir.glob("*.xlsx")):
        meta = {m.name: m.visible for m in CalamineWorkbook.from_path(str(path)).sheets_metadata}
        names = list(meta)
        assert names[0].startswith("Biểu 0"), path.name
        assert meta[names[0]] == SheetVisibleEnum.Visible
        assert meta.get("Nháp") == SheetVisibleEnum.Hidden, path.name


def test_extra_sheets_are_written(tmp_path: Path) -> None:
    """write_xlsx puts extra tables on further visible sheets, before the scratch sheet."""
    path = samples.write_xlsx(
        samples.industrial_output_table(2014),
        tmp_path / "x.xlsx",
        extra_sheets=[samples.trade_table(2014)],
    )
    names = [m.name for m in CalamineWorkbook.from_path(str(path)).sheets_metadata]
    assert names == ["Biểu 01", "Biểu 02", "Nháp"]


def test_csv_has_bom_and_semicolons(sample_dir: Path) -> None:
    """The 2010 trade CSV is UTF-8 with BOM, `;`-delimited, numbers in Vietnamese format."""
    path = sample_dir / "phu-tho_2010_thuong-mai.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    header = next(line for line in text.splitlines() if line.startswith("STT"))
    assert header.split(";") == samples.TRADE_HEADER
    assert "9.012,4" in text
    lines = text.splitlines()
    start = lines.index(header)
    table = lines[start : start + 1 + len(samples.trade_table(2010).rows)]
    assert all(line.count(";") == len(samples.TRADE_HEADER) - 1 for line in table)
    assert all(line.count(";") == 0 for line in lines[:start])


def test_layout_positions() -> None:
    """Title lines, header, data and notes sit where SampleTable says."""
    table = samples.awards_table(2015)
    assert table.title_lines[:2] == ["UBND TỈNH PHÚ THỌ", "SỞ CÔNG THƯƠNG"]
    assert "TỔNG HỢP KẾT QUẢ KHEN THƯỞNG NĂM 2015" in table.title_lines
    assert table.header_start == len(table.title_lines)
    assert len(table.header_rows) == 2
    assert {len(row) for row in table.header_rows} == {table.width}
    assert (0, 4, 0, 5, "Số lượng") in table.merges


def test_unsupported_year_is_refused() -> None:
    """Only 2010-2015 have sample data."""
    with pytest.raises(ValueError, match="2009"):
        samples.trade_table(2009)


# ---------------------------------------------------------------- industrial output


def test_industrial_output_matches_article(sample_dir: Path) -> None:
    """2014 = 28.029,5; 2015 estimate 30.618; +13,2 % vs 2011; CAGR 2010-2015 = 5,6 %."""
    series = {year: total_current(sample_dir, year) for year in samples.SAMPLE_YEARS}
    assert series[2014] == 28029.5
    assert series[2015] == 30618.0
    assert round((series[2014] / series[2011] - 1) * 100, 1) == 13.2
    assert round(((series[2015] / series[2010]) ** (1 / 5) - 1) * 100, 1) == 5.6
    values = [series[year] for year in sorted(series)]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert series == samples.EXPECTED["industrial_output_current"]
    assert samples.EXPECTED["growth_2014_vs_2011_pct"] == 13.2
    assert samples.EXPECTED["cagr_2010_2015_pct"] == 5.6


def test_constant_prices_increase(sample_dir: Path) -> None:
    """Constant 2010 prices equal current prices in 2010 and grow every year."""
    constant = [
        parse_number(industry_columns(sample_dir, year)[("", "Tổng số")][1])
        for year in samples.SAMPLE_YEARS
    ]
    assert constant[0] == total_current(sample_dir, 2010)
    assert all(a < b for a, b in itertools.pairwise(constant))


@pytest.mark.parametrize("year", list(samples.SAMPLE_YEARS))
def test_industrial_parts_sum_to_totals(sample_dir: Path, year: int) -> None:
    """Sections B+C+D+E and the three ownership types add up exactly, at both price bases."""
    cols = industry_columns(sample_dir, year)
    for price in (0, 1):
        total = tenths(cols[("", "Tổng số")][price])
        sections = {code: tenths(cols[(code, "Tổng số")][price]) for code in "BCDE"}
        owners = [tenths(cols[("", o)][price]) for _, o in samples.OWNERSHIPS]
        assert sum(sections.values()) == total
        assert sum(owners) == total
        assert 0.75 <= sections["C"] / total <= 0.80
        assert 0.08 <= sections["D"] / total <= 0.10
        assert 0.06 <= sections["B"] / total <= 0.08


def test_status_and_text_numbers(sample_dir: Path) -> None:
    """2015 is an estimate with a note; 2012 writes current prices as Vietnamese text."""
    for year in samples.SAMPLE_YEARS:
        path = file_for(sample_dir, year, "gia-tri-sxcn")
        rows = data_rows(path)
        assert {row[7] for row in rows} == {"Ước đạt" if year == 2015 else "Chính thức"}
        current_types = {type(row[5]) for row in rows}
        assert current_types == ({str} if year == 2012 else {float})
        assert all(isinstance(row[6], float) for row in rows)
        flat = [str(cell) for row in sheet_rows(path) for cell in row]
        assert "Người lập biểu" in flat
        assert ("Ghi chú: Số liệu năm 2015 là số ước đạt." in flat) == (year == 2015)
    rows_2012 = data_rows(file_for(sample_dir, 2012, "gia-tri-sxcn"))
    assert rows_2012[0][5] == "25.412,3"


# ---------------------------------------------------------------- trade


@pytest.mark.parametrize("year", list(samples.SAMPLE_YEARS))
def test_trade_parts_sum_to_totals(sample_dir: Path, year: int) -> None:
    """Each flow's groups add up exactly to its total (row with an empty group)."""
    rows = data_rows(file_for(sample_dir, year, "thuong-mai"))
    assert [row[0] for row in rows if row[2] == ""] == ["I", "II", "III"]
    totals = {row[1]: tenths(row[5]) for row in rows if row[2] == ""}
    parts: dict[str, int] = defaultdict(int)
    for row in rows:
        if row[2] != "":
            parts[row[1]] += tenths(row[5])
        assert int(parse_number(row[4])) == year
    assert parts == totals
    exports = totals[samples.EXPORTS]
    assert 0.6 <= totals[samples.IMPORTS] / exports <= 0.8


def test_trade_magnitudes(sample_dir: Path) -> None:
    """Exports ~400 → ~900 triệu USD; retail ~9.000 tỷ đồng growing ~16 %/year."""

    def total(year: int, flow: str) -> float:
        rows = data_rows(file_for(sample_dir, year, "thuong-mai"))
        return next(parse_number(r[5]) for r in rows if r[1] == flow and r[2] == "")

    assert 350 <= total(2010, samples.EXPORTS) <= 450
    assert 850 <= total(2015, samples.EXPORTS) <= 950
    assert 8500 <= total(2010, samples.RETAIL) <= 9500
    growth = (total(2015, samples.RETAIL) / total(2010, samples.RETAIL)) ** (1 / 5) - 1
    assert 0.15 <= growth <= 0.17


# ---------------------------------------------------------------- awards


def award_rows(sample_dir: Path) -> list[list[object]]:
    """All award data rows of 2010-2015."""
    return [
        row
        for year in samples.SAMPLE_YEARS
        for row in data_rows(file_for(sample_dir, year, "thi-dua-khen-thuong"))
    ]


def test_awards_match_article(sample_dir: Path) -> None:
    """Sums per award over 2010-2015 are the article's; 47 collectives, 112 individuals."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in award_rows(sample_dir):
        code = resolve(str(row[1]))
        sums[code][0] += int(parse_number(row[4]))
        sums[code][1] += int(parse_number(row[5]))
    expected = {
        v["code"]: [v["collective"], v["individual"]] for v in samples.EXPECTED["awards"].values()
    }
    assert dict(sums) == expected
    assert sum(c for c, _ in sums.values()) == samples.EXPECTED["awards_collective_total"] == 47
    assert sum(i for _, i in sums.values()) == samples.EXPECTED["awards_individual_total"] == 112


def test_award_cells_as_written(sample_dir: Path) -> None:
    """Counts are whole numbers; nil is a blank or "-"; one-kind awards never count the other."""
    seen_nil = set()
    spellings = set()
    for row in award_rows(sample_dir):
        code = resolve(str(row[1]))
        for cell in row[4:6]:
            if isinstance(cell, float):
                assert cell == int(cell) and cell > 0
            else:
                assert cell in ("", "-")
                seen_nil.add(cell)
        if code in COLLECTIVE_ONLY:
            assert row[5] in ("", "-")
        if code in INDIVIDUAL_ONLY:
            assert row[4] in ("", "-")
        if code == "CSTD_CAP_TINH":
            spellings.add(str(row[1]).split()[1])
    assert seen_nil == {"", "-"}
    assert spellings == {"sĩ", "sỹ"}


def test_award_names_resolve_to_catalogue(sample_dir: Path) -> None:
    """Every award name written in the samples resolves to exactly one catalogue row."""
    codes = {row["award_code"] for row in read_catalogue()}
    for row in award_rows(sample_dir):
        assert resolve(str(row[1])) in codes
    for name in samples.EXPECTED["awards"]:
        assert resolve(name) == samples.EXPECTED["awards"][name]["code"]


# ---------------------------------------------------------------- catalogue


def test_catalogue_shape() -> None:
    """Header, NFC text, unique readable codes, allowed levels, numeric official codes."""
    raw = CATALOGUE.read_text(encoding="utf-8")
    assert not raw.startswith("\ufeff")
    assert unicodedata.normalize("NFC", raw) == raw
    rows = read_catalogue()
    assert list(rows[0]) == CATALOGUE_COLUMNS
    codes = [row["award_code"] for row in rows]
    assert len(codes) == len(set(codes))
    for row in rows:
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", row["award_code"]), row
        assert row["award_level"] in LEVELS, row
        assert re.fullmatch(r"\d*", row["official_code"]), row
        assert row["award_name_vi"].strip() == row["award_name_vi"] != ""
        assert row["award_name_en"].isascii() and row["award_name_en"], row
        aliases = alias_list(row)
        assert len(aliases) == len(set(aliases)), row
        assert row["award_name_vi"] not in aliases, row
        assert all(alias.strip() == alias for alias in aliases), row


def test_catalogue_has_article_awards() -> None:
    """The six article awards, with their codes, names, levels and official codes."""
    by_code = {row["award_code"]: row for row in read_catalogue()}
    for code, (name, level, official) in ARTICLE_AWARDS.items():
        row = by_code[code]
        assert (row["award_name_vi"], row["award_level"], row["official_code"]) == (
            name,
            level,
            official,
        )
    assert "Chiến sỹ thi đua cấp tỉnh" in alias_list(by_code["CSTD_CAP_TINH"])
    assert {"Bằng khen của Chủ tịch UBND tỉnh", "Bằng khen Ủy ban nhân dân tỉnh"} <= set(
        alias_list(by_code["BK_UBND_TINH"])
    )
    assert "Kỷ niệm chương Vì sự phát triển của ngành Công Thương" in alias_list(
        by_code["KNC_PHAT_TRIEN_NGANH_CONG_THUONG"]
    )
    assert by_code["BK_BO_CONG_THUONG"]["award_name_en"] == (
        "Certificate of Merit of the Ministry of Industry and Trade"
    )


def test_no_folded_alias_points_at_two_codes() -> None:
    """Names and aliases, once case- and diacritics-folded, each point at one code."""
    clashes = {key: codes for key, codes in folded_index().items() if len(codes) > 1}
    assert clashes == {}


def test_catalogue_covers_official_vocabulary() -> None:
    """Every HTKT name of MauTDKT.xlsx is a row's name or alias (Nguồn: mẫu nhập TĐKT)."""
    workbook = REALDATA / "MauTDKT.xlsx"
    if not workbook.exists():
        pytest.skip("../shared/realdata absent")
    sheet = CalamineWorkbook.from_path(str(workbook)).get_sheet_by_name("HTKT").to_python()
    official = [
        (unicodedata.normalize("NFC", str(name).strip()), str(code).strip())
        for name, code, *_ in sheet[1:]
        if str(name).strip()
    ]
    assert len(official) >= 89
    rows = read_catalogue()
    known = {row["award_name_vi"] for row in rows} | {a for row in rows for a in alias_list(row)}
    missing = [name for name, _ in official if name not in known]
    assert missing == []
    first_code_per_name: dict[str, str] = {}
    for name, code in official:
        first_code_per_name.setdefault(fold(name), code)
    assert set(first_code_per_name.values()) <= {row["official_code"] for row in rows}
    for name, code in official:
        if first_code_per_name[fold(name)] == code:
            assert code in {r["official_code"] for r in rows if r["award_code"] == resolve(name)}


# ---------------------------------------------------------------- helpers of samples


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_vietnamese_number_format_round_trips(value: int) -> None:
    """format_vn_number writes dot thousands and a decimal comma that parse back exactly."""
    text = samples.format_vn_number(value / 10)
    assert "," in text
    assert tenths(text) == value


@given(
    st.integers(min_value=0, max_value=10**7),
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=6),
)
def test_split_tenths_sums_exactly(total: int, weights: list[float]) -> None:
    """Parts always add up to the total."""
    assert sum(samples.split_tenths(total, weights)) == total
