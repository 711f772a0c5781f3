-- Figures you can trust over the years: every fact keeps the value and unit it was written in; provinces
-- get validity periods and the crosswalk of the 2025 merger; units and indicators become dimensions; plan
-- targets get a fact table (and a table for the targets shipped with niengiam); a load that corrects a
-- rejected one points at it.

-- Facts are stored in a canonical unit per indicator; the figure as written and its unit are kept.
alter table core.fct_industrial_output add column original_value double;
alter table core.fct_industrial_output add column original_unit varchar;
alter table core.fct_trade add column original_value double;
alter table core.fct_trade add column original_unit varchar;
alter table core.fct_awards add column original_value double;
alter table core.fct_awards add column original_unit varchar;

-- A province code means one province between two dates: codes were reused on 2025-07-01.
alter table core.dim_provinces add column valid_from date;
alter table core.dim_provinces add column valid_to date;

-- Resolution 202/2025/QH15: each pre-merger province (valid until 2025-06-30) and the province it became part of.
create table core.province_crosswalk (
    predecessor_code    varchar not null,
    predecessor_name_vi varchar not null,
    successor_code      varchar not null,
    successor_name_vi   varchar not null,
    effective_from      date not null,
    legal_basis         varchar not null
);

create table core.dim_units (
    unit        varchar not null,
    name_vi     varchar not null,
    name_en     varchar not null,
    quantity    varchar not null,
    factor      double not null,
    is_additive boolean not null
);

create table core.dim_indicators (
    indicator_code varchar not null,
    name_vi        varchar not null,
    name_en        varchar not null,
    unit           varchar not null,
    measure_kind   varchar not null,
    based_on       varchar,
    check (measure_kind in ('level', 'cagr', 'share'))
);

-- Plan targets loaded from spreadsheets, with their vintages like every other fact.
create table core.fct_targets (
    province_code       varchar not null,
    reference_year      integer not null,
    plan_start_year     integer not null,
    indicator_code      varchar not null,
    bound               varchar not null,
    target_value        double,
    unit                varchar not null,
    status              varchar not null,
    original_value      double,
    original_unit       varchar,
    _load_id            bigint not null,
    _source_file_sha256 varchar not null,
    _source_sheet       varchar,
    _source_cell        varchar,
    _loaded_at          timestamptz not null,
    _superseded_at      timestamptz,
    _superseded_by      bigint,
    check (bound in ('lower', 'upper'))
);

-- Targets shipped with niengiam (schemas/catalogs/targets.csv), refreshed like a dimension; a loaded
-- targets file for the same province, plan and indicator takes precedence.
create table core.seed_targets (
    province_code   varchar not null,
    plan_start_year integer not null,
    reference_year  integer not null,
    indicator_code  varchar not null,
    bound           varchar not null,
    target_value    double not null,
    unit            varchar not null,
    source_note     varchar
);

-- A corrected file (same name, dataset, province and years as a rejected one) points at the load it corrects.
alter table meta.loads add column corrects_load_id bigint;
