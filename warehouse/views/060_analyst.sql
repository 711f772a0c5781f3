-- The analyst's views: labels, submissions, structure and awards by level; and the data dictionary.
-- Comments carry both languages as 'vi: … | en: …' (niengiam tables shows one of them). Views of other
-- files get a bilingual comment here too (view level only: their columns are theirs to change).

create or replace view reporting.labels as
with industries as (
    select 'industry' as kind, industry_code as code, name_vi, name_en from core.dim_industries
),
ownership as (
    select 'ownership' as kind, ownership_code as code, name_vi, name_en from core.dim_ownership
),
trade_flows as (
    select 'trade_flow' as kind, flow_code as code, name_vi, name_en from core.dim_trade_flows
),
product_groups as (
    select 'product_group' as kind, product_group_code as code, name_vi, name_en from core.dim_trade_groups
),
awards as (
    select 'award' as kind, award_code as code, award_name_vi as name_vi, award_name_en as name_en
    from core.dim_awards
),
provinces as (  -- a province renamed or merged in 2025 has a row per validity period
    select distinct 'province' as kind, province_code as code, name_vi, name_en from core.dim_provinces
),
statuses as (
    select 'status' as kind, status as code, name_vi, name_en from core.dim_status
),
final as (
    select * from industries
    union all select * from ownership
    union all select * from trade_flows
    union all select * from product_groups
    union all select * from awards
    union all select * from provinces
    union all select * from statuses
)
select * from final order by kind, code;

-- reporting.observation_vintages is defined in 040_trust.sql (one definition; described here).

-- One row per dataset × province × year that any load touched or that holds figures.
create or replace view reporting.submissions as
with attempts as (
    select
        load_id, file_name, status, error, coalesce(finished_at, started_at) as attempted_at,
        string_split(dataset, ',') as datasets,
        string_split(coalesce(province_code, ''), ',') as provinces,
        flatten(list_transform(
            string_split(reference_years, ','),
            lambda span: case
                when contains(span, '-')
                    then range(split_part(span, '-', 1)::bigint, split_part(span, '-', 2)::bigint + 1)
                else [span::bigint]
            end
        )) as years
    from meta.loads
    where dataset is not null and reference_years is not null
),
attempt_datasets as (select load_id, unnest(datasets) as dataset from attempts),
attempt_provinces as (
    select load_id, nullif(province_code, '') as province_code
    from (select load_id, unnest(provinces) as province_code from attempts)
),
attempt_years as (select load_id, unnest(years)::integer as reference_year from attempts),
attempt_cells as (
    select a.load_id, a.file_name, a.status, a.error, a.attempted_at, d.dataset, p.province_code, y.reference_year
    from attempts as a
    join attempt_datasets as d using (load_id)
    join attempt_provinces as p using (load_id)
    join attempt_years as y using (load_id)
),
latest_attempts as (
    select
        dataset, province_code, reference_year,
        count(*) over (partition by dataset, province_code, reference_year) as attempts,
        load_id, file_name, status, error, attempted_at
    from attempt_cells
    qualify row_number() over (partition by dataset, province_code, reference_year order by load_id desc) = 1
),
figures as (
    select
        dataset, province_code, reference_year,
        count(*) as figures,
        arg_min(status, case status when 'estimate' then 1 when 'preliminary' then 2 else 3 end)
            as figures_status,
        max(loaded_at) as figures_loaded_at
    from reporting.observations
    group by dataset, province_code, reference_year
),
final as (
    select
        coalesce(a.dataset, f.dataset) as dataset,
        coalesce(a.province_code, f.province_code) as province_code,
        coalesce(a.reference_year, f.reference_year) as reference_year,
        case
            when a.status in ('rejected', 'failed', 'running') then a.status
            when f.figures > 0 then f.figures_status
            else 'missing'
        end as state,
        f.figures_status,
        coalesce(f.figures, 0) as figures,
        coalesce(a.attempts, 0) as attempts,
        a.load_id as last_load_id,
        a.status as last_load_status,
        a.file_name as last_file_name,
        a.error as last_error,
        coalesce(a.attempted_at, f.figures_loaded_at) as last_load_at
    from latest_attempts as a
    full outer join figures as f
        on f.dataset = a.dataset
        and f.province_code is not distinct from a.province_code
        and f.reference_year = a.reference_year
)
select * from final order by dataset, province_code, reference_year;

