"""Sample workbooks as a Sở Công Thương would send them: Phú Thọ, 2010-2015, three datasets.

The figures are synthetic but honour every number of the department's article
(``seed/000_c68b296deff98739.txt``): industrial output 2014 = 28.029,5 tỷ đồng, +13,2 % vs. 2011,
2015 estimate 30.618 tỷ đồng, average growth 2010-2015 = 5,6 %/year, and the award totals.
Everything is deterministic: the same call writes byte-identical files.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import xlsxwriter

SAMPLE_YEARS = range(2010, 2016)
PROVINCE = "Phú Thọ"
PROVINCE_SLUG = "phu-tho"
CSV_TRADE_YEAR = 2010
ESTIMATE_YEARS = frozenset({2015})
TEXT_NUMBER_YEAR = 2012
CREATED = datetime(2016, 1, 15)
AGENCY_LINES = ["UBND TỈNH PHÚ THỌ", "SỞ CÔNG THƯƠNG"]
SIGNATURE = "Người lập biểu"
HIDDEN_SHEET = "Nháp"

INDUSTRY_HEADER = [
    "STT",
    "Năm",
    "Mã ngành",
    "Ngành công nghiệp",
    "Thành phần kinh tế",
    "Giá hiện hành",
    "Giá so sánh 2010",
    "Tình trạng",
]
TRADE_HEADER = [
    "STT",
    "Chỉ tiêu",
    "Nhóm hàng, dịch vụ",
    "Đơn vị tính",
    "Năm",
    "Giá trị",
    "Tình trạng",
]
AWARDS_HEADER = [
    ["STT", "Hình thức khen thưởng", "Cấp khen thưởng", "Năm", "Số lượng", "", "Ghi chú"],
    ["", "", "", "", "Tập thể", "Cá nhân", ""],
]
AWARDS_MERGES = [
    (0, 0, 1, 0, "STT"),
    (0, 1, 1, 1, "Hình thức khen thưởng"),
    (0, 2, 1, 2, "Cấp khen thưởng"),
    (0, 3, 1, 3, "Năm"),
    (0, 4, 0, 5, "Số lượng"),
    (0, 6, 1, 6, "Ghi chú"),
]

# Industrial output, whole industry, current prices, in tenths of a tỷ đồng (exact integers).
TOTAL_CURRENT_TENTHS = {
    2010: 233164,
    2011: 247610,
    2012: 254123,
    2013: 267016,
    2014: 280295,
    2015: 306180,
}
# Price deflator relative to 2010 (constant prices "giá so sánh 2010" = current / deflator).
DEFLATOR = {2010: 1.000, 2011: 1.040, 2012: 1.065, 2013: 1.100, 2014: 1.140, 2015: 1.185}
SECTIONS = [
    ("1.1", "B", "Khai khoáng"),
    ("1.2", "C", "Công nghiệp chế biến, chế tạo"),
    ("1.3", "D", "Sản xuất và phân phối điện, khí đốt, nước nóng, hơi nước và điều hoà không khí"),
    ("1.4", "E", "Cung cấp nước; hoạt động quản lý và xử lý rác thải, nước thải"),
]
OWNERSHIPS = [("2", "Nhà nước"), ("3", "Ngoài Nhà nước"), ("4", "Có vốn đầu tư nước ngoài")]
WHOLE_INDUSTRY = "Toàn ngành công nghiệp"
ALL_OWNERSHIPS = "Tổng số"

# Trade: (roman STT, flow, unit, totals in tenths per year, groups).
EXPORTS = "Kim ngạch xuất khẩu"
IMPORTS = "Kim ngạch nhập khẩu"
RETAIL = "Tổng mức bán lẻ hàng hóa và doanh thu dịch vụ tiêu dùng"
TRADE_FLOWS = [
    (
        "I",
        EXPORTS,
        "Triệu USD",
        {2010: 4026, 2011: 4817, 2012: 5538, 2013: 6412, 2014: 7705, 2015: 9050},
        ["Hàng dệt may", "Hàng điện tử, linh kiện", "Hóa chất, phân bón", "Hàng hóa khác"],
    ),
    (
        "II",
        IMPORTS,
        "Triệu USD",
        {2010: 2853, 2011: 3342, 2012: 3905, 2013: 4461, 2014: 5347, 2015: 6302},
        ["Nguyên phụ liệu dệt may", "Máy móc, thiết bị, phụ tùng", "Hàng hóa khác"],
    ),
    (
        "III",
        RETAIL,
        "Tỷ đồng",
        {2010: 90124, 2011: 104861, 2012: 121230, 2013: 141055, 2014: 163540, 2015: 189902},
        ["Bán lẻ hàng hóa", "Dịch vụ lưu trú, ăn uống", "Du lịch lữ hành", "Dịch vụ khác"],
    ),
]

# Awards: catalogue code, name as the department writes it, level as written,
# then (collective, individual) counts for 2010..2015.
AWARD_ROWS = [
    (
        "HC_LAO_DONG_HANG_NHAT",
        "Huân chương Lao động hạng Nhất",
        "Nhà nước",
        [(0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (1, 0)],
    ),
    (
        "CTD_BO_CONG_THUONG",
        "Cờ thi đua Bộ Công Thương",
        "Bộ",
        [(0, 0), (0, 0), (0, 0), (1, 0), (0, 0), (0, 0)],
    ),
    (
        "BK_BO_CONG_THUONG",
        "Bằng khen Bộ Công Thương",
        "Bộ",
        [(1, 5), (2, 6), (1, 5), (2, 7), (1, 6), (2, 6)],
    ),
    (
        "KNC_PHAT_TRIEN_NGANH_CONG_THUONG",
        "Kỷ niệm chương Vì sự phát triển ngành Công Thương",
        "Bộ",
        [(0, 6), (0, 7), (0, 5), (0, 8), (0, 6), (0, 7)],
    ),
    (
        "CSTD_CAP_TINH",
        "Chiến sĩ thi đua cấp tỉnh",
        "Tỉnh",
        [(0, 1), (0, 0), (0, 1), (0, 1), (0, 2), (0, 1)],
    ),
    (
        "BK_UBND_TINH",
        "Bằng khen UBND tỉnh",
        "Tỉnh",
        [(5, 4), (6, 5), (6, 5), (6, 6), (6, 6), (7, 6)],
    ),
]

EXPECTED: dict = {
    "province": PROVINCE,
    "years": tuple(SAMPLE_YEARS),
    "estimate_years": tuple(sorted(ESTIMATE_YEARS)),
    "industrial_output_current": {y: t / 10 for y, t in TOTAL_CURRENT_TENTHS.items()},
    "industrial_output_2014": 28029.5,
    "industrial_output_2015_estimate": 30618.0,
    "growth_2014_vs_2011_pct": 13.2,
    "cagr_2010_2015_pct": 5.6,
    "awards": {
        "Huân chương Lao động hạng Nhất": {
            "code": "HC_LAO_DONG_HANG_NHAT",
            "collective": 1,
            "individual": 0,
        },
        "Cờ thi đua Bộ Công Thương": {
            "code": "CTD_BO_CONG_THUONG",
            "collective": 1,
            "individual": 0,
        },
        "Bằng khen Bộ Công Thương": {
            "code": "BK_BO_CONG_THUONG",
            "collective": 9,
            "individual": 35,
        },
        "Kỷ niệm chương Vì sự phát triển ngành Công Thương": {
            "code": "KNC_PHAT_TRIEN_NGANH_CONG_THUONG",
            "collective": 0,
            "individual": 39,
        },
        "Chiến sĩ thi đua cấp tỉnh": {"code": "CSTD_CAP_TINH", "collective": 0, "individual": 6},
        "Bằng khen UBND tỉnh": {"code": "BK_UBND_TINH", "collective": 36, "individual": 32},
    },
    "awards_collective_total": 47,
    "awards_individual_total": 112,
}


@dataclass(frozen=True)
class SampleTable:
    """One table of a sample file, as laid out on the sheet."""

    sheet_name: str
    title_lines: list[str]
    header_rows: list[list[str]]
    rows: list[list[object]]
    notes: list[str]
    merges: list[tuple[int, int, int, int, str]]

    @property
    def width(self) -> int:
        """Number of columns of the table."""
        return len(self.header_rows[0])

    @property
    def header_start(self) -> int:
        """0-based sheet row of the first header row."""
        return len(self.title_lines)

    @property
    def data_start(self) -> int:
        """0-based sheet row of the first data row."""
        return self.header_start + len(self.header_rows)

    @property
    def notes_start(self) -> int:
        """0-based sheet row of the first note (one blank row after the data)."""
        return self.data_start + len(self.rows) + 1


def _check_year(year: int) -> None:
    """Refuse years the samples do not cover."""
    if year not in SAMPLE_YEARS:
        raise ValueError(f"no sample data for year {year}; sample years are 2010-2015")


def _status(year: int) -> str:
    """Status word of a year's figures."""
    return "Ước đạt" if year in ESTIMATE_YEARS else "Chính thức"


