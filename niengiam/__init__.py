"""niengiam: yearly statistics spreadsheets into a validated DuckDB warehouse."""

__version__ = "0.1.0"