create or replace view reporting.rpt_industrial_output_structure as
with output as (
    select province_code, reference_year, industry_code, ownership_code, value_bn_vnd, status
    from core.fct_industrial_output_current
    where price_basis = 'current'
),
totals as (
    select province_code, reference_year, value_bn_vnd as total_bn_vnd
    from output
    where industry_code = 'TOTAL' and ownership_code = 'TOTAL'
),
by_industry as (
    select o.province_code, o.reference_year, 'industry' as breakdown, o.industry_code as code,
        d.name_vi, d.name_en, o.value_bn_vnd, o.status
    from output as o
    join core.dim_industries as d using (industry_code)
    where o.ownership_code = 'TOTAL' and o.industry_code <> 'TOTAL'
),
by_ownership as (
    select o.province_code, o.reference_year, 'ownership' as breakdown, o.ownership_code as code,
        d.name_vi, d.name_en, o.value_bn_vnd, o.status
    from output as o
    join core.dim_ownership as d using (ownership_code)
    where o.industry_code = 'TOTAL' and o.ownership_code <> 'TOTAL'
),
parts as (
    select * from by_industry
    union all select * from by_ownership
),
final as (
    select
        p.*,
        case when t.total_bn_vnd > 0 then round(p.value_bn_vnd / t.total_bn_vnd * 100, 2) end as share_pct
    from parts as p
    left join totals as t using (province_code, reference_year)
)
select * from final order by province_code, reference_year, breakdown, code;

create or replace view reporting.rpt_awards_by_level as
with awards as (select * from reporting.rpt_awards),
final as (
    select
        province_code, reference_year, award_level, recipient_kind,
        sum(award_count)::integer as award_count,
        arg_min(status, case status when 'estimate' then 1 when 'preliminary' then 2 else 3 end) as status
    from awards
    group by all
)
select * from final order by province_code, reference_year, award_level, recipient_kind;

-- The data dictionary ------------------------------------------------------------------------------

comment on view reporting.observations is 'vi: Mỗi dòng một số liệu hiện hành: bộ dữ liệu, chỉ tiêu, các chiều, năm, giá trị, đơn vị, tình trạng và ô nguồn | en: One row per current figure: dataset, indicator, dimensions, year, value, unit, status and its source cell';
comment on column reporting.observations.dataset is 'vi: Bộ dữ liệu (industrial_output, trade, awards) | en: Dataset (industrial_output, trade, awards)';
comment on column reporting.observations.indicator is 'vi: Chỉ tiêu | en: Indicator';
comment on column reporting.observations.province_code is 'vi: Mã tỉnh (mã hành chính GSO) | en: Province code (GSO administrative code)';
comment on column reporting.observations.reference_year is 'vi: Năm số liệu | en: Reference year';
comment on column reporting.observations.dimension_1 is 'vi: Chiều 1: ngành (SXCN), chỉ tiêu thương mại, hoặc hình thức khen thưởng | en: Dimension 1: industry (output), trade flow, or award';
comment on column reporting.observations.dimension_2 is 'vi: Chiều 2: thành phần kinh tế, nhóm hàng, hoặc đối tượng (tập thể/cá nhân) | en: Dimension 2: ownership, product group, or recipient kind (collective/individual)';
comment on column reporting.observations.dimension_3 is 'vi: Chiều 3: loại giá (hiện hành / so sánh và năm gốc) | en: Dimension 3: price basis (current / constant and base year)';
comment on column reporting.observations.value is 'vi: Giá trị | en: Value';
comment on column reporting.observations.unit is 'vi: Đơn vị tính (bn_vnd = tỷ đồng, mn_usd = triệu USD, count = số lượng) | en: Unit (bn_vnd = billion VND, mn_usd = million USD, count)';
comment on column reporting.observations.status is 'vi: Tình trạng số liệu: final = chính thức, preliminary = sơ bộ, estimate = ước tính | en: Status of the figure: final, preliminary, estimate';
comment on column reporting.observations.source_file is 'vi: Tên tệp nguồn | en: Source file name';
comment on column reporting.observations.source_sheet is 'vi: Trang tính nguồn | en: Source sheet';
comment on column reporting.observations.source_cell is 'vi: Ô nguồn (A1) | en: Source cell (A1)';
comment on column reporting.observations.load_id is 'vi: Mã lần nạp | en: Load id';
comment on column reporting.observations.source_sha256 is 'vi: Mã băm SHA-256 của tệp nguồn (trong kho lưu trữ) | en: SHA-256 of the source file (in the archive)';
comment on column reporting.observations.loaded_at is 'vi: Thời điểm nạp | en: Loaded at';

