"""Pure description of the data: readers, layout specs, parsing and pandera contracts (no Prefect, no DuckDB)."""
