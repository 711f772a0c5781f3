"""Reporting views on an in-memory DuckDB: rows in, rows out."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from warehouse import db, load

LINEAGE = "'sha', 'Biểu 01', 'F8', current_timestamp"


@pytest.fixture
def con():
    connection = duckdb.connect(":memory:")
    db.migrate(connection)
    load.refresh_dimensions(connection)
    db.rebuild_views(connection)
    yield connection
    connection.close()


def _output(con, year: int, value: float, status: str = "final", load_id: int = 1, industry: str = "TOTAL") -> None:
    con.execute(
        "insert into core.fct_industrial_output (province_code, reference_year, industry_code, ownership_code,"
        " price_basis, value_bn_vnd, status, _load_id, _source_file_sha256, _source_sheet, _source_cell, _loaded_at)"
        f" values ('25', ?, ?, 'TOTAL', 'current', ?, ?, ?, {LINEAGE})",
        [year, industry, value, status, load_id],
    )


def test_output_by_year_has_growth_only_for_consecutive_years(con) -> None:
    _output(con, 2010, 100.0)
    _output(con, 2011, 110.0)
    _output(con, 2013, 121.0, "estimate")
    _output(con, 2011, 999.0, industry="C")  # not the total: not in the view
    rows = con.execute("select * from reporting.rpt_industrial_output_by_year").fetchall()
    assert rows == [
        ("25", 2010, 100.0, "final", None),
        ("25", 2011, 110.0, "final", 10.0),
        ("25", 2013, 121.0, "estimate", None),
    ]


def test_superseded_vintages_are_not_current(con) -> None:
    _output(con, 2015, 30618.0, "estimate", load_id=1)
    con.execute("update core.fct_industrial_output set _superseded_at = current_timestamp, _superseded_by = 2")
    _output(con, 2015, 30700.0, "final", load_id=2)
    rows = con.execute("select value_bn_vnd, status from reporting.rpt_industrial_output_by_year").fetchall()
    assert rows == [(30700.0, "final")]
    assert con.execute("select count(*) from core.fct_industrial_output").fetchone()[0] == 2


def test_awards_report_names_and_levels_from_the_catalogue(con) -> None:
    con.execute(
        "insert into core.fct_awards (province_code, reference_year, award_code, recipient_kind, award_count,"
        f" status, _load_id, _source_file_sha256, _source_sheet, _source_cell, _loaded_at)"
        f" values ('25', 2015, 'CSTD_CAP_TINH', 'individual', 2, 'final', 1, {LINEAGE})"
    )
    rows = con.execute(
        "select reference_year, award_name, award_level, recipient_kind, award_count from reporting.rpt_awards"
    ).fetchall()
    assert rows == [(2015, "Chiến sĩ thi đua cấp tỉnh", "province", "individual", 2)]


def test_observations_unite_every_dataset(con) -> None:
    _output(con, 2014, 28029.5)
    con.execute(
        "insert into core.fct_trade (province_code, reference_year, flow_code, product_group_code, value, unit,"
        f" status, _load_id, _source_file_sha256, _source_sheet, _source_cell, _loaded_at)"
        f" values ('25', 2014, 'export', 'TOTAL', 812.5, 'mn_usd', 'final', 1, {LINEAGE})"
    )
    rows = con.execute("select dataset, value, unit from reporting.observations order by dataset").fetchall()
    assert rows == [("industrial_output", 28029.5, "bn_vnd"), ("trade", 812.5, "mn_usd")]


def test_migrations_are_applied_once(con) -> None:
    assert db.migrate(con) == []
    versions = [v for (v,) in con.execute("select version from meta.schema_migrations order by version").fetchall()]
    shipped = sorted(int(p.name.split("_", 1)[0]) for p in (Path(db.__file__).parent / "migrations").glob("*.sql"))
    assert versions == shipped and versions[0] == 1


def test_views_are_rebuilt_only_when_their_sql_or_the_schema_changed(con, monkeypatch) -> None:
    assert db.refresh_views(con) is False  # built by the fixture from the same files
    con.execute("drop view reporting.observations")
    con.execute("delete from meta.view_definitions")  # as in a warehouse built before migration 004
    assert db.refresh_views(con) is True
    assert con.execute("select count(*) from reporting.observations").fetchone() == (0,)
    shipped = db._sql_files("views")
    monkeypatch.setattr(db, "_sql_files", lambda folder: [*shipped, ("999_extra.sql", "create or replace view"
                                                                     " reporting.extra as select 1 as one")])
    assert db.refresh_views(con) is True
    assert con.execute("select one from reporting.extra").fetchone() == (1,)
    con.execute("insert into meta.schema_migrations values (999, '999_later.sql', current_timestamp)")
    assert db.refresh_views(con) is True
    assert db.refresh_views(con) is False
