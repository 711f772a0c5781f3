"""A revised year (the 2015 estimate sent again as final figures) shows in the report, vintages and status."""

from __future__ import annotations

import pytest
from python_calamine import CalamineWorkbook

from tests.analyst_helpers import cli, revised_output_file
from warehouse.query import run_query

pytest_plugins = ["tests.analyst_fixtures"]

pytestmark = pytest.mark.slow


@pytest.fixture
def revised(warehouse_copy, tmp_path):
    """The demo warehouse plus the final 2015 industrial output (every value +1 %)."""
    from flows.commands_ingest import run_ingest

    outcomes = run_ingest(warehouse_copy, [revised_output_file(tmp_path / "inbox")], None, progress=False)
    assert [o.status for o in outcomes] == ["loaded"]
    return warehouse_copy


def test_both_vintages_are_kept(revised):
    columns, rows = run_query(
        revised.database,
        "select value, status, obs_status, superseded_at is null as is_current from reporting.observation_vintages"
        " where dataset = 'industrial_output' and reference_year = 2015 and dimension_1 = 'TOTAL'"
        " and dimension_2 = 'TOTAL' and dimension_3 = 'current' order by loaded_at",
    )
    assert rows == [(30618.0, "estimate", "E", False), (round(30618.0 * 1.01, 1), "final", "A", True)]


def test_the_report_lists_the_revision(revised, tmp_path):
    result = cli("report", "--home", str(revised.home), "--year", "2015", "--output", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "16 revised" in result.stdout  # every 2015 industrial figure changed
    html = (tmp_path / "report-2015-vi.html").read_text(encoding="utf-8")
    assert ">30.924,2</td>" in html  # 30.618,0 × 1,01
    revisions = html[html.index('<section id="revisions">'):html.index('<section id="notes">')]
    assert "30.618,0" in revisions and "30.924,2" in revisions and "1,0" in revisions
    book = CalamineWorkbook.from_path(str(tmp_path / "report-2015-vi.xlsx"))
    sheet = book.get_sheet_by_name("Điều chỉnh").to_python()
    total = next(r for r in sheet[3:] if r[2] == "TOTAL / TOTAL / current")
    assert total[:8] == ["Giá trị sản xuất công nghiệp", 2015, "TOTAL / TOTAL / current", 30618.0, "Ước tính",
                         30924.2, "Chính thức", pytest.approx(306.2)]
    notes = book.get_sheet_by_name("Ghi chú").to_python()
    assert any("30.618,0 (Ước tính) → 30.924,2 (Chính thức)" in str(r[1]) for r in notes if len(r) > 1)


def test_status_shows_the_year_as_final_now(revised):
    result = cli("status", "--home", str(revised.home), "--matrix", "--lang", "en")
    assert result.exit_code == 0
    output = next(line for line in result.stdout.splitlines() if line.startswith("Industrial output"))
    assert output.split()[2:8] == ["final"] * 6
