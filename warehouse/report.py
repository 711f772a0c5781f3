"""The SQL behind the yearly report and the exports: figures, sources and revisions for one province and period."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from schemas.errors import UsageError
from warehouse.query import READ_TIMEOUT_S, fetch_dicts, open_query_connection

# Each query takes (province_code, first_year, last_year); every figure carries its source cell.
REPORT_QUERIES = {
    "industrial_by_year": """
        select r.reference_year, r.value_bn_vnd, r.status, r.yoy_growth_pct,
            o.source_file, o.source_sheet, o.source_cell
        from reporting.rpt_industrial_output_by_year as r
        left join reporting.observations as o
            on o.dataset = 'industrial_output' and o.province_code = r.province_code
            and o.reference_year = r.reference_year and o.dimension_1 = 'TOTAL'
            and o.dimension_2 = 'TOTAL' and o.dimension_3 = 'current'
        where r.province_code = ? and r.reference_year between ? and ?
        order by r.reference_year
    """,
    "industrial_structure": """
        select s.reference_year, s.breakdown, s.code, s.name_vi, s.name_en, s.value_bn_vnd, s.share_pct,
            s.status, o.source_file, o.source_sheet, o.source_cell
        from reporting.rpt_industrial_output_structure as s
        left join reporting.observations as o
            on o.dataset = 'industrial_output' and o.province_code = s.province_code
            and o.reference_year = s.reference_year and o.dimension_3 = 'current'
            and ((s.breakdown = 'industry' and o.dimension_1 = s.code and o.dimension_2 = 'TOTAL')
              or (s.breakdown = 'ownership' and o.dimension_1 = 'TOTAL' and o.dimension_2 = s.code))
        where s.province_code = ? and s.reference_year between ? and ?
        order by s.reference_year, s.breakdown, s.value_bn_vnd desc
    """,
    "trade_by_year": """
        select t.reference_year, t.flow_code, f.name_vi, f.name_en, t.value, t.unit, t.status,
            t.yoy_growth_pct, o.source_file, o.source_sheet, o.source_cell
        from reporting.rpt_trade_by_year as t
        left join core.dim_trade_flows as f using (flow_code)
        left join reporting.observations as o
            on o.dataset = 'trade' and o.province_code = t.province_code
            and o.reference_year = t.reference_year and o.dimension_1 = t.flow_code
            and o.dimension_2 = 'TOTAL'
        where t.province_code = ? and t.reference_year between ? and ?
        order by t.flow_code, t.reference_year
    """,
    "awards": """
        select a.reference_year, a.award_code, a.award_name as name_vi, a.award_name_en as name_en,
            a.award_level, a.recipient_kind, a.award_count, a.status,
            o.source_file, o.source_sheet, o.source_cell
        from reporting.rpt_awards as a
        left join reporting.observations as o
            on o.dataset = 'awards' and o.province_code = a.province_code
            and o.reference_year = a.reference_year and o.dimension_1 = a.award_code
            and o.dimension_2 = a.recipient_kind
        where a.province_code = ? and a.reference_year between ? and ?
        order by a.reference_year, a.award_level, a.award_name, a.recipient_kind
    """,
    "awards_by_level": """
        select reference_year, award_level, recipient_kind, award_count, status
        from reporting.rpt_awards_by_level
        where province_code = ? and reference_year between ? and ?
        order by reference_year, award_level, recipient_kind
    """,
    "sources": """
        select source_file, dataset, string_agg(distinct reference_year::varchar, ', '
                order by reference_year::varchar) as reference_years,
            load_id, strftime(max(loaded_at), '%Y-%m-%d %H:%M') as loaded_at, source_sha256,
            count(*) as figures
        from reporting.observations
        where province_code = ? and reference_year between ? and ?
        group by source_file, dataset, load_id, source_sha256
        order by dataset, reference_years, load_id
    """,
    "revisions": """
        select dataset, province_code, reference_year, dimension_1, dimension_2, dimension_3, unit,
            first_value, first_status, strftime(first_loaded_at, '%Y-%m-%d') as first_loaded,
            latest_value as current_value, latest_status as current_status, vintages,
            revision_abs as revision, revision_pct
        from reporting.rpt_revisions
        where province_code = ? and reference_year between ? and ?
            and dataset in ('industrial_output', 'trade', 'awards')
            and (latest_value is distinct from first_value or latest_status is distinct from first_status)
        order by dataset, reference_year, dimension_1, dimension_2, dimension_3
    """,
    "period_growth": """
        with series as (
            select 'industrial_output' as series, reference_year, value_bn_vnd as value
            from reporting.rpt_industrial_output_by_year
            where province_code = ? and reference_year between ? and ?
            union all
            select flow_code, reference_year, value from reporting.rpt_trade_by_year
            where province_code = ? and reference_year between ? and ?
        ),
        ends as (
            select series, min(reference_year) as first_year, max(reference_year) as last_year,
                arg_min(value, reference_year) as first_value, arg_max(value, reference_year) as last_value
            from series group by series
        )
        select series, first_year, last_year,
            case when first_value > 0 and last_year > first_year
                then round((power(last_value / first_value, 1.0 / (last_year - first_year)) - 1) * 100, 2)
            end as average_growth_pct
        from ends order by series
    """,
}


def coverage(database: Path, timeout_s: float = READ_TIMEOUT_S) -> dict[str, list[int]]:
    """Province code -> the years that have current figures."""
    con = open_query_connection(database, timeout_s)
    try:
        rows = con.execute(
            "select province_code, list(distinct reference_year order by reference_year)"
            " from reporting.observations group by province_code order by province_code"
        ).fetchall()
    finally:
        con.close()
    return {code: list(years) for code, years in rows}


def fetch_report_data(
    database: Path, province: str, first_year: int, last_year: int, timeout_s: float = READ_TIMEOUT_S
) -> dict[str, list[dict[str, Any]]]:
    """Every table the report needs, as lists of row dicts keyed by query name."""
    con = open_query_connection(database, timeout_s)
    try:
        data = {name: fetch_dicts(con, sql, _params(name, province, first_year, last_year))
                for name, sql in REPORT_QUERIES.items()}
    finally:
        con.close()
    return data


def _params(name: str, province: str, first_year: int, last_year: int) -> list[Any]:
    scope = [province, first_year, last_year]
    return scope * 2 if name == "period_growth" else scope


# --- exports -----------------------------------------------------------------------------------------

_REPORTING_OBJECTS = (
    "select view_name from duckdb_views() where schema_name = 'reporting'"
    " union select table_name from duckdb_tables() where schema_name = 'reporting' order by 1"
)


def reporting_view_names(database: Path, timeout_s: float = READ_TIMEOUT_S) -> list[str]:
    """The names of every view and table in the reporting schema."""
    con = open_query_connection(database, timeout_s)
    try:
        return [r[0] for r in con.execute(_REPORTING_OBJECTS).fetchall()]
    finally:
        con.close()


def iter_views(database: Path, names: list[str], timeout_s: float = READ_TIMEOUT_S) -> Iterator[tuple[str, Any]]:
    """(name, Arrow table) for each named reporting view, read over one connection."""
    con = open_query_connection(database, timeout_s)
    try:
        known = {r[0] for r in con.execute(_REPORTING_OBJECTS).fetchall()}
        for name in names:
            if name not in known:
                raise UsageError(f"there is no reporting view named {name!r}.", hint="See 'niengiam tables'.")
            yield name, con.sql(f'select * from reporting."{name}"').to_arrow_table()  # name checked above
    finally:
        con.close()


SDMX_QUERY = """
    select o.dataset, o.indicator, o.province_code, o.reference_year, o.dimension_1, o.dimension_2, o.dimension_3,
        o.value, o.unit, o.status, s.sdmx_code
    from reporting.observations as o
    left join core.dim_status as s using (status)
    order by o.dataset, o.province_code, o.dimension_1, o.dimension_2, o.dimension_3, o.reference_year
"""


def sdmx_observations(database: Path, timeout_s: float = READ_TIMEOUT_S) -> list[dict[str, Any]]:
    """Every current figure with its SDMX observation status (A final, P preliminary, E estimate)."""
    con = open_query_connection(database, timeout_s)
    try:
        return fetch_dicts(con, SDMX_QUERY, [])
    finally:
        con.close()
