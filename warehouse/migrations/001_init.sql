-- The first schema: the ledger (meta), facts and dimensions (core). Views live in warehouse/views/.
create schema if not exists core;
create schema if not exists reporting;

create table meta.source_files (
    sha256          varchar primary key,
    original_name   varchar not null,
    original_path   varchar,
    size_bytes      bigint not null,
    received_at     timestamptz not null,
    archive_path    varchar not null
);

create sequence meta.load_id_seq start 1;

-- One row per attempt to load one file. No primary key: DuckDB updates of indexed rows are costly.
create table meta.loads (
    load_id         bigint not null,
    source_sha256   varchar not null,
    file_name       varchar not null,
    dataset         varchar,
    province_code   varchar,
    reference_years varchar,
    layout_spec     varchar,
    status          varchar not null,
    rows_in         integer,
    rows_loaded     integer,
    rows_rejected   integer,
    error           varchar,
    flow_run_id     varchar,
    retry_of        bigint,
    attempt         integer not null default 1,
    pid             integer,
    hostname        varchar,
    started_at      timestamptz not null,
    finished_at     timestamptz,
    check (status in ('running', 'loaded', 'rejected', 'failed'))
);

create table meta.quarantine (
    load_id     bigint not null,
    sheet       varchar,
    cell        varchar,
    column_name varchar,
    value       varchar,
    rule        varchar not null,
    severity    varchar not null,
    message     varchar not null,
    message_vi  varchar,
    check (severity in ('error', 'warning'))
);

create table core.dim_industries (
    industry_code varchar not null,
    name_vi       varchar not null,
    name_en       varchar not null,
    parent_code   varchar
);

create table core.dim_ownership (
    ownership_code varchar not null,
    name_vi        varchar not null,
    name_en        varchar not null
);

create table core.dim_trade_flows (
    flow_code varchar not null,
    name_vi   varchar not null,
    name_en   varchar not null
);

create table core.dim_trade_groups (
    product_group_code varchar not null,
    flow_code          varchar,
    name_vi            varchar not null,
    name_en            varchar not null
);

create table core.dim_awards (
    award_code     varchar not null,
    official_code  varchar,
    award_name_vi  varchar not null,
    award_name_en  varchar not null,
    award_level    varchar not null
);

create table core.dim_provinces (
    province_code varchar not null,
    name_vi       varchar not null,
    name_en       varchar not null
);

create table core.dim_status (
    status     varchar not null,
    sdmx_code  varchar not null,
    name_vi    varchar not null,
    name_en    varchar not null
);

-- Facts keep every vintage: a replaced row gets _superseded_at/_superseded_by instead of being deleted.
create table core.fct_industrial_output (
    province_code       varchar not null,
    reference_year      integer not null,
    industry_code       varchar not null,
    ownership_code      varchar not null,
    price_basis         varchar not null,
    base_year           integer,
    value_bn_vnd        double,
    status              varchar not null,
    _load_id            bigint not null,
    _source_file_sha256 varchar not null,
    _source_sheet       varchar,
    _source_cell        varchar,
    _loaded_at          timestamptz not null,
    _superseded_at      timestamptz,
    _superseded_by      bigint
);

create table core.fct_trade (
    province_code       varchar not null,
    reference_year      integer not null,
    flow_code           varchar not null,
    product_group_code  varchar not null,
    value               double,
    unit                varchar not null,
    status              varchar not null,
    _load_id            bigint not null,
    _source_file_sha256 varchar not null,
    _source_sheet       varchar,
    _source_cell        varchar,
    _loaded_at          timestamptz not null,
    _superseded_at      timestamptz,
    _superseded_by      bigint
);

create table core.fct_awards (
    province_code       varchar not null,
    reference_year      integer not null,
    award_code          varchar not null,
    recipient_kind      varchar not null,
    award_count         integer not null,
    status              varchar not null,
    _load_id            bigint not null,
    _source_file_sha256 varchar not null,
    _source_sheet       varchar,
    _source_cell        varchar,
    _loaded_at          timestamptz not null,
    _superseded_at      timestamptz,
    _superseded_by      bigint
);
