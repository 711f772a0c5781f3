"""Pure parts of the report: number formatting, labels, SVG charts, the report model, sheet names."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from niengiam.labels import codes, format_number, label, text
from niengiam.report_html import render_html
from niengiam.report_model import Chart, Column, Series, build_report, cell_text, weakest_status
from niengiam.report_svg import axis_range, nice_step, render_chart
from niengiam.report_xlsx import sheet_name, write_report_workbook
from schemas.numbers import parse_number


@pytest.mark.parametrize(("value", "decimals", "lang", "written"), [
    (28029.5, 1, "vi", "28.029,5"),
    (28029.5, 1, "en", "28,029.5"),
    (30618, 1, "vi", "30.618,0"),
    (1313, 0, "vi", "1.313"),
    (-3.14159, 2, "vi", "-3,14"),
    (None, 1, "vi", ""),
    (float("nan"), 1, "en", ""),
])
def test_format_number(value, decimals, lang, written):
    assert format_number(value, decimals, lang) == written


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), st.integers(0, 3), st.sampled_from(["vi", "en"]))
def test_numbers_written_in_either_language_read_back(value, decimals, lang):
    written = format_number(value, decimals, lang)
    parsed = parse_number(written, decimal="," if lang == "vi" else ".")
    assert parsed.value == pytest.approx(round(value, decimals), abs=10 ** -decimals)


def test_labels_come_from_the_catalogues_and_labels_csv():
    assert label("status", "estimate", "vi") == "Ước tính"
    assert label("status", "estimate", "en") == "Estimate"
    assert label("award", "BK_UBND_TINH", "en") == "Certificate of Merit of the Provincial People's Committee"
    assert label("industry", "C", "vi") == "Công nghiệp chế biến, chế tạo"
    assert label("recipient_kind", "collective", "vi") == "Tập thể"
    assert label("award_level", "ministry", "en") == "Ministry"
    assert label("dataset", "trade", "vi") == "Thương mại"
    assert label("state", "missing", "vi") == "thiếu"
    assert label("column", "no_such_column", "en") == "no_such_column"
    assert codes("dataset") == ["industrial_output", "trade", "awards", "iip", "indicators"]
    assert text("growth_short", "vi", growth="9,2") == "9,2 % so với năm trước"
    with pytest.raises(ValueError, match="unknown language"):
        label("status", "final", "fr")


def test_every_text_has_both_languages_and_the_same_placeholders():
    import csv
    from importlib import resources

    with (resources.files("schemas") / "catalogs" / "labels.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    keys = [(r["kind"], r["code"]) for r in rows]
    assert len(keys) == len(set(keys))
    for row in rows:
        assert row["name_vi"] and row["name_en"], row
        assert set(re.findall(r"{(\w+)}", row["name_vi"])) == set(re.findall(r"{(\w+)}", row["name_en"])), row


@pytest.mark.parametrize(("span", "step"), [(30618, 10000), (905, 200), (9.23, 2), (36, 10), (0.4, 0.1)])
def test_nice_steps(span, step):
    assert nice_step(span) == pytest.approx(step)


def test_axis_range_starts_at_zero_and_covers_negatives():
    assert axis_range([23316.4, 30618.0]) == (0, 40000, 10000)
    low, high, step = axis_range([-3.0, 9.2])
    assert low <= -3 and high >= 9.2 and math.isclose((high - low) / step, round((high - low) / step))


def _chart(kind="bar", statuses=("final", "estimate")):
    return Chart("c", "Title", kind, ["2014", "2015"], [Series("Output", [28029.5, 30618.0], list(statuses))],
                 unit="Tỷ đồng")


def test_bars_are_valid_svg_with_estimates_hatched_and_tooltips():
    svg = render_chart(_chart(), "vi")
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    bars = root.findall(".//s:rect[@class='mark bar']", ns)
    assert [b.get("data-status") for b in bars] == ["final", "estimate"]
    assert bars[0].get("fill").startswith("#") and bars[1].get("fill") == "url(#c-hatch-0)"
    assert bars[1].find("s:title", ns).text == "2015 · Output: 30.618,0 Tỷ đồng · Ước tính"
    assert float(bars[1].get("height")) > float(bars[0].get("height")) > 0
    assert "Ước tính" in [t.text for t in root.findall(".//s:text", ns)]  # legend names the hatching


def test_lines_skip_missing_values_and_hollow_estimates():
    chart = Chart("g", "Growth", "line", ["2010", "2011", "2012"],
                  [Series("%", [None, 6.2, 9.23], [None, "final", "estimate"])], unit="%")
    root = ET.fromstring(render_chart(chart, "en"))
    ns = {"s": "http://www.w3.org/2000/svg"}
    points = root.findall(".//s:circle", ns)
    assert len(points) == 2
    assert points[1].get("fill") == "#fff"
    assert len(root.find(".//s:polyline", ns).get("points").split()) == 2


def test_stacked_bars_stack():
    chart = Chart("a", "Awards", "stacked", ["Ministry"], [Series("Collectives", [9], ["final"]),
                                                           Series("Individuals", [35], ["final"])], decimals=0)
    root = ET.fromstring(render_chart(chart, "en"))
    ns = {"s": "http://www.w3.org/2000/svg"}
    first, second = root.findall(".//s:rect[@class='mark bar']", ns)
    assert float(second.get("y")) + float(second.get("height")) == pytest.approx(float(first.get("y")), abs=0.2)


def test_an_empty_chart_says_so():
    empty = Chart("e", "Nothing", "bar", [], [])
    assert render_chart(empty, "vi") == '<p class="chart empty" data-chart="e">Chưa có số liệu.</p>'


def test_sheet_names_are_legal_and_unique():
    taken: set[str] = set()
    first = sheet_name("Cơ cấu giá trị sản xuất công nghiệp năm 2015 theo ngành", taken)
    second = sheet_name("Cơ cấu giá trị sản xuất công nghiệp năm 2015 theo thành phần", taken)
    assert len(first) <= 31 and len(second) <= 31 and first != second
    assert sheet_name("a/b:c?[d]", taken) == "a b c  d"


def test_weakest_status_and_cells():
    assert weakest_status(["final", "estimate", "preliminary"]) == "estimate"
    assert weakest_status([None]) is None
    assert cell_text(Column("s", "S", "status"), "preliminary", "vi") == "Sơ bộ"
    assert cell_text(Column("p", "P", "percent"), 4.97, "vi") == "5,0"


def test_a_report_without_figures_for_a_part_still_builds(tmp_path):
    data = {key: [] for key in ("industrial_by_year", "industrial_structure", "trade_by_year", "awards",
                                "awards_by_level", "sources", "revisions", "period_growth")}
    report = build_report(data, "25", 2015, 2010, 2015, "en")
    assert report.title == "Industry and Trade statistics report 2015 — Phu Tho"
    assert report.highlights == []
    assert report.sections[0].paragraphs == ["No figures for 2015 yet."]
    assert "No figure of this period changed since it was first published." in report.notes
    assert render_html(report).count('class="chart empty"') == 5
    write_report_workbook(tmp_path / "empty.xlsx", report)
    assert (tmp_path / "empty.xlsx").stat().st_size > 0