def _title_lines(title: str, unit_line: str) -> list[str]:
    """Agency block, blank, title, unit line, blank."""
    return [*AGENCY_LINES, "", title, unit_line, ""]


def _notes(year: int) -> list[str]:
    """Notes under a table: the estimate note when relevant, then the signature."""
    notes = [f"Ghi chú: Số liệu năm {year} là số ước đạt."] if year in ESTIMATE_YEARS else []
    return [*notes, SIGNATURE]


def split_tenths(total: int, shares: Sequence[float]) -> list[int]:
    """Split an integer total by shares; the last part takes the remainder, so parts sum exactly."""
    parts = [round(total * share) for share in shares[:-1]]
    return [*parts, total - sum(parts)]


def format_vn_number(value: float, decimals: int = 1) -> str:
    """Write a number the Vietnamese way: dot thousands, decimal comma ("28.029,5")."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def _section_shares(year: int) -> list[float]:
    """Shares of sections B, C, D, E in the total (manufacturing slowly gaining)."""
    k = year - 2010
    b, c, d = 0.078 - 0.0026 * k, 0.758 + 0.0052 * k, 0.092 - 0.001 * k
    return [b, c, d, 1 - b - c - d]


def _ownership_shares(year: int) -> list[float]:
    """Shares of state, non-state and FDI in the total."""
    k = year - 2010
    state, non_state = 0.165 - 0.004 * k, 0.540 + 0.003 * k
    return [state, non_state, 1 - state - non_state]


def _industry_values(year: int) -> dict[str, tuple[int, int]]:
    """(current, constant) tenths for the total, each section and each ownership type."""
    current = TOTAL_CURRENT_TENTHS[year]
    constant = round(current / DEFLATOR[year])
    keys = ["total"] + [code for _, code, _ in SECTIONS] + [name for _, name in OWNERSHIPS]
    cur = [current, *split_tenths(current, _section_shares(year))]
    cur += split_tenths(current, _ownership_shares(year))
    con = [constant, *split_tenths(constant, _section_shares(year))]
    con += split_tenths(constant, _ownership_shares(year))
    return dict(zip(keys, zip(cur, con, strict=True), strict=True))


def _current_cell(tenths: int, year: int) -> object:
    """A current-price cell: text in Vietnamese format in the mixed year, a number otherwise."""
    if year == TEXT_NUMBER_YEAR:
        return format_vn_number(tenths / 10)
    return tenths / 10


def industrial_output_table(year: int) -> SampleTable:
    """Industrial output by VSIC section and ownership, current and constant 2010 prices."""
    _check_year(year)
    values = _industry_values(year)
    status = _status(year)
    labels = [("1", "", WHOLE_INDUSTRY, ALL_OWNERSHIPS, "total")]
    labels += [(stt, code, name, ALL_OWNERSHIPS, code) for stt, code, name in SECTIONS]
    labels += [(stt, "", WHOLE_INDUSTRY, owner, owner) for stt, owner in OWNERSHIPS]
    rows: list[list[object]] = []
    for stt, code, name, owner, key in labels:
        cur, con = values[key]
        rows.append([stt, year, code, name, owner, _current_cell(cur, year), con / 10, status])
    return SampleTable(
        sheet_name="Biểu 01",
        title_lines=_title_lines(
            f"GIÁ TRỊ SẢN XUẤT CÔNG NGHIỆP NĂM {year}", "Đơn vị tính: Tỷ đồng"
        ),
        header_rows=[list(INDUSTRY_HEADER)],
        rows=rows,
        notes=_notes(year),
        merges=[],
    )


def _trade_shares(flow: str, year: int) -> list[float]:
    """Shares of the commodity or service groups of a trade flow."""
    k = year - 2010
    if flow == EXPORTS:
        textiles, electronics, chemicals = 0.47 - 0.006 * k, 0.12 + 0.02 * k, 0.16 - 0.008 * k
        return [textiles, electronics, chemicals, 1 - textiles - electronics - chemicals]
    if flow == IMPORTS:
        inputs, machinery = 0.42 - 0.004 * k, 0.33 + 0.006 * k
        return [inputs, machinery, 1 - inputs - machinery]
    goods, lodging, travel = 0.79 - 0.004 * k, 0.105 + 0.002 * k, 0.008 + 0.0005 * k
    return [goods, lodging, travel, 1 - goods - lodging - travel]


def trade_table(year: int) -> SampleTable:
    """Exports and imports by commodity group, and retail sales by kind."""
    _check_year(year)
    status = _status(year)
    rows: list[list[object]] = []
    for roman, flow, unit, totals, groups in TRADE_FLOWS:
        total = totals[year]
        rows.append([roman, flow, "", unit, year, total / 10, status])
        parts = split_tenths(total, _trade_shares(flow, year))
        for number, (group, part) in enumerate(zip(groups, parts, strict=True), start=1):
            rows.append([str(number), flow, group, unit, year, part / 10, status])
    return SampleTable(
        sheet_name="Biểu 02",
        title_lines=_title_lines(
            f"KIM NGẠCH XUẤT KHẨU, NHẬP KHẨU VÀ TỔNG MỨC BÁN LẺ HÀNG HÓA NĂM {year}",
            "(Đơn vị tính ghi theo từng chỉ tiêu)",
        ),
        header_rows=[list(TRADE_HEADER)],
        rows=rows,
        notes=_notes(year),
        merges=[],
    )


def _count_cell(count: int, year: int) -> object:
    """A count as written: the integer, or a nil marker (blank in even years, "-" in odd)."""
    if count:
        return count
    return None if year % 2 == 0 else "-"


def _award_name(name: str, year: int) -> str:
    """Spelling as written: "Chiến sỹ" in odd years, "Chiến sĩ" in even years."""
    return name.replace("Chiến sĩ", "Chiến sỹ") if year % 2 else name


def awards_table(year: int) -> SampleTable:
    """Counts of the article's six awards given in a year, collectives and individuals."""
    _check_year(year)
    index = year - SAMPLE_YEARS.start
    rows: list[list[object]] = []
    for _code, name, level, counts in AWARD_ROWS:
        collective, individual = counts[index]
        if not (collective or individual):
            continue
        note = "Quyết định của Chủ tịch nước" if level == "Nhà nước" else None
        rows.append(
            [
                len(rows) + 1,
                _award_name(name, year),
                level,
                year,
                _count_cell(collective, year),
                _count_cell(individual, year),
                note,
            ]
        )
    return SampleTable(
        sheet_name="Biểu 03",
        title_lines=_title_lines(
            f"TỔNG HỢP KẾT QUẢ KHEN THƯỞNG NĂM {year}", "(Đơn vị tính: Số tập thể, số cá nhân)"
        ),
        header_rows=[list(row) for row in AWARDS_HEADER],
        rows=rows,
        notes=['Ghi chú: Ô trống hoặc dấu "-" là không có.', SIGNATURE],
        merges=list(AWARDS_MERGES),
    )


