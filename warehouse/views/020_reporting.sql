-- Reporting views: what analysts and BI tools read. Rebuilt on every run.

create or replace view reporting.observations as
with industrial as (
    select
        'industrial_output' as dataset,
        'industrial_output_value' as indicator,
        province_code,
        reference_year,
        industry_code as dimension_1,
        ownership_code as dimension_2,
        price_basis || coalesce(' ' || base_year, '') as dimension_3,
        value_bn_vnd as value,
        'bn_vnd' as unit,
        status,
        _source_file_sha256,
        _source_sheet,
        _source_cell,
        _load_id,
        _loaded_at
    from core.fct_industrial_output_current
),
trade as (
    select
        'trade' as dataset,
        flow_code || '_value' as indicator,
        province_code,
        reference_year,
        flow_code as dimension_1,
        product_group_code as dimension_2,
        null as dimension_3,
        value,
        unit,
        status,
        _source_file_sha256,
        _source_sheet,
        _source_cell,
        _load_id,
        _loaded_at
    from core.fct_trade_current
),
awards as (
    select
        'awards' as dataset,
        'award_count' as indicator,
        province_code,
        reference_year,
        award_code as dimension_1,
        recipient_kind as dimension_2,
        null as dimension_3,
        award_count::double as value,
        'count' as unit,
        status,
        _source_file_sha256,
        _source_sheet,
        _source_cell,
        _load_id,
        _loaded_at
    from core.fct_awards_current
),
-- fct_iip and fct_indicators are read directly: their *_current views live in 030, built after this file.
iip as (
    select
        'iip' as dataset,
        'industrial_production_index' as indicator,
        province_code,
        reference_year,
        industry_code as dimension_1,
        period as dimension_2,
        base as dimension_3,
        index_pct as value,
        unit,
        status,
        _source_file_sha256,
        _source_sheet,
        _source_cell,
        _load_id,
        _loaded_at
    from core.fct_iip
    where _superseded_at is null
),
indicators as (
    select
        'indicators' as dataset,
        indicator_code as indicator,
        province_code,
        reference_year,
        dimension_path as dimension_1,
        period as dimension_2,
        concat_ws(' ', measure, base) as dimension_3,
        value,
        unit,
        status,
        _source_file_sha256,
        _source_sheet,
        _source_cell,
        _load_id,
        _loaded_at
    from core.fct_indicators
    where _superseded_at is null
),
unioned as (
    select * from industrial
    union all select * from trade
    union all select * from awards
    union all select * from iip
    union all select * from indicators
),
final as (
    select
        u.dataset,
        u.indicator,
        u.province_code,
        u.reference_year,
        u.dimension_1,
        u.dimension_2,
        u.dimension_3,
        u.value,
        u.unit,
        u.status,
        s.original_name as source_file,
        u._source_sheet as source_sheet,
        u._source_cell as source_cell,
        u._load_id as load_id,
        u._source_file_sha256 as source_sha256,
        u._loaded_at as loaded_at
    from unioned as u
    left join meta.source_files as s on s.sha256 = u._source_file_sha256
)
select * from final;

create or replace view reporting.rpt_industrial_output_by_year as
with output as (
    select province_code, reference_year, value_bn_vnd, status
    from core.fct_industrial_output_current
    where industry_code = 'TOTAL' and ownership_code = 'TOTAL' and price_basis = 'current'
),
with_previous as (
    select
        *,
        lag(value_bn_vnd) over (partition by province_code order by reference_year) as previous_value,
        lag(reference_year) over (partition by province_code order by reference_year) as previous_year
    from output
),
final as (
    select
        province_code,
        reference_year,
        value_bn_vnd,
        status,
        case
            when previous_year = reference_year - 1 and previous_value > 0
                then round((value_bn_vnd / previous_value - 1) * 100, 2)
        end as yoy_growth_pct
    from with_previous
)
select * from final order by province_code, reference_year;

create or replace view reporting.rpt_awards as
with awards as (select * from core.fct_awards_current),
catalogue as (select * from core.dim_awards),
final as (
    select
        a.province_code,
        a.reference_year,
        a.award_code,
        c.award_name_vi as award_name,
        c.award_name_en,
        c.award_level,
        a.recipient_kind,
        a.award_count,
        a.status
    from awards as a
    left join catalogue as c using (award_code)
)
select * from final order by province_code, reference_year, award_level, award_name, recipient_kind;

create or replace view reporting.rpt_trade_by_year as
with trade as (
    select province_code, reference_year, flow_code, value, unit, status
    from core.fct_trade_current
    where product_group_code = 'TOTAL'
),
with_previous as (
    select
        *,
        lag(value) over (partition by province_code, flow_code order by reference_year) as previous_value,
        lag(reference_year) over (partition by province_code, flow_code order by reference_year) as previous_year
    from trade
),
final as (
    select
        w.province_code,
        w.reference_year,
        w.flow_code,
        f.name_vi as flow_name,
        w.value,
        w.unit,
        w.status,
        case
            when previous_year = reference_year - 1 and previous_value > 0
                then round((value / previous_value - 1) * 100, 2)
        end as yoy_growth_pct
    from with_previous as w
    left join core.dim_trade_flows as f using (flow_code)
)
select * from final order by province_code, flow_code, reference_year;

create or replace view reporting.loads as
with loads as (select * from meta.loads),
final as (
    select
        load_id, file_name, dataset, province_code, reference_years, status, rows_in, rows_loaded,
        rows_rejected, error, attempt, retry_of, flow_run_id, layout_spec, source_sha256,
        started_at, finished_at
    from loads
)
select * from final order by load_id;

comment on view reporting.observations is 'One row per current figure: dataset, indicator, dimensions, year, value, unit, status and its source cell';
comment on view reporting.rpt_industrial_output_by_year is 'Industrial output, all industries, current prices (tỷ đồng), with growth on the previous year';
comment on view reporting.rpt_awards is 'Awards per year by award, level and recipient kind (collective / individual)';
comment on view reporting.rpt_trade_by_year is 'Exports, imports (triệu USD) and retail sales (tỷ đồng) per year, with growth';
comment on view reporting.loads is 'The load ledger: every attempt to load a file and its outcome';
