"""Quarantine round trip: a rejected workbook exported with its bad cells highlighted and commented in
Vietnamese and English, corrected, ingested again and linked to the rejected load in the ledger."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from niengiam import samples
from schemas.annotate import SUMMARY_SHEET, comment_text, sheet_title, write_annotated
from schemas.grid import Sheet, Workbook, read_workbook
from schemas.parse import ParseContext
from schemas.pipeline import parse_file, read_file, validate_file
from schemas.specs import load_specs
from tests.trust_helpers import output_table, query, run_ingest

NAME = "phu-tho_2014_gia-tri-sxcn.xlsx"
PROBLEMS = [
    {"sheet": "Data", "cell": "B2", "column": "value", "value": "abc", "rule": "number", "severity": "error",
     "message": "'abc' is not a number", "message_vi": "'abc' không phải là số"},
    {"sheet": "Data", "cell": "B3", "column": "value", "value": "9", "rule": "yoy_plausible", "severity": "warning",
     "message": "changes by 80 %", "message_vi": "thay đổi 80 %"},
    {"sheet": None, "cell": None, "column": None, "value": None, "rule": "table", "severity": "error",
     "message": "no year", "message_vi": "không có năm"},
]


def _cli(*args: str):
    from flows.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# --- the annotated workbook (pure) ------------------------------------------------------------------


def test_sheet_titles_are_valid_and_unique():
    assert sheet_title("Biểu 01") == "Biểu 01"
    assert sheet_title("a/b:c*d?[e]") == "a_b_c_d__e_"
    assert sheet_title("x" * 40) == "x" * 31
    assert sheet_title("Data", ["data"]) == "Data~2"


def test_comment_carries_vietnamese_then_english():
    text = comment_text(PROBLEMS[:2])
    assert text.index("Lỗi: 'abc' không phải là số") < text.index("Error: 'abc' is not a number")
    assert "Cảnh báo: thay đổi 80 %" in text and "Warning: changes by 80 %" in text


def test_annotated_copy_keeps_values_and_marks_bad_cells(tmp_path):
    data = Sheet("Data", [["Năm", "Giá trị", "Ngày"], [2014, "abc", dt.datetime(2016, 1, 15)], [2015, 9.5, True]],
                 merges=[(0, 0, 0, 0)])
    scratch = Sheet("Nháp", [["x"]], hidden=True)
    path = write_annotated(Workbook("f.xlsx", "zip", [data, scratch]), PROBLEMS, tmp_path / "f.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [SUMMARY_SHEET, "Data", "Nháp"]
    assert book["Nháp"].sheet_state == "hidden"
    ws = book["Data"]
    assert [[c.value for c in row] for row in ws.iter_rows()] == [
        ["Năm", "Giá trị", "Ngày"], [2014, "abc", dt.datetime(2016, 1, 15)], [2015, 9.5, True]]
    assert ws["B2"].fill.fgColor.rgb.endswith("FFC7CE") and ws["B3"].fill.fgColor.rgb.endswith("FFEB9C")
    assert ws["A2"].fill.fgColor.rgb in ("00000000", None)
    assert "Lỗi: 'abc' không phải là số" in ws["B2"].comment.text and "Error:" in ws["B2"].comment.text
    assert ws["A2"].comment is None
    summary = [[c.value for c in row] for row in book[SUMMARY_SHEET].iter_rows(min_row=5)]
    assert [(r[0], r[1], r[2], r[5]) for r in summary] == [
        ("Lỗi / Error", "Data", "B2", "number"), ("Cảnh báo / Warning", "Data", "B3", "yoy_plausible"),
        ("Lỗi / Error", "", "", "table")]
    assert book[SUMMARY_SHEET]["C5"].hyperlink.location == "'Data'!B2"


def test_a_csv_file_is_annotated_as_a_workbook(tmp_path):
    original = samples.write_csv(samples.trade_table(2010), tmp_path / "phu-tho_2010_thuong-mai.csv")
    book = read_workbook(original)
    sheet = book.sheets[0].name
    problem = {**PROBLEMS[0], "sheet": sheet, "cell": "F8"}
    annotated = write_annotated(book, [problem], tmp_path / "phu-tho_2010_thuong-mai.xlsx")
    ws = openpyxl.load_workbook(annotated)[sheet_title(sheet)]
    assert ws["F8"].comment is not None and ws["F8"].value == book.sheets[0].rows[7][5]
    assert ws["A4"].value == book.sheets[0].rows[3][0]


def test_annotated_copy_of_a_sample_parses_to_the_same_figures(tmp_path):
    original = samples.write_xlsx(samples.awards_table(2013), tmp_path / "original" / "awards.xlsx")
    annotated = write_annotated(read_workbook(original), PROBLEMS, tmp_path / "annotated" / "awards.xlsx")
    frames = []
    for path in (original, annotated):
        parsed = parse_file(read_file(path, path.name), load_specs(), ParseContext(path.name))
        frames.append(validate_file(parsed).frames["awards"])
    assert frames[0].drop(columns=["_source_row"]).equals(frames[1].drop(columns=["_source_row"]))


# --- the round trip through the flow and the CLI --------------------------------------------------


@pytest.fixture(scope="module")
def rejected(prefect_harness, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The 2014 output file with a wrong total (F8) and a word instead of a number (G9), rejected."""
    from flows.settings import load_settings

    folder = tmp_path_factory.mktemp("quarantine-files")
    settings = load_settings(env={}, home=tmp_path_factory.mktemp("quarantine") / "home")
    table = output_table(2014)
    table.rows[0][5] = table.rows[0][5] + 100
    table.rows[1][6] = "chưa có"
    path = samples.write_xlsx(table, folder / "sent" / NAME)
    outcomes = run_ingest(settings, [path])
    assert [o.status for o in outcomes] == ["rejected"]
    return {"settings": settings, "load_id": outcomes[0].load_id, "folder": folder}