def _formats(wb: xlsxwriter.Workbook) -> dict[str, object]:
    """The few cell formats the samples use."""
    return {
        "agency": wb.add_format({"bold": True, "align": "center"}),
        "title": wb.add_format({"bold": True, "align": "center", "font_size": 13}),
        "unit": wb.add_format({"italic": True, "align": "center"}),
        "header": wb.add_format(
            {"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1}
        ),
        "text": wb.add_format({"border": 1}),
        "int": wb.add_format({"border": 1, "num_format": "0"}),
        "float": wb.add_format({"border": 1, "num_format": "#,##0.0"}),
        "note": wb.add_format({"italic": True}),
    }


def _write_title(ws, table: SampleTable, fmt: dict[str, object]) -> None:
    """Agency lines merged over three columns, title and unit line merged over the width."""
    agency_block = True
    for row, line in enumerate(table.title_lines):
        if not line:
            agency_block = False
            continue
        if agency_block:
            ws.merge_range(row, 0, row, min(2, table.width - 1), line, fmt["agency"])
        else:
            style = fmt["title"] if line.isupper() else fmt["unit"]
            ws.merge_range(row, 0, row, table.width - 1, line, style)


def _write_header(ws, table: SampleTable, fmt: dict[str, object]) -> None:
    """Header rows in bold, with the table's merges."""
    top = table.header_start
    covered = {
        (r, c)
        for r0, c0, r1, c1, _ in table.merges
        for r in range(r0, r1 + 1)
        for c in range(c0, c1 + 1)
    }
    for r, header in enumerate(table.header_rows):
        for c, text in enumerate(header):
            if (r, c) not in covered:
                ws.write_string(top + r, c, text, fmt["header"])
    for r0, c0, r1, c1, text in table.merges:
        ws.merge_range(top + r0, c0, top + r1, c1, text, fmt["header"])


def _write_cell(ws, row: int, col: int, value: object, fmt: dict[str, object]) -> None:
    """Write one data cell with the type it has; None leaves a bordered blank."""
    if value is None:
        ws.write_blank(row, col, None, fmt["text"])
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt["text"])
    elif isinstance(value, int):
        ws.write_number(row, col, value, fmt["int"])
    elif isinstance(value, float):
        ws.write_number(row, col, value, fmt["float"])
    else:
        raise TypeError(f"unsupported cell value {value!r}")


