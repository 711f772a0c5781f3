"""niengiam report on the demo warehouse: the HTML file and the Excel workbook, re-read and checked."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from niengiam import samples
from tests.analyst_helpers import cli

pytest_plugins = ["tests.analyst_fixtures"]


@pytest.fixture(scope="module")
def report_vi(demo_warehouse, tmp_path_factory) -> Path:
    """The Vietnamese report for 2015 over 2010–2015."""
    folder = tmp_path_factory.mktemp("report-vi")
    result = cli("report", "--database", str(demo_warehouse), "--year", "2015", "--period", "2010-2015",
                 "--output", str(folder))
    assert result.exit_code == 0, result.output
    assert "Report 2015 (2010–2015, vi)" in result.stdout
    return folder


def _sheets(path: Path) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def _row(rows: list[list], first: object) -> list:
    return next(r for r in rows if r and r[0] == first)


def test_html_is_one_self_contained_file(report_vi):
    html = (report_vi / "report-2015-vi.html").read_text(encoding="utf-8")
    assert list(report_vi.iterdir()) and {p.name for p in report_vi.iterdir()} == {
        "report-2015-vi.html", "report-2015-vi.xlsx"}
    external = re.findall(r"""(?:src|href)\s*=\s*["']?(?!#|data:)[^"'\s>]+""", html)
    assert external == []
    assert "<script" not in html
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", html)
    assert html.count('<svg class="chart"') == 5


def test_html_tables_use_vietnamese_numbers_and_show_statuses(report_vi):
    html = (report_vi / "report-2015-vi.html").read_text(encoding="utf-8")
    assert re.search(r'title="phu-tho_2014_gia-tri-sxcn.xlsx · Biểu 01 · F8">28\.029,5</td>', html)
    assert ">30.618,0</td>" in html
    assert 'class="status status-estimate">Ước tính</span>' in html
    assert 'class="status status-final">Chính thức</span>' in html
    assert "Bình quân giai đoạn 2010–2015 tăng 5,6 %/năm." in html
    assert 'data-status="estimate"' in html  # the 2015 bars are drawn as estimates
    assert "phu-tho_2010_thuong-mai.csv" in html  # sources list every file
    assert "Cấp Bộ" in html and "Tập thể" in html and "Cá nhân" in html


def test_excel_has_a_sheet_per_table_and_the_figures(report_vi):
    sheets = _sheets(report_vi / "report-2015-vi.xlsx")
    assert list(sheets) == ["SXCN theo năm", "SXCN theo ngành", "SXCN theo thành phần", "Thương mại",
                            "Khen thưởng", "Nguồn", "Điều chỉnh", "Ghi chú"]
    by_year = sheets["SXCN theo năm"]
    assert by_year[0][0] == "Giá trị sản xuất công nghiệp toàn ngành theo giá hiện hành"
    assert by_year[2] == ["Năm", "Giá trị (tỷ đồng)", "Tăng so với năm trước (%)", "Tình trạng"]
    assert _row(by_year, 2014) == [2014, 28029.5, 4.97, "Chính thức"]
    assert _row(by_year, 2015) == [2015, 30618.0, 9.23, "Ước tính"]
    awards = sheets["Khen thưởng"]
    sent = next(r for r in samples.awards_table(2015).rows if r[1] == "Bằng khen UBND tỉnh")  # the source file
    assert _row(awards, "Bằng khen UBND tỉnh")[1:] == ["Cấp tỉnh", sent[4], sent[5], "Chính thức"]
    assert sum(r[2] or 0 for r in awards[3:]) + sum(r[3] or 0 for r in awards[3:]) == sum(
        n for r in samples.awards_table(2015).rows for n in r[4:6] if isinstance(n, int))
    trade = sheets["Thương mại"]
    assert ["Xuất khẩu", 2015, 905.0, "Triệu USD", 17.46, "Ước tính"] in trade
    notes = sheets["Ghi chú"]
    assert any("phu-tho_2015_gia-tri-sxcn.xlsx" in str(row[1]) for row in notes if len(row) > 1)
    assert any("Ước tính (estimate)" in str(row[1]) for row in notes if len(row) > 1)


def test_excel_sheets_are_formatted(report_vi):
    with zipfile.ZipFile(report_vi / "report-2015-vi.xlsx") as book:
        styles = book.read("xl/styles.xml").decode()
        first = book.read("xl/worksheets/sheet1.xml").decode()
    assert 'formatCode="#,##0.0"' in styles
    assert '<pane ySplit="3" topLeftCell="A4" activePane="bottomLeft" state="frozen"/>' in first
    assert re.search(r'<col min="2" max="2" width="[\d.]+" customWidth="1"/>', first)
    assert "<autoFilter" in first


def test_the_english_report(demo_warehouse, tmp_path):
    result = cli("report", "--database", str(demo_warehouse), "--year", "2014", "--lang", "en",
                 "--output", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "(2010–2014, en)" in result.stdout  # default period: the five years before
    html = (tmp_path / "report-2014-en.html").read_text(encoding="utf-8")
    assert ">28,029.5</td>" in html
    assert "Industry and Trade statistics report 2014 — Phu Tho" in html
    sheets = _sheets(tmp_path / "report-2014-en.xlsx")
    assert "Output by year" in sheets and "Notes" in sheets
    sent = next(r for r in samples.awards_table(2014).rows if r[1] == "Bằng khen UBND tỉnh")
    assert _row(sheets["Awards"], "Certificate of Merit of the Provincial People's Committee")[1:] == [
        "Province", sent[4], sent[5], "Final"]


@pytest.mark.parametrize(("args", "message"), [
    (["--year", "2016"], "there are no figures for 2016 in the warehouse (years with figures: 2010–2015)"),
    (["--year", "2015", "--period", "2010..2015"], "--period '2010..2015' is not a range of years."),
    (["--year", "2015", "--period", "2010-2013"], "--year 2015 is outside --period 2010-2013"),
    (["--year", "2015", "--province", "Hà Giang"], "no figures for province 'Hà Giang' in the warehouse."),
])
def test_user_mistakes_are_one_sentence(demo_warehouse, tmp_path, args, message):
    result = cli("report", "--database", str(demo_warehouse), "--output", str(tmp_path), *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"niengiam: {message}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())
