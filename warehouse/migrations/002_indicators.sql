-- Datasets read by format-2 layout specs: the industrial production index (GSO data annexes) and a
-- generic indicator table for any statistics table a spec describes (e.g. ABS releases).
create table core.fct_iip (
    province_code       varchar not null,
    reference_year      integer not null,
    period              varchar not null,
    industry_code       varchar not null,
    base                varchar not null,
    index_pct           double,
    unit                varchar not null,
    industry_label      varchar,
    period_label        varchar,
    status              varchar not null,
    _load_id            bigint not null,
    _source_file_sha256 varchar not null,
    _source_sheet       varchar,
    _source_cell        varchar,
    _loaded_at          timestamptz not null,
    _superseded_at      timestamptz,
    _superseded_by      bigint
);

-- province_code holds the area: a province code, VN for the whole country, or an ISO 3166 code abroad.
create table core.fct_indicators (
    province_code       varchar not null,
    reference_year      integer not null,
    source              varchar not null,
    table_id            varchar not null,
    indicator_code      varchar not null,
    dimension_path      varchar,
    period              varchar not null,
    measure             varchar,
    base                varchar,
    value               double,
    unit                varchar,
    indicator_label     varchar,
    period_label        varchar,
    unit_base           varchar,
    unit_multiplier     double not null default 1,
    missing_reason      varchar,
    notes               varchar,
    status              varchar not null,
    _load_id            bigint not null,
    _source_file_sha256 varchar not null,
    _source_sheet       varchar,
    _source_cell        varchar,
    _loaded_at          timestamptz not null,
    _superseded_at      timestamptz,
    _superseded_by      bigint
);
