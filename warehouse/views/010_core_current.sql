-- Current figures: the latest vintage of every fact (rows not superseded by a later load).
create or replace view core.fct_industrial_output_current as
with source as (select * from core.fct_industrial_output),
final as (select * exclude (_superseded_at, _superseded_by) from source where _superseded_at is null)
select * from final;

create or replace view core.fct_trade_current as
with source as (select * from core.fct_trade),
final as (select * exclude (_superseded_at, _superseded_by) from source where _superseded_at is null)
select * from final;

create or replace view core.fct_awards_current as
with source as (select * from core.fct_awards),
final as (select * exclude (_superseded_at, _superseded_by) from source where _superseded_at is null)
select * from final;
