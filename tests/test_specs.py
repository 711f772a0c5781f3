"""Layout specs (schemas.specs): the TOML language, its checks, shipped specs, fingerprints and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import xlsxwriter

from schemas.errors import DataError, UnknownLayoutError
from schemas.fingerprint import normalise
from schemas.grid import read_workbook
from schemas.parse import ParseContext, parse_workbook
from schemas.specs import SPEC_FORMAT_VERSION, builtin_specs, load_specs, parse_spec

MINIMAL = """
id = "test/minimal"
version = 3
format = 2
dataset = "indicators"
[sheet]
name_pattern = '^Biểu'
[fixed]
province_code = "25"
[[fingerprint]]
label_columns = 1
columns = ["nam {year}", "nam {year}"]
"""


def write_table(path: Path, headers: list[object], labels: int = 1) -> Path:
    """A one-sheet workbook: a title, one header row, two data rows."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Biểu 01")
    sheet.write("A1", "Giá trị sản xuất công nghiệp (Tỷ đồng)")
    sheet.write_row(2, labels, headers)
    sheet.write_row(3, 0, ["Tổng số"] * labels + [28029.5 + i for i in range(len(headers))])
    sheet.write_row(4, 0, ["Khai khoáng"] * labels + [1000.0 + i for i in range(len(headers))])
    book.close()
    return path


def test_builtin_specs_load() -> None:
    """Every shipped spec parses; the GSO and ABS ones are format 2 with fingerprints."""
    specs = {s.id: s for s in builtin_specs()}
    assert {"so-cong-thuong/awards", "gso/iip-monthly", "gso/exports-monthly", "gso/imports-monthly",
            "gso/retail-sales", "abs/environmental-economic-accounts", "abs/australian-industry-by-year",
            "abs/australian-industry-wide"} <= set(specs)
    for spec_id, spec in specs.items():
        if spec_id.startswith(("abs/",)):
            assert spec.structural and spec.fingerprints, spec_id


def test_spec_keys_are_read() -> None:
    """Format-2 keys: sheet pattern, fixed values, rows, routes, fingerprints."""
    spec = parse_spec(MINIMAL, "m.toml")
    assert spec.format == 2 and spec.structural and spec.version == 3
    assert spec.names_sheet("Biểu 01") and not spec.names_sheet("Sheet1")
    assert spec.fixed == {"province_code": "25"}
    assert spec.fingerprint_for("Biểu 01").columns == ("nam {year}", "nam {year}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('version = 1\ndataset = "x"', "lacks the key 'id'"),
        ('id = "a"\nversion = 1\ndataset = "x"\nformat = 99', f"reads up to {SPEC_FORMAT_VERSION}"),
        ('id = "a"\nversion = 1\ndataset = "x"\nformat = 2\n[sheet]\nname_pattern = "(["', "not a valid regular"),
        ('id = "a"\nversion = 1\ndataset = "x"\nformat = 2\n[rows]\nhierarchy = "diagonal"', "rows.hierarchy"),
        ('id = "a"\nversion = 1\ndataset = "x"', "names no measures"),
        ("id = ", "malformed"),
    ],
)
def test_bad_specs_are_refused_with_the_reason(text: str, message: str) -> None:
    """A spec that cannot work is refused when loaded, naming the file and what is wrong."""
    with pytest.raises(DataError, match=message) as info:
        parse_spec(text, "bad.toml")
    assert info.value.file == "bad.toml"


def test_user_specs_override_builtin(tmp_path: Path) -> None:
    """A spec in the user's folder wins over a shipped one with the same id."""
    (tmp_path / "iip.toml").write_text(
        (Path(__file__).parents[1] / "schemas/layouts/gso_iip.toml").read_text(encoding="utf-8").replace(
            "version = 1", "version = 7"), encoding="utf-8")
    specs = {s.id: s for s in load_specs((tmp_path,))}
    assert specs["gso/iip-monthly"].version == 7


def test_normalise_keeps_shape_not_numbers() -> None:
    """Years, fiscal years and other numbers become placeholders; text is folded."""
    assert normalise("Tháng 12 năm 2024") == "thang {n} nam {year}"
    assert normalise("2003–04") == normalise("2013-14") == "{fy}"


