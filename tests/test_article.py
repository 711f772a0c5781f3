"""The warehouse reproduces the article of the Phú Thọ Department of Industry and Trade (seed/000_…txt)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from flows.ingest import ingest

ARTICLE_AWARDS = {
    # award as the article writes it: (collectives, individuals)
    "Huân chương Lao động hạng Nhất": (1, 0),
    "Cờ thi đua Bộ Công Thương": (1, 0),
    "Bằng khen Bộ Công Thương": (9, 35),
    "Kỷ niệm chương Vì sự phát triển ngành Công Thương": (0, 39),
    "Chiến sĩ thi đua cấp tỉnh": (0, 6),
    "Bằng khen UBND tỉnh": (36, 32),
}


@pytest.fixture(scope="module")
def warehouse(prefect_harness, sample_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """A warehouse filled with the 18 sample files through the real flow."""
    from flows.settings import load_settings

    settings = load_settings(env={}, home=tmp_path_factory.mktemp("article"))
    files = [str(p) for p in sorted(sample_dir.iterdir())]
    outcomes = ingest(files, settings, progress=False, return_state=True).result(raise_on_failure=False)
    assert {o.status for o in outcomes} == {"loaded"}
    con = duckdb.connect(str(settings.database), read_only=True)
    yield con
    con.close()


def _output(con, year: int) -> tuple[float, str]:
    return con.execute(
        "select value_bn_vnd, status from reporting.rpt_industrial_output_by_year"
        " where province_code = '25' and reference_year = ?",
        [year],
    ).fetchone()


def test_output_2014_and_growth_since_2011(warehouse) -> None:
    v2014, status = _output(warehouse, 2014)
    v2011, _ = _output(warehouse, 2011)
    assert v2014 == pytest.approx(28029.5) and status == "final"
    assert round((v2014 / v2011 - 1) * 100, 1) == 13.2


def test_average_growth_2010_2015_and_2015_estimate(warehouse) -> None:
    v2010, _ = _output(warehouse, 2010)
    v2015, status = _output(warehouse, 2015)
    assert v2015 == pytest.approx(30618.0) and status == "estimate"
    assert round(((v2015 / v2010) ** (1 / 5) - 1) * 100, 1) == 5.6


def test_yoy_growth_column_is_consistent(warehouse) -> None:
    rows = warehouse.execute(
        "select reference_year, value_bn_vnd, yoy_growth_pct from reporting.rpt_industrial_output_by_year"
        " order by reference_year"
    ).fetchall()
    assert rows[0][2] is None
    for (_, previous, _), (_, value, growth) in zip(rows, rows[1:]):
        assert growth == pytest.approx(round((value / previous - 1) * 100, 2))


def test_awards_table_of_the_article(warehouse) -> None:
    rows = warehouse.execute(
        "select award_name, recipient_kind, sum(award_count) from reporting.rpt_awards"
        " where reference_year between 2010 and 2015 group by all"
    ).fetchall()
    found: dict[str, list[int]] = {}
    for name, kind, count in rows:
        found.setdefault(name, [0, 0])[0 if kind == "collective" else 1] += int(count)
    assert {k: tuple(v) for k, v in found.items()} == ARTICLE_AWARDS
    assert sum(c for c, _ in ARTICLE_AWARDS.values()) == 47
    assert sum(i for _, i in ARTICLE_AWARDS.values()) == 112


def test_award_levels_come_from_the_catalogue(warehouse) -> None:
    levels = dict(warehouse.execute("select distinct award_name, award_level from reporting.rpt_awards").fetchall())
    assert levels["Huân chương Lao động hạng Nhất"] == "state"
    assert levels["Bằng khen Bộ Công Thương"] == "ministry"
    assert levels["Chiến sĩ thi đua cấp tỉnh"] == "province"


def test_every_observation_points_at_its_source_cell(warehouse) -> None:
    missing = warehouse.execute(
        "select count(*) from reporting.observations"
        " where source_file is null or source_sheet is null or source_cell is null or load_id is null"
    ).fetchone()[0]
    assert missing == 0
    cell = warehouse.execute(
        "select source_file, source_sheet, source_cell from reporting.observations"
        " where dataset = 'industrial_output' and reference_year = 2014 and dimension_1 = 'TOTAL'"
        " and dimension_2 = 'TOTAL' and dimension_3 = 'current'"
    ).fetchone()
    assert cell == ("phu-tho_2014_gia-tri-sxcn.xlsx", "Biểu 01", "F8")