def _column_widths(table: SampleTable) -> list[int]:
    """Readable column widths from the longest header or data text, capped."""
    widths = [len(text) for text in table.header_rows[-1]]
    for line in [*table.header_rows, *table.rows]:
        for col, value in enumerate(line):
            shown = format_vn_number(value) if isinstance(value, float) else str(value or "")
            widths[col] = max(widths[col], len(shown))
    return [min(max(width + 2, 6), 50) for width in widths]


def _write_table(wb: xlsxwriter.Workbook, table: SampleTable, fmt: dict[str, object]) -> None:
    """One visible sheet: title, header, data, a blank row, notes."""
    ws = wb.add_worksheet(table.sheet_name)
    for col, width in enumerate(_column_widths(table)):
        ws.set_column(col, col, width)
    _write_title(ws, table, fmt)
    _write_header(ws, table, fmt)
    for offset, line in enumerate(table.rows):
        for col, value in enumerate(line):
            _write_cell(ws, table.data_start + offset, col, value, fmt)
    for offset, note in enumerate(table.notes):
        ws.write_string(table.notes_start + offset, 0, note, fmt["note"])


def _write_scratch(wb: xlsxwriter.Workbook) -> None:
    """A hidden scratch sheet with junk that a parser must ignore."""
    ws = wb.add_worksheet(HIDDEN_SHEET)
    ws.write_string(0, 0, "Nháp — không dùng để báo cáo")
    ws.write_string(1, 0, "Số cũ")
    ws.write_number(1, 1, 12345.6)
    ws.write_formula(1, 2, "=B2*2", None, 24691.2)
    ws.write_string(2, 0, "xem lại số liệu quý IV")
    ws.write_string(2, 2, "#N/A")
    ws.hide()


