-- Current figures of the datasets read by format-2 layout specs, and the index table analysts read.
create or replace view core.fct_iip_current as
with source as (select * from core.fct_iip),
final as (select * exclude (_superseded_at, _superseded_by) from source where _superseded_at is null)
select * from final;

create or replace view core.fct_indicators_current as
with source as (select * from core.fct_indicators),
final as (select * exclude (_superseded_at, _superseded_by) from source where _superseded_at is null)
select * from final;

create or replace view reporting.rpt_iip as
with iip as (select * from core.fct_iip_current),
final as (
    select
        province_code,
        reference_year,
        period,
        period_label,
        industry_code,
        industry_label,
        base,
        index_pct,
        round(index_pct - 100, 2) as change_pct,
        status,
        _source_sheet as source_sheet,
        _source_cell as source_cell
    from iip
)
select * from final order by province_code, reference_year, period, industry_code, base;

create or replace view reporting.rpt_indicators as
with indicators as (select * from core.fct_indicators_current),
final as (
    select
        source,
        table_id,
        province_code as area_code,
        reference_year,
        period,
        period_label,
        indicator_code,
        indicator_label,
        dimension_path,
        measure,
        base,
        value,
        unit,
        unit_base,
        unit_multiplier,
        value * unit_multiplier as value_in_base_unit,
        missing_reason,
        notes,
        status,
        _source_sheet as source_sheet,
        _source_cell as source_cell
    from indicators
)
select * from final order by source, table_id, indicator_code, dimension_path, reference_year, period;

comment on view reporting.rpt_iip is 'Industrial production index (%) by area, period, industry and comparison base, with its source cell';
comment on view reporting.rpt_indicators is 'Figures of generic statistics tables (any layout spec of dataset indicators), unit and multiplier kept';
