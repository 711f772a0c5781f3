-- What the reporting views were last built from (a hash of their SQL files and of the migrations applied),
-- so an ingestion that changed neither rebuilds nothing.
create table meta.view_definitions (
    sha256      varchar not null,
    built_at    timestamptz not null
);