comment on view reporting.rpt_industrial_output_by_year is 'vi: Giá trị sản xuất công nghiệp toàn ngành theo giá hiện hành (tỷ đồng), kèm tốc độ tăng so với năm trước | en: Industrial output, all industries, current prices (billion VND), with growth on the previous year';
comment on column reporting.rpt_industrial_output_by_year.province_code is 'vi: Mã tỉnh | en: Province code';
comment on column reporting.rpt_industrial_output_by_year.reference_year is 'vi: Năm số liệu | en: Reference year';
comment on column reporting.rpt_industrial_output_by_year.value_bn_vnd is 'vi: Giá trị sản xuất công nghiệp (tỷ đồng) | en: Industrial output (billion VND)';
comment on column reporting.rpt_industrial_output_by_year.status is 'vi: Tình trạng số liệu | en: Status of the figure';
comment on column reporting.rpt_industrial_output_by_year.yoy_growth_pct is 'vi: Tăng so với năm trước (%) | en: Growth on the previous year (%)';

comment on view reporting.rpt_awards is 'vi: Khen thưởng theo năm, hình thức, cấp và đối tượng (tập thể / cá nhân) | en: Awards per year by award, level and recipient kind (collective / individual)';
comment on column reporting.rpt_awards.province_code is 'vi: Mã tỉnh | en: Province code';
comment on column reporting.rpt_awards.reference_year is 'vi: Năm số liệu | en: Reference year';
comment on column reporting.rpt_awards.award_code is 'vi: Mã hình thức khen thưởng | en: Award code';
comment on column reporting.rpt_awards.award_name is 'vi: Hình thức khen thưởng (tiếng Việt) | en: Award name (Vietnamese)';
comment on column reporting.rpt_awards.award_name_en is 'vi: Hình thức khen thưởng (tiếng Anh) | en: Award name (English)';
comment on column reporting.rpt_awards.award_level is 'vi: Cấp khen thưởng (state, government, ministry, province, department) | en: Award level (state, government, ministry, province, department)';
comment on column reporting.rpt_awards.recipient_kind is 'vi: Đối tượng: collective = tập thể, individual = cá nhân | en: Recipient kind: collective or individual';
comment on column reporting.rpt_awards.award_count is 'vi: Số lượng | en: Count';
comment on column reporting.rpt_awards.status is 'vi: Tình trạng số liệu | en: Status of the figure';

comment on view reporting.rpt_trade_by_year is 'vi: Xuất khẩu, nhập khẩu (triệu USD) và tổng mức bán lẻ (tỷ đồng) theo năm, kèm tốc độ tăng | en: Exports, imports (million USD) and retail sales (billion VND) per year, with growth';
comment on column reporting.rpt_trade_by_year.province_code is 'vi: Mã tỉnh | en: Province code';
comment on column reporting.rpt_trade_by_year.reference_year is 'vi: Năm số liệu | en: Reference year';
comment on column reporting.rpt_trade_by_year.flow_code is 'vi: Chỉ tiêu: export = xuất khẩu, import = nhập khẩu, retail = bán lẻ | en: Flow: export, import, retail';
comment on column reporting.rpt_trade_by_year.flow_name is 'vi: Tên chỉ tiêu | en: Flow name (Vietnamese)';
comment on column reporting.rpt_trade_by_year.value is 'vi: Giá trị | en: Value';
comment on column reporting.rpt_trade_by_year.unit is 'vi: Đơn vị tính | en: Unit';
comment on column reporting.rpt_trade_by_year.status is 'vi: Tình trạng số liệu | en: Status of the figure';
comment on column reporting.rpt_trade_by_year.yoy_growth_pct is 'vi: Tăng so với năm trước (%) | en: Growth on the previous year (%)';

