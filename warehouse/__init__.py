"""The DuckDB warehouse: connections, migrations, loading, ledger and reporting views."""
