"""Vintages: an estimate replaced by a final figure adds a vintage; figures as of a date or a load; revisions."""

from __future__ import annotations

import pytest

from niengiam import samples
from tests.trust_helpers import output_table, query, run_ingest, total_current

ESTIMATE_2015 = samples.EXPECTED["industrial_output_2015_estimate"]
TOTAL = "dataset = 'industrial_output' and dimension_1 = 'TOTAL' and dimension_2 = 'TOTAL' and dimension_3 = 'current'"


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory):
    """One warehouse for the module: the two loads below are made once."""
    from flows.settings import load_settings

    return load_settings(env={}, home=tmp_path_factory.mktemp("vintages") / "home")


@pytest.fixture(scope="module")
def two_vintages(prefect_harness, settings, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """2015 loaded first as the demo's estimate, then as a final figure revised by +2 %."""
    tmp_path = tmp_path_factory.mktemp("vintage-files")
    name = "phu-tho_2015_gia-tri-sxcn.xlsx"
    estimate = samples.write_xlsx(samples.industrial_output_table(2015), tmp_path / "first" / name)
    final_table = output_table(2015, status="Chính thức", scale=1.02)
    final = samples.write_xlsx(final_table, tmp_path / "second" / name)
    first = run_ingest(settings, [estimate])
    second = run_ingest(settings, [final])
    assert [o.status for o in first + second] == ["loaded", "loaded"], [o.message for o in first + second]
    return {"first": first[0].load_id, "second": second[0].load_id, "final_total": total_current(final_table)}


def _loads(settings) -> dict[int, object]:
    return dict(query(settings, "select load_id, finished_at from meta.loads"))


def test_final_figure_adds_a_vintage_instead_of_overwriting(two_vintages, settings):
    rows = query(
        settings,
        "select status, value_bn_vnd, _load_id, _superseded_by is not null from core.fct_industrial_output"
        " where industry_code = 'TOTAL' and ownership_code = 'TOTAL' and price_basis = 'current' order by _loaded_at",
    )
    assert rows == [
        ("estimate", ESTIMATE_2015, two_vintages["first"], True),
        ("final", two_vintages["final_total"], two_vintages["second"], False),
    ]
    assert query(settings, "select count(*) from core.fct_industrial_output") == [(32,)]
    assert query(settings, "select count(*) from core.fct_industrial_output_current") == [(16,)]


def test_as_of_a_date_before_between_and_after_the_revision(two_vintages, settings):
    finished = _loads(settings)
    sql = f"select value, status, obs_status, load_id from reporting.observations_as_of(?) where {TOTAL}"
    first_done, second_done = finished[two_vintages["first"]], finished[two_vintages["second"]]
    before_any = query(settings, "select min(started_at) - interval 1 second from meta.loads")[0][0]
    assert query(settings, sql, [before_any]) == []
    assert query(settings, sql, [first_done]) == [(ESTIMATE_2015, "estimate", "E", two_vintages["first"])]
    assert query(settings, sql, [second_done]) == [
        (two_vintages["final_total"], "final", "A", two_vintages["second"])
    ]
    assert query(settings, "select count(*) from reporting.observations_as_of(?)", [first_done]) == [(16,)]
    assert query(settings, "select count(*) from reporting.observations_as_of(now())") == [(16,)]


def test_as_of_a_load(two_vintages, settings):
    sql = f"select value, obs_status from reporting.observations_as_of_load(?) where {TOTAL}"
    assert query(settings, sql, [two_vintages["first"]]) == [(ESTIMATE_2015, "E")]
    assert query(settings, sql, [two_vintages["second"]]) == [(two_vintages["final_total"], "A")]
    assert query(settings, sql, [999]) == []


def test_revisions_first_published_against_latest(two_vintages, settings):
    rows = query(
        settings,
        "select first_value, first_obs_status, latest_value, latest_obs_status, revision_abs, revision_pct,"
        f" vintages, first_load_id, latest_load_id, is_withdrawn from reporting.rpt_revisions where {TOTAL}",
    )
    final_total = two_vintages["final_total"]
    assert rows == [
        (ESTIMATE_2015, "E", final_total, "A", round(final_total - ESTIMATE_2015, 6),
         round((final_total / ESTIMATE_2015 - 1) * 100, 2), 2, two_vintages["first"], two_vintages["second"], False)
    ]
    assert query(settings, "select count(*) from reporting.rpt_revisions") == [(16,)]


def test_every_vintage_keeps_value_status_load_and_time(two_vintages, settings):
    rows = query(
        settings,
        "select count(*), count(distinct load_id), count(loaded_at), count(superseded_at),"
        " list(distinct obs_status order by obs_status), list(distinct status_name_vi order by status_name_vi)"
        " from reporting.observation_vintages",
    )
    assert rows == [(32, 2, 32, 16, ["A", "E"], ["Chính thức", "Ước tính"])]