@pytest.mark.slow
def test_export_writes_the_annotated_workbook(rejected):
    settings, load_id = rejected["settings"], rejected["load_id"]
    out = rejected["folder"] / "annotated" / NAME
    result = _cli("quarantine", "export", str(load_id), "--home", str(settings.home), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}: 2 problem(s), 2 marked on their cells" in result.output
    ws = openpyxl.load_workbook(out)["Biểu 01"]
    for cell, english, vietnamese in (("F8", "differs from the sum of its parts", "khác tổng các thành phần"),
                                      ("G9", "is not a number", "không phải là số")):
        assert ws[cell].fill.fgColor.rgb.endswith("FFC7CE"), cell
        assert english in ws[cell].comment.text and vietnamese in ws[cell].comment.text
    assert ws["A1"].value == "UBND TỈNH PHÚ THỌ" and ws["G9"].value == "chưa có"


@pytest.mark.slow
def test_default_output_keeps_the_file_name_under_home(rejected):
    settings, load_id = rejected["settings"], rejected["load_id"]
    result = _cli("quarantine", "export", str(load_id), "--home", str(settings.home))
    assert result.exit_code == 0, result.output
    assert (settings.home / "quarantine" / f"load-{load_id}" / NAME).is_file()


@pytest.mark.slow
def test_show_lists_the_problems(rejected):
    settings, load_id = rejected["settings"], rejected["load_id"]
    result = _cli("quarantine", "show", str(load_id), "--home", str(settings.home), "--format", "csv")
    assert result.exit_code == 0
    assert "error,Biểu 01,F8,total_equals_parts" in result.output and "error,Biểu 01,G9,number" in result.output


@pytest.mark.slow
def test_user_mistakes_give_one_sentence_and_exit_2(rejected):
    home = str(rejected["settings"].home)
    for args, text in ((["export", "999"], "there is no load 999"),
                       (["export", str(rejected["load_id"]), "--output", "x.csv"], "give a name ending in .xlsx")):
        result = _cli("quarantine", *args, "--home", home)
        assert result.exit_code == 2 and text in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_corrected_file_is_linked_to_the_rejected_load(rejected):
    settings, load_id, folder = rejected["settings"], rejected["load_id"], rejected["folder"]
    annotated = folder / "to-fix" / NAME
    assert _cli("quarantine", "export", str(load_id), "--home", str(settings.home), "--output",
                str(annotated)).exit_code == 0
    good = output_table(2014).rows
    book = openpyxl.load_workbook(annotated)
    book["Biểu 01"]["F8"] = good[0][5]
    book["Biểu 01"]["G9"] = good[1][6]
    corrected = folder / "corrected" / NAME
    corrected.parent.mkdir()
    book.save(corrected)
    other = shutil.copy(samples.write_xlsx(output_table(2013), folder / "x" / "other.xlsx"), folder / "other.xlsx")
    outcomes = run_ingest(settings, [Path(other), corrected])
    assert [o.status for o in outcomes] == ["loaded", "loaded"], [o.problems for o in outcomes]
    links = dict(query(settings, "select load_id, corrects_load_id from meta.loads"))
    assert links[outcomes[1].load_id] == load_id and links[outcomes[0].load_id] is None
    total = query(settings, "select value_bn_vnd from core.fct_industrial_output_current where reference_year = 2014"
                  " and industry_code = 'TOTAL' and ownership_code = 'TOTAL' and price_basis = 'current'")
    assert total == [(28029.5,)]


@pytest.mark.slow
def test_a_correction_in_the_same_run_as_the_rejected_file_is_linked(prefect_harness, tmp_path: Path) -> None:
    """The writer looks for corrections only once the ledger holds a rejected load: here it holds none
    when the run starts, and the first file of the run is the one rejected."""
    from flows.settings import load_settings

    settings = load_settings(env={}, home=tmp_path / "home")
    wrong = output_table(2014)
    wrong.rows[0][5] = wrong.rows[0][5] + 100
    sent = samples.write_xlsx(wrong, tmp_path / "a-sent" / NAME)
    fixed = samples.write_xlsx(output_table(2014), tmp_path / "b-fixed" / NAME)
    outcomes = run_ingest(settings, [sent, fixed])
    assert [o.status for o in outcomes] == ["rejected", "loaded"], [o.message for o in outcomes]
    links = dict(query(settings, "select load_id, corrects_load_id from meta.loads"))
    assert links == {outcomes[0].load_id: None, outcomes[1].load_id: outcomes[0].load_id}


@pytest.mark.parametrize("args", [["quarantine"], ["quarantine", "export"], ["quarantine", "show"]])
def test_help_ends_with_an_example(args):
    result = _cli(*args, "--help")
    assert result.exit_code == 0
    assert "Example: niengiam quarantine" in result.output
