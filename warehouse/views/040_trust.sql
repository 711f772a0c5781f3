-- Figures you can trust over the years: every vintage, figures as they stood at a date or a load,
-- revisions, provinces on historical or current (post-2025) boundaries, units, and targets vs. actuals.

-- Every vintage of every figure, with its SDMX observation status (A final, P preliminary, E estimate).
create or replace view reporting.observation_vintages as
with industrial as (
    select
        'industrial_output' as dataset,
        'industrial_output_value' as indicator,
        industry_code as dimension_1,
        ownership_code as dimension_2,
        price_basis || coalesce(' ' || base_year, '') as dimension_3,
        value_bn_vnd as value,
        'bn_vnd' as unit,
        * exclude (industry_code, ownership_code, price_basis, base_year, value_bn_vnd)
    from core.fct_industrial_output
),
trade as (
    select
        'trade' as dataset,
        flow_code || '_value' as indicator,
        flow_code as dimension_1,
        product_group_code as dimension_2,
        null::varchar as dimension_3,
        * exclude (flow_code, product_group_code)
    from core.fct_trade
),
awards as (
    select
        'awards' as dataset,
        'award_count' as indicator,
        award_code as dimension_1,
        recipient_kind as dimension_2,
        null::varchar as dimension_3,
        award_count::double as value,
        'count' as unit,
        * exclude (award_code, recipient_kind, award_count)
    from core.fct_awards
),
unioned as (
    select * from industrial
    union all by name select * from trade
    union all by name select * from awards
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
        coalesce(u.original_value, u.value) as original_value,
        coalesce(u.original_unit, u.unit) as original_unit,
        u.status,
        s.sdmx_code as obs_status,
        s.name_vi as status_name_vi,
        s.name_en as status_name_en,
        row_number() over (
            partition by u.dataset, u.province_code, u.reference_year, u.dimension_1, u.dimension_2, u.dimension_3
            order by u._loaded_at, u._load_id
        ) as vintage,
        u._superseded_at is null as is_current,
        u._load_id as load_id,
        u._loaded_at as loaded_at,
        u._superseded_at as superseded_at,
        u._superseded_by as superseded_by,
        f.original_name as source_file,
        u._source_sheet as source_sheet,
        u._source_cell as source_cell,
        u._source_file_sha256 as source_sha256
    from unioned as u
    left join core.dim_status as s using (status)
    left join meta.source_files as f on f.sha256 = u._source_file_sha256
)
select * from final;

-- The figures as they stood at a moment: loaded by then and not yet replaced.
create or replace macro reporting.observations_as_of(as_of_ts) as table
    select * exclude (superseded_at, superseded_by, is_current)
    from reporting.observation_vintages
    where loaded_at <= cast(as_of_ts as timestamptz)
        and (superseded_at is null or superseded_at > cast(as_of_ts as timestamptz));

