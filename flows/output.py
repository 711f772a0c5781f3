"""Formatting results for the terminal: aligned tables, CSV and JSON."""

from __future__ import annotations


def render(columns: list[str], rows: list[tuple], output_format: str) -> str:
    """Format a result as an aligned table, CSV or JSON."""
    import csv
    import io
    import json

    if output_format == "json":
        return json.dumps([dict(zip(columns, r)) for r in rows], ensure_ascii=False, default=str, indent=1) + "\n"
    if output_format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
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