def test_matching_fingerprint_loads(tmp_path: Path) -> None:
    """Next year's file (other years, same layout) matches the recorded fingerprint."""
    book = read_workbook(write_table(tmp_path / "b.xlsx", ["Năm 2025", "Năm 2026"]))
    tables = parse_workbook(book, (parse_spec(MINIMAL, "m.toml"),), ParseContext("b.xlsx"))
    assert sum(len(t.frame) for t in tables) == 4


def test_deviating_header_is_refused_with_a_diff(tmp_path: Path) -> None:
    """A changed, an extra and a missing column are each named: expected, found, nearest."""
    spec_text = MINIMAL.replace('["nam {year}", "nam {year}"]',
                                '["nam {year}", "uoc tinh nam {year}", "ke hoach {year}"]')
    book = read_workbook(write_table(tmp_path / "b.xlsx", ["Năm 2024", "Ước tính năm 2025", "Kế hoạch 2026"]))
    spec = parse_spec(spec_text, "m.toml")
    parse_workbook(book, (spec,), ParseContext("b.xlsx"))  # the same layout: accepted

    changed = read_workbook(write_table(tmp_path / "c.xlsx", ["Năm 2024", "Sơ bộ năm 2025", "Kế hoạch 2026",
                                                               "Ghi chú"]))
    with pytest.raises(UnknownLayoutError) as info:
        parse_workbook(changed, (spec,), ParseContext("c.xlsx"))
    error = info.value
    assert error.sheet == "Biểu 01" and error.cell == "B3"
    assert "not the layout that spec 'test/minimal' v3 expects" in error.message
    details = "\n".join(error.details)
    assert "column C: expected 'uoc tinh nam {year}', found 'so bo nam {year}'" in details
    assert "unexpected column E: 'ghi chu'" in details


def test_missing_column_names_the_nearest(tmp_path: Path) -> None:
    """A column that is gone is reported with the nearest column found."""
    book = read_workbook(write_table(tmp_path / "b.xlsx", ["Năm 2024"]))
    with pytest.raises(UnknownLayoutError) as info:
        parse_workbook(book, (parse_spec(MINIMAL, "m.toml"),), ParseContext("b.xlsx"))
    assert any(line.startswith("missing column 'nam {year}' (nearest is column B") for line in info.value.details)


def test_label_columns_are_part_of_the_fingerprint(tmp_path: Path) -> None:
    """Labels moved into two columns are a different layout."""
    book = read_workbook(write_table(tmp_path / "b.xlsx", ["Năm 2024", "Năm 2025"], labels=2))
    with pytest.raises(UnknownLayoutError) as info:
        parse_workbook(book, (parse_spec(MINIMAL, "m.toml"),), ParseContext("b.xlsx"))
    assert "expected 1 label column(s), found 2 (A, B)" in info.value.details


def test_unknown_workbook_lists_what_was_found(tmp_path: Path) -> None:
    """A workbook no spec knows is refused naming its sheets and the nearest spec's missing columns."""
    path = tmp_path / "other.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Data").write_row(0, 0, ["Ngành", "Giá trị"])
    book.worksheets()[0].write_row(1, 0, ["Tổng", 1.0])
    hidden = book.add_worksheet("Nháp")
    hidden.hide()
    book.close()
    with pytest.raises(UnknownLayoutError) as info:
        parse_workbook(read_workbook(path), builtin_specs(), ParseContext("other.xlsx"))
    details = " ".join(info.value.details)
    assert "sheets in the file: 'Data', 'Nháp' (hidden)" in details
    assert "nearest is spec" in info.value.message


def test_renamed_sheet_is_pointed_out(tmp_path: Path) -> None:
    """A GSO table whose sheet was renamed is found by its title and the rename is reported."""
    path = tmp_path / "renamed.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("IIP")
    sheet.write("A1", "10. Chỉ số sản xuất công nghiệp tháng 12 và cả năm 2024")
    book.close()
    specs = tuple(s for s in builtin_specs() if s.id == "gso/iip-monthly")
    with pytest.raises(UnknownLayoutError) as info:
        parse_workbook(read_workbook(path), specs, ParseContext("renamed.xlsx"))
    assert any("sheet 'IIP' has the title it expects" in line for line in info.value.details)