-- The figures as they stood right after a load finished (a load's rows carry its transaction time).
create or replace macro reporting.observations_as_of_load(as_of_load_id) as table
    select * from reporting.observations_as_of(
        (select finished_at from meta.loads where load_id = as_of_load_id and status <> 'running')
    );

-- First published vs. latest vintage of every figure published more than once.
create or replace view reporting.rpt_revisions as
with vintages as (select * from reporting.observation_vintages),
numbered as (
    select
        *,
        count(*) over (
            partition by dataset, indicator, province_code, reference_year, dimension_1, dimension_2, dimension_3
        ) as vintage_count
    from vintages
),
first_published as (select * from numbered where vintage = 1 and vintage_count > 1),
latest as (select * from numbered where superseded_at is null),
final as (
    select
        f.dataset,
        f.indicator,
        f.province_code,
        f.reference_year,
        f.dimension_1,
        f.dimension_2,
        f.dimension_3,
        f.unit,
        f.value as first_value,
        f.status as first_status,
        f.obs_status as first_obs_status,
        f.load_id as first_load_id,
        f.loaded_at as first_loaded_at,
        l.value as latest_value,
        l.status as latest_status,
        l.obs_status as latest_obs_status,
        l.load_id as latest_load_id,
        l.loaded_at as latest_loaded_at,
        round(l.value - f.value, 6) as revision_abs,
        case when f.value <> 0 then round((l.value / f.value - 1) * 100, 2) end as revision_pct,
        f.vintage_count as vintages,
        l.load_id is null as is_withdrawn
    from first_published as f
    left join latest as l
        on l.dataset = f.dataset
        and l.indicator = f.indicator
        and l.province_code = f.province_code
        and l.reference_year = f.reference_year
        and l.dimension_1 is not distinct from f.dimension_1
        and l.dimension_2 is not distinct from f.dimension_2
        and l.dimension_3 is not distinct from f.dimension_3
)
select * from final
order by dataset, indicator, province_code, reference_year, dimension_1, dimension_2, dimension_3;

-- Current figures on the boundaries they were reported on, named as the province was named that year.
create or replace view reporting.observations_historical_boundaries as
with observations as (select * from reporting.observations),
provinces as (select * from core.dim_provinces),
final as (
    select
        o.*,
        s.sdmx_code as obs_status,
        p.name_vi as province_name,
        p.name_en as province_name_en,
        p.valid_from as province_valid_from,
        p.valid_to as province_valid_to
    from observations as o
    left join core.dim_status as s on s.status = o.status
    left join provinces as p
        on p.province_code = o.province_code
        and make_date(o.reference_year, 12, 31)
            between coalesce(p.valid_from, date '0001-01-01') and coalesce(p.valid_to, date '9999-12-31')
)
select * from final;

-- Current figures on today's boundaries: predecessors of a province merged on 2025-07-01 are summed
-- (is_reconstructed). `value` is given only when every predecessor reported and the unit adds up;
-- `partial_value` is the sum of those that did. Each figure maps to exactly one province, so nothing
-- is counted twice.
create or replace view reporting.observations_current_boundaries as
with observations as (select * from reporting.observations),
crosswalk as (select * from core.province_crosswalk),
expected as (
    select successor_code, count(*) as provinces_expected
    from crosswalk
    group by successor_code
),
status_rank as (
    select * from (values ('final', 1), ('preliminary', 2), ('estimate', 3)) as r(status, status_rank)
),
placed as (
    select
        o.*,
        coalesce(x.successor_code, o.province_code) as current_code,
        x.successor_code is not null as from_predecessor
    from observations as o
    left join crosswalk as x
        on x.predecessor_code = o.province_code
        and make_date(o.reference_year, 12, 31) < x.effective_from
),
grouped as (
    select
        p.dataset,
        p.indicator,
        p.current_code as province_code,
        p.reference_year,
        p.dimension_1,
        p.dimension_2,
        p.dimension_3,
        p.unit,
        sum(p.value) as partial_value,
        count(distinct p.province_code) as provinces_reported,
        array_to_string(list_sort(list_distinct(list(p.province_code))), ',') as source_province_codes,
        bool_or(p.from_predecessor) as is_reconstructed,
        coalesce(bool_and(u.is_additive), false) as is_additive,
        max(r.status_rank) as status_rank
    from placed as p
    left join status_rank as r on r.status = p.status
    left join core.dim_units as u on u.unit = p.unit
    group by all
),
final as (
    select
        g.dataset,
        g.indicator,
        g.province_code,
        pr.name_vi as province_name,
        pr.name_en as province_name_en,
        g.reference_year,
        g.dimension_1,
        g.dimension_2,
        g.dimension_3,
        case
            when not g.is_reconstructed then g.partial_value
            when g.is_additive and g.provinces_reported = e.provinces_expected then g.partial_value
        end as value,
        g.unit,
        r.status,
        s.sdmx_code as obs_status,
        g.is_reconstructed,
        not g.is_reconstructed or g.provinces_reported = e.provinces_expected as is_complete,
        g.partial_value,
        g.provinces_reported,
        coalesce(e.provinces_expected, 1) as provinces_expected,
        g.source_province_codes
    from grouped as g
    left join expected as e on e.successor_code = g.province_code and g.is_reconstructed
    left join status_rank as r on r.status_rank = g.status_rank
    left join core.dim_status as s on s.status = r.status
    left join core.dim_provinces as pr on pr.province_code = g.province_code and pr.valid_to is null
)
select * from final;

-- Units and how to convert between them (within one quantity: money in đồng, money in USD, mass, …).
create or replace view reporting.unit_conversions as
with units as (select * from core.dim_units),
final as (
    select
        f.unit as from_unit,
        t.unit as to_unit,
        f.quantity,
        f.factor / t.factor as multiply_by
    from units as f
    join units as t on t.quantity = f.quantity
)
select * from final order by quantity, from_unit, to_unit;

create or replace macro reporting.convert_unit(amount, source_unit, target_unit) as
    amount * (
        select f.factor / t.factor
        from core.dim_units as f
        join core.dim_units as t on t.quantity = f.quantity
        where f.unit = source_unit and t.unit = target_unit
    );

-- Targets in force: the current vintage of loaded targets files, and the targets shipped with niengiam
-- for plans no file has given.
create or replace view core.targets_current as
with loaded as (
    select
        t.province_code,
        t.plan_start_year,
        t.reference_year,
        t.indicator_code,
        t.bound,
        t.target_value,
        t.unit,
        'file' as target_source,
        t._load_id as load_id,
        f.original_name as source_name
    from core.fct_targets as t
    left join meta.source_files as f on f.sha256 = t._source_file_sha256
    where t._superseded_at is null
),
seeded as (
    select
        s.province_code,
        s.plan_start_year,
        s.reference_year,
        s.indicator_code,
        s.bound,
        s.target_value,
        s.unit,
        'seed' as target_source,
        null::bigint as load_id,
        coalesce(s.source_note, 'schemas/catalogs/targets.csv') as source_name
    from core.seed_targets as s
    where not exists (
        select 1 from loaded as l
        where l.province_code = s.province_code
            and l.plan_start_year = s.plan_start_year
            and l.reference_year = s.reference_year
    )
),
final as (
    select * from loaded
    union all select * from seeded
)
select * from final;

-- Each plan target beside the actual: average yearly growth (cagr) from the year before the plan to the
-- latest year with data, or the latest level or share. Growth uses constant prices where they exist.
-- Actuals are read on the boundaries of the province that set the target (as it was in the plan's first
-- year): years on other boundaries (after the 2025 merger) do not count; "no_data" when none exist.
create or replace view reporting.rpt_targets_vs_actuals as
with targets as (
    select
        province_code,
        plan_start_year,
        reference_year as plan_end_year,
        indicator_code,
        max(target_value) filter (where bound = 'lower') as lower_bound,
        max(target_value) filter (where bound = 'upper') as upper_bound,
        any_value(unit) as unit,
        any_value(target_source) as target_source,
        any_value(source_name) as target_source_name,
        max(load_id) as target_load_id
    from core.targets_current
    group by province_code, plan_start_year, reference_year, indicator_code
),
provinces as (select * from core.dim_provinces),
series as (
    select
        'industrial_output_value' as indicator_code,
        province_code,
        reference_year,
        value_bn_vnd as value,
        status,
        case when price_basis = 'constant' then 'constant ' || coalesce(base_year::varchar, '') else 'current' end
            as basis
    from core.fct_industrial_output_current
    where industry_code = 'TOTAL' and ownership_code = 'TOTAL'
    union all
    select flow_code || '_value', province_code, reference_year, value, status, 'current'
    from core.fct_trade_current
    where product_group_code = 'TOTAL'
),
series_on_boundaries as (
    select s.*, p.valid_from as province_valid_from
    from series as s
    join provinces as p
        on p.province_code = s.province_code
        and make_date(s.reference_year, 12, 31)
            between coalesce(p.valid_from, date '0001-01-01') and coalesce(p.valid_to, date '9999-12-31')
),
plans as (
    select
        t.*,
        i.name_vi as indicator_name,
        i.name_en as indicator_name_en,
        i.measure_kind,
        coalesce(i.based_on, t.indicator_code) as series_code,
        p.valid_from as province_valid_from,
        p.name_vi as province_name
    from targets as t
    join core.dim_indicators as i using (indicator_code)
    left join provinces as p
        on p.province_code = t.province_code
        and make_date(t.plan_start_year, 12, 31)
            between coalesce(p.valid_from, date '0001-01-01') and coalesce(p.valid_to, date '9999-12-31')
),
per_basis as (
    select
        pl.province_code,
        pl.plan_start_year,
        pl.plan_end_year,
        pl.indicator_code,
        pl.measure_kind,
        s.basis,
        max(s.value) filter (where s.reference_year = pl.plan_start_year - 1) as base_value,
        max(s.reference_year) filter (where s.reference_year >= pl.plan_start_year) as last_year,
        arg_max(s.value, s.reference_year) filter (where s.reference_year >= pl.plan_start_year) as last_value,
        arg_max(s.status, s.reference_year) filter (where s.reference_year >= pl.plan_start_year) as last_status
    from plans as pl
    join series_on_boundaries as s
        on s.indicator_code = pl.series_code
        and s.province_code = pl.province_code
        and s.province_valid_from is not distinct from pl.province_valid_from
        and s.reference_year between pl.plan_start_year - 1 and pl.plan_end_year
    group by all
),
actuals as (
    select
        *,
        case
            when measure_kind = 'cagr' and base_value > 0 and last_value > 0
                then (pow(last_value / base_value, 1.0 / (last_year - plan_start_year + 1)) - 1) * 100
            when measure_kind in ('level', 'share') then last_value
        end as actual_value
    from per_basis
),
best as (
    select *
    from actuals
    qualify row_number() over (
        partition by province_code, plan_start_year, plan_end_year, indicator_code
        order by
            actual_value is null,
            case when (measure_kind = 'cagr') = (basis like 'constant%') then 0 else 1 end,
            basis desc
    ) = 1
),
judged as (
    select
        pl.*,
        b.actual_value,
        b.basis as actual_basis,
        b.last_year as actual_year,
        b.last_status as actual_status,
        b.actual_value is not null and b.last_year < pl.plan_end_year as is_partial,
        (pl.lower_bound is null or b.actual_value >= pl.lower_bound)
            and (pl.upper_bound is null or b.actual_value <= pl.upper_bound) as is_within
    from plans as pl
    left join best as b using (province_code, plan_start_year, plan_end_year, indicator_code)
),
assessed as (
    select
        *,
        case
            when actual_value is null then 'no_data'
            when not is_partial and is_within then 'met'
            when not is_partial then 'not_met'
            when is_within then 'on_track'
            when measure_kind = 'level' then 'not_yet'
            else 'off_track'
        end as assessment
    from judged
),
final as (
    select
        a.province_code,
        a.province_name,
        a.plan_start_year || '–' || a.plan_end_year as plan_period,
        a.plan_start_year,
        a.plan_end_year,
        a.indicator_code,
        a.indicator_name,
        a.indicator_name_en,
        a.measure_kind,
        a.lower_bound,
        a.upper_bound,
        a.unit,
        round(a.actual_value, 2) as actual_value,
        case when a.measure_kind = 'cagr' and a.actual_value is not null then a.plan_start_year - 1 end
            as actual_from_year,
        a.actual_year,
        a.actual_basis,
        a.actual_status,
        s.sdmx_code as actual_obs_status,
        a.is_partial,
        a.assessment,
        case a.assessment
            when 'met' then 'Đạt'
            when 'not_met' then 'Không đạt'
            when 'on_track' then 'Đúng tiến độ'
            when 'off_track' then 'Chậm so với mục tiêu'
            when 'not_yet' then 'Chưa đạt (kỳ kế hoạch chưa kết thúc)'
            else 'Chưa có số liệu'
        end as assessment_vi,
        a.target_source,
        a.target_source_name,
        a.target_load_id
    from assessed as a
    left join core.dim_status as s on s.status = a.actual_status
)
select * from final order by province_code, plan_start_year, indicator_code;

comment on view reporting.rpt_revisions is 'Figures published more than once: first published vs. latest value and status, revision in units and %';
comment on view reporting.observations_historical_boundaries is 'Current figures on the boundaries they were reported on, with the province as named that year';
comment on view reporting.observations_current_boundaries is 'Current figures on today''s provinces: predecessors of 2025 mergers summed (is_reconstructed, is_complete)';
comment on view reporting.unit_conversions is 'Units of the same quantity and the factor converting one into the other';
comment on view reporting.rpt_targets_vs_actuals is 'Plan targets (lower/upper bound) beside the actual growth, level or share, with an assessment';
