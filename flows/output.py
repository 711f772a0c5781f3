"""Writing query results: aligned tables, CSV and JSON for the terminal or a file; Parquet and Excel files.

CSV text that a spreadsheet would run as a formula gets a leading apostrophe; Excel cells are written
as text. Parquet and Excel are written by niengiam (Arrow → pyarrow.parquet, xlsxwriter), never by
DuckDB's COPY, which the read-only connection refuses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEXT_FORMATS = ("table", "csv", "json")
FILE_FORMATS = ("parquet", "xlsx")


def render(columns: list[str], rows: list[tuple], output_format: str) -> str:
    """Format a result as an aligned table, CSV or JSON."""
    import io
    import json

    if output_format == "json":
        return json.dumps([dict(zip(columns, r)) for r in rows], ensure_ascii=False, default=str, indent=1) + "\n"
    if output_format == "csv":
        from niengiam.tabular import write_csv

        out = io.StringIO()
        write_csv(out, columns, rows)
        return out.getvalue()
    cells = [[_show(v) for v in r] for r in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths))
    body = ["  ".join(v.rjust(w) if _numeric(r_v) else v.ljust(w) for v, w, r_v in zip(r, widths, raw))
            for r, raw in zip(cells, rows)]
    footer = f"({len(rows)} row{'s' if len(rows) != 1 else ''})"
    return "\n".join([line, "  ".join("-" * w for w in widths), *body, footer]) + "\n"


def _numeric(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _show(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) or abs(value) >= 1e15 else f"{value:,.0f}"
    return str(value)


def write_text(path: Path, content: str) -> None:
    """Write rendered text (table, CSV, JSON) to a file in UTF-8."""
    path.write_text(content, encoding="utf-8")


def write_parquet(table: Any, path: Path) -> int:
    """Write an Arrow table to a Parquet file (zstd); returns the number of rows."""
    import pyarrow.parquet as pq

    pq.write_table(table, str(path), compression="zstd")
    return int(table.num_rows)


# DuckDB type name prefix -> column kind of the Excel writer
_KINDS = (
    (("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"),
     "integer"),
    (("DOUBLE", "FLOAT", "REAL", "DECIMAL"), "number"),
    (("TIMESTAMP",), "datetime"),
    (("DATE",), "date"),
)


def column_kind(name: str, duckdb_type: str) -> str:
    """How the Excel writer formats a column of this DuckDB type."""
    upper = duckdb_type.upper()
    kind = next((k for prefixes, k in _KINDS if upper.startswith(prefixes)), "text")
    return "year" if kind == "integer" and name.endswith("year") else kind


def write_xlsx(path: Path, columns: list[str], types: list[str], rows: list[tuple], title: str) -> int:
    """Write a query result to one formatted sheet; returns the number of rows."""
    from niengiam.report_model import Column, Table
    from niengiam.report_xlsx import write_tables

    spec = [Column(c, c, column_kind(c, t), 2) for c, t in zip(columns, types)]
    body = [dict(zip(columns, row)) for row in rows]
    write_tables(path, [Table("query", title, spec, body)])
    return len(rows)