def write_xlsx(table: SampleTable, path: Path, extra_sheets: Iterable[SampleTable] = ()) -> Path:
    """Write a table (and any extra visible tables) to an xlsx file, plus a hidden scratch sheet."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": False})
    wb.set_properties({"created": CREATED, "author": "Sở Công Thương Phú Thọ"})
    fmt = _formats(wb)
    for sheet in (table, *extra_sheets):
        _write_table(wb, sheet, fmt)
    _write_scratch(wb)
    wb.close()
    return path


def _csv_text(value: object) -> str:
    """A cell as Excel in a Vietnamese locale exports it."""
    if value is None:
        return ""
    if isinstance(value, float):
        return format_vn_number(value)
    return str(value)


def write_csv(table: SampleTable, path: Path, delimiter: str = ";", bom: bool = True) -> Path:
    """Write a table as a CSV file like Excel saves it in a Vietnamese locale."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines: list[list[str]] = [[line] if line else [] for line in table.title_lines]
    lines += [list(header) for header in table.header_rows]
    lines += [[_csv_text(value) for value in row] for row in table.rows]
    lines += [[]] + [[note] for note in table.notes]
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        csv.writer(fh, delimiter=delimiter, lineterminator="\r\n").writerows(lines)
    return path


def sample_file_names(year: int) -> list[str]:
    """The three file names a year's samples are written to."""
    trade_ext = "csv" if year == CSV_TRADE_YEAR else "xlsx"
    return [
        f"{PROVINCE_SLUG}_{year}_gia-tri-sxcn.xlsx",
        f"{PROVINCE_SLUG}_{year}_thuong-mai.{trade_ext}",
        f"{PROVINCE_SLUG}_{year}_thi-dua-khen-thuong.xlsx",
    ]


def write_samples(dest: Path, years: Iterable[int] = SAMPLE_YEARS) -> list[Path]:
    """Write every sample file of the given years into dest; return their paths, sorted."""
    dest = Path(dest)
    paths: list[Path] = []
    for year in years:
        output_name, trade_name, awards_name = sample_file_names(year)
        paths.append(write_xlsx(industrial_output_table(year), dest / output_name))
        if trade_name.endswith(".csv"):
            paths.append(write_csv(trade_table(year), dest / trade_name))
        else:
            paths.append(write_xlsx(trade_table(year), dest / trade_name))
        paths.append(write_xlsx(awards_table(year), dest / awards_name))
    return sorted(paths)