comment on view reporting.loads is 'vi: Sổ nạp dữ liệu: mọi lần nạp một tệp và kết quả | en: The load ledger: every attempt to load a file and its outcome';
comment on column reporting.loads.load_id is 'vi: Mã lần nạp | en: Load id';
comment on column reporting.loads.file_name is 'vi: Tên tệp | en: File name';
comment on column reporting.loads.dataset is 'vi: Bộ dữ liệu | en: Dataset';
comment on column reporting.loads.province_code is 'vi: Mã tỉnh | en: Province code';
comment on column reporting.loads.reference_years is 'vi: Các năm số liệu trong tệp | en: Reference years in the file';
comment on column reporting.loads.status is 'vi: Kết quả: running, loaded, rejected, failed | en: Outcome: running, loaded, rejected, failed';
comment on column reporting.loads.rows_in is 'vi: Số dòng đọc được | en: Rows read';
comment on column reporting.loads.rows_loaded is 'vi: Số dòng đã nạp | en: Rows loaded';
comment on column reporting.loads.rows_rejected is 'vi: Số lỗi làm tệp bị từ chối | en: Errors that rejected the file';
comment on column reporting.loads.error is 'vi: Lý do (khi bị từ chối hoặc lỗi) | en: Reason (when rejected or failed)';
comment on column reporting.loads.attempt is 'vi: Lần thử thứ | en: Attempt number';
comment on column reporting.loads.retry_of is 'vi: Lần nạp gốc được chạy lại | en: The first load this one re-runs';
comment on column reporting.loads.flow_run_id is 'vi: Mã lần chạy Prefect | en: Prefect flow run id';
comment on column reporting.loads.layout_spec is 'vi: Mẫu bố cục đã dùng | en: Layout spec used';
comment on column reporting.loads.source_sha256 is 'vi: Mã băm SHA-256 của tệp | en: SHA-256 of the file';
comment on column reporting.loads.started_at is 'vi: Bắt đầu | en: Started at';
comment on column reporting.loads.finished_at is 'vi: Kết thúc | en: Finished at';

comment on view reporting.labels is 'vi: Tên tiếng Việt và tiếng Anh của các mã (ngành, thành phần, chỉ tiêu thương mại, nhóm hàng, khen thưởng, tỉnh, tình trạng) | en: Vietnamese and English names of every code (industry, ownership, trade flow, product group, award, province, status)';
comment on column reporting.labels.kind is 'vi: Loại mã | en: Kind of code';
comment on column reporting.labels.code is 'vi: Mã | en: Code';
comment on column reporting.labels.name_vi is 'vi: Tên tiếng Việt | en: Vietnamese name';
comment on column reporting.labels.name_en is 'vi: Tên tiếng Anh | en: English name';


comment on view reporting.submissions is 'vi: Tình hình nộp báo cáo theo bộ dữ liệu × tỉnh × năm: lần nạp gần nhất và tình trạng số liệu | en: Submissions by dataset × province × year: the latest load attempt and the status of the figures';
comment on column reporting.submissions.dataset is 'vi: Bộ dữ liệu | en: Dataset';
comment on column reporting.submissions.province_code is 'vi: Mã tỉnh | en: Province code';
comment on column reporting.submissions.reference_year is 'vi: Năm số liệu | en: Reference year';
comment on column reporting.submissions.state is 'vi: Tình trạng: final, preliminary, estimate, rejected, failed, running, missing | en: State: final, preliminary, estimate, rejected, failed, running, missing';
comment on column reporting.submissions.figures_status is 'vi: Tình trạng thấp nhất của các số liệu hiện hành | en: Weakest status among the current figures';
comment on column reporting.submissions.figures is 'vi: Số số liệu hiện hành | en: Number of current figures';
comment on column reporting.submissions.attempts is 'vi: Số lần nạp | en: Load attempts';
comment on column reporting.submissions.last_load_id is 'vi: Lần nạp gần nhất | en: Latest load id';
comment on column reporting.submissions.last_load_status is 'vi: Kết quả lần nạp gần nhất | en: Outcome of the latest load';
comment on column reporting.submissions.last_file_name is 'vi: Tệp của lần nạp gần nhất | en: File of the latest load';
comment on column reporting.submissions.last_error is 'vi: Lý do lỗi của lần nạp gần nhất | en: Error of the latest load';
comment on column reporting.submissions.last_load_at is 'vi: Thời điểm nạp gần nhất | en: Latest load time';

