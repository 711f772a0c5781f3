"""'niengiam inspect': what a workbook holds, and a starting spec that loads the sheet it was written for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import xlsxwriter
import xlwt
from click.testing import CliRunner

from flows.cli import main
from schemas.encodings import encode_tcvn3
from schemas.grid import read_workbook
from schemas.parse import ParseContext
from schemas.pipeline import parse_file, validate_file
from schemas.specs import load_specs


def write_book(path: Path) -> Path:
    """A legacy .xls with a TCVN3 title, a two-row header, labels in two columns and a hidden sheet."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Biểu 02")
    sheet.write(0, 0, encode_tcvn3("Kim ngạch xuất khẩu tỉnh Phú Thọ"))
    sheet.write(1, 3, encode_tcvn3("Triệu USD"))
    sheet.write(2, 2, encode_tcvn3("Năm 2014"))
    sheet.write(2, 3, encode_tcvn3("Ước tính"))
    sheet.write(3, 3, encode_tcvn3("năm 2015"))
    sheet.write(4, 0, encode_tcvn3("Tổng số"))
    sheet.write(4, 2, 812.5)
    sheet.write(4, 3, 901.0)
    sheet.write(5, 1, encode_tcvn3("Hàng dệt may"))
    sheet.write(5, 2, 300.0)
    sheet.write(5, 3, "320,5")
    hidden = book.add_sheet("Nháp")
    hidden.write(0, 0, 1.0)
    hidden.visibility = 1
    book.save(str(path))
    return path


def test_inspect_report(tmp_path: Path) -> None:
    """Sheets (hidden marked), title and header decoded from TCVN3, header band, columns, first rows."""
    path = write_book(tmp_path / "xk.xls")
    result = CliRunner().invoke(main, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "sheet 'Biểu 02': 6 rows × 4 columns" in out
    assert "sheet 'Nháp'  [hidden]" in out
    assert "title: Kim ngạch xuất khẩu tỉnh Phú Thọ" in out
    assert "unit cell D2: Triệu USD" in out
    assert "header band: rows 3–4; labels in column(s) A, B; data from row 5" in out
    assert "column D: 'Ước tính năm 2015'  → period Y 2015; status estimate" in out
    assert "row 6: · | Hàng dệt may | 300 | 320,5" in out


def test_write_spec_then_ingest_with_it(tmp_path: Path) -> None:
    """The starting spec, saved in a layouts folder, reads the sheet into the indicators dataset."""
    path = write_book(tmp_path / "xk.xls")
    spec_file = tmp_path / "layouts" / "xk.toml"
    result = CliRunner().invoke(main, ["inspect", str(path), "--write-spec", "Biểu 02", "-o", str(spec_file)])
    assert result.exit_code == 0, result.output
    text = spec_file.read_text(encoding="utf-8")
    assert 'dataset = "indicators"' in text and "[[fingerprint]]" in text and "'nam {year}'," in text
    book = read_workbook(path)
    parsed = parse_file(book, load_specs((spec_file.parent,)), ParseContext("xk.xls"))
    assert parsed.specs == ["local/bieu-02@v1"]
    validated = validate_file(parsed)
    assert not validated.errors, validated.errors
    frame = validated.frames["indicators"].set_index("_source_cell")
    assert frame.loc["D6", ["value", "status", "reference_year", "dimension_path", "province_code"]].tolist() == [
        320.5, "estimate", 2015, "Tổng số > Hàng dệt may", "25"]


def test_written_spec_refuses_a_changed_layout(tmp_path: Path) -> None:
    """The fingerprint in the starting spec refuses next year's file if a column was added."""
    path = write_book(tmp_path / "xk.xls")
    spec_file = tmp_path / "layouts" / "xk.toml"
    CliRunner().invoke(main, ["inspect", str(path), "--write-spec", "Biểu 02", "-o", str(spec_file)])
    changed = tmp_path / "xk2.xlsx"
    book = xlsxwriter.Workbook(str(changed))
    sheet = book.add_worksheet("Biểu 02")
    sheet.write("A1", "Kim ngạch xuất khẩu tỉnh Phú Thọ")
    sheet.write_row("C3", ["Năm 2015", "Ước tính", "Kế hoạch"])
    sheet.write_row("C4", [None, "năm 2016", "năm 2017"])
    sheet.write_row("A5", ["Tổng số", None, 901.0, 950.0, 1000.0])
    book.close()
    result = CliRunner().invoke(main, ["inspect", str(changed)])
    assert result.exit_code == 0
    from schemas.errors import UnknownLayoutError

    try:
        parse_file(read_workbook(changed), load_specs((spec_file.parent,)), ParseContext("xk2.xlsx"))
    except UnknownLayoutError as exc:
        assert "unexpected column E: 'ke hoach nam {year}'" in exc.details
    else:
        raise AssertionError("a changed layout was not refused")


def test_user_mistakes_are_one_sentence(tmp_path: Path) -> None:
    """A missing file or sheet: one clear sentence, exit code 2, no traceback."""
    runner = CliRunner()
    missing = runner.invoke(main, ["inspect", str(tmp_path / "nope.xlsx")])
    assert missing.exit_code == 2 and "no such file" in missing.output and "Traceback" not in missing.output
    path = write_book(tmp_path / "xk.xls")
    no_sheet = runner.invoke(main, ["inspect", str(path), "--write-spec", "Sheet9"])
    assert no_sheet.exit_code == 2 and "the file has no sheet 'Sheet9'" in no_sheet.output
    assert "Biểu 02, Nháp" in no_sheet.output


def test_inspect_does_not_import_prefect(tmp_path: Path) -> None:
    """inspect reads files only: running it does not pull in Prefect."""
    path = write_book(tmp_path / "xk.xls")
    code = ("import sys; from flows.cli import main; main(['inspect', sys.argv[1]], standalone_mode=False);"
            " print('prefect loaded:', 'prefect' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).parents[1])
    assert "title: Kim ngạch xuất khẩu" in result.stdout
    assert result.stdout.strip().endswith("prefect loaded: False")


def test_help_ends_with_an_example() -> None:
    """The command's help shows an example."""
    result = CliRunner().invoke(main, ["inspect", "--help"])
    assert "Example: niengiam inspect" in result.output