comment on view reporting.rpt_industrial_output_structure is 'vi: Cơ cấu giá trị sản xuất công nghiệp (giá hiện hành) theo ngành và theo thành phần kinh tế | en: Structure of industrial output (current prices) by industry and by ownership';
comment on column reporting.rpt_industrial_output_structure.province_code is 'vi: Mã tỉnh | en: Province code';
comment on column reporting.rpt_industrial_output_structure.reference_year is 'vi: Năm số liệu | en: Reference year';
comment on column reporting.rpt_industrial_output_structure.breakdown is 'vi: Phân tổ: industry = theo ngành, ownership = theo thành phần | en: Breakdown: industry or ownership';
comment on column reporting.rpt_industrial_output_structure.code is 'vi: Mã ngành hoặc thành phần | en: Industry or ownership code';
comment on column reporting.rpt_industrial_output_structure.name_vi is 'vi: Tên tiếng Việt | en: Vietnamese name';
comment on column reporting.rpt_industrial_output_structure.name_en is 'vi: Tên tiếng Anh | en: English name';
comment on column reporting.rpt_industrial_output_structure.value_bn_vnd is 'vi: Giá trị (tỷ đồng) | en: Value (billion VND)';
comment on column reporting.rpt_industrial_output_structure.status is 'vi: Tình trạng số liệu | en: Status of the figure';
comment on column reporting.rpt_industrial_output_structure.share_pct is 'vi: Tỷ trọng trong toàn ngành (%) | en: Share of all industry (%)';

comment on view reporting.rpt_awards_by_level is 'vi: Số khen thưởng theo năm, cấp khen thưởng và đối tượng | en: Awards per year by level and recipient kind';
comment on column reporting.rpt_awards_by_level.province_code is 'vi: Mã tỉnh | en: Province code';
comment on column reporting.rpt_awards_by_level.reference_year is 'vi: Năm số liệu | en: Reference year';
comment on column reporting.rpt_awards_by_level.award_level is 'vi: Cấp khen thưởng | en: Award level';
comment on column reporting.rpt_awards_by_level.recipient_kind is 'vi: Đối tượng (tập thể / cá nhân) | en: Recipient kind (collective / individual)';
comment on column reporting.rpt_awards_by_level.award_count is 'vi: Số lượng | en: Count';
comment on column reporting.rpt_awards_by_level.status is 'vi: Tình trạng thấp nhất của các số liệu | en: Weakest status of the figures';

comment on view reporting.rpt_iip is 'vi: Chỉ số sản xuất công nghiệp (%) theo địa bàn, kỳ, ngành và kỳ gốc so sánh | en: Industrial production index (%) by area, period, industry and comparison base';
comment on view reporting.rpt_indicators is 'vi: Số liệu của các biểu thống kê chung (mọi mẫu bố cục của bộ dữ liệu indicators) | en: Figures of generic statistics tables (any layout spec of dataset indicators)';
comment on view reporting.observation_vintages is 'vi: Mọi phiên bản của mọi số liệu: giá trị, đơn vị, giá trị và đơn vị như trong tệp, tình trạng (SDMX A/P/E), lần nạp, thời điểm nạp và bị thay thế | en: Every vintage of every figure: value, unit, value and unit as written, status (SDMX A/P/E), load id, loaded and superseded times';
comment on view reporting.rpt_revisions is 'vi: Số liệu công bố nhiều lần: lần đầu so với mới nhất (giá trị, tình trạng, chênh lệch tuyệt đối và %) | en: Figures published more than once: first published vs. latest value and status, revision in units and %';
comment on view reporting.observations_historical_boundaries is 'vi: Số liệu hiện hành theo địa giới tại thời điểm báo cáo, với tên tỉnh của năm đó | en: Current figures on the boundaries they were reported on, with the province as named that year';
comment on view reporting.observations_current_boundaries is 'vi: Số liệu hiện hành theo các tỉnh hiện nay: cộng các tỉnh trước sáp nhập năm 2025 (is_reconstructed, is_complete) | en: Current figures on today''s provinces: predecessors of 2025 mergers summed (is_reconstructed, is_complete)';
comment on view reporting.unit_conversions is 'vi: Các đơn vị cùng đại lượng và hệ số quy đổi | en: Units of the same quantity and the factor converting one into the other';
comment on view reporting.rpt_targets_vs_actuals is 'vi: Mục tiêu kế hoạch (cận dưới/cận trên) bên cạnh tốc độ tăng, mức hoặc tỷ trọng thực hiện, kèm đánh giá | en: Plan targets (lower/upper bound) beside the actual growth, level or share, with an assessment';
