"""The report as one self-contained HTML file: inline CSS and SVG, no script, no network. Pure."""

from __future__ import annotations

from html import escape

from niengiam.labels import label, text
from niengiam.report_model import Highlight, Report, Section, Table, cell_text
from niengiam.report_svg import render_chart

STYLE = """
:root { --ink: #1d2733; --muted: #5b6775; --line: #d8dee6; --accent: #1f6fb2; }
* { box-sizing: border-box; }
body { font-family: 'Noto Sans', 'DejaVu Sans', Arial, sans-serif; color: var(--ink); margin: 0; background: #f6f8fa; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
header h1 { font-size: 1.6rem; margin: 0 0 4px; }
header p { color: var(--muted); margin: 2px 0; }
h2 { font-size: 1.25rem; border-bottom: 2px solid var(--accent); padding-bottom: 4px; margin-top: 36px; }
h3 { font-size: 1rem; margin: 20px 0 6px; }
.highlights { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 12px; margin: 16px 0; }
.highlight { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.highlight .what { color: var(--muted); font-size: .85rem; }
.highlight .value { font-size: 1.3rem; font-weight: 600; margin: 2px 0; }
.highlight .detail { font-size: .85rem; color: var(--muted); }
.status { display: inline-block; font-size: .75rem; border-radius: 3px; padding: 1px 6px; border: 1px solid; white-space: nowrap; }
.status-final { color: #1b6e3a; border-color: #1b6e3a; }
.status-preliminary { color: #8a5a00; border-color: #8a5a00; background: #fff6e0; }
.status-estimate { color: #a3361c; border-color: #a3361c; background: #fdebe6; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 8px 0; flex: 1 1 440px; min-width: 0; max-width: 640px; }
figcaption { font-weight: 600; font-size: .9rem; margin-bottom: 4px; }
svg.chart { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
table { border-collapse: collapse; margin: 6px 0 4px; font-size: .9rem; }
th, td { border: 1px solid var(--line); padding: 4px 8px; vertical-align: top; }
th { background: #eef2f6; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.not-final td.num { font-style: italic; }
.unit { color: var(--muted); font-size: .8rem; margin: 0; }
.legend-note, .notes li { color: var(--muted); font-size: .85rem; }
footer { margin-top: 36px; color: var(--muted); font-size: .8rem; }
@media print { body { background: #fff; } main { padding: 0; } }
"""


def status_badge(status: str | None, lang: str) -> str:
    """A small coloured label naming a figure's status."""
    if not status:
        return ""
    return f'<span class="status status-{escape(status)}">{escape(label("status", status, lang))}</span>'


def render_table(table: Table, lang: str) -> str:
    """A table with its title and unit; each figure's source cell shows as a tooltip."""
    head = "".join(f"<th>{escape(c.title)}</th>" for c in table.columns)
    body = "".join(_row(table, row, lang) for row in table.rows)
    unit = f'<p class="unit">{escape(text("unit_line", lang, unit=table.unit))}</p>' if table.unit else ""
    return (f'<h3>{escape(table.title)}</h3>{unit}<table data-table="{escape(table.key)}">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _row(table: Table, row: dict, lang: str) -> str:
    sources = row.get("_source", {})
    cells = []
    for column in table.columns:
        value = row.get(column.key)
        title = f' title="{escape(sources[column.key])}"' if sources.get(column.key) else ""
        if column.kind == "status":
            cells.append(f"<td>{status_badge(value, lang)}</td>")
        elif column.kind in ("number", "percent", "integer"):
            cells.append(f'<td class="num"{title}>{escape(cell_text(column, value, lang))}</td>')
        else:
            cells.append(f"<td{title}>{escape(cell_text(column, value, lang))}</td>")
    status = row.get("status")
    css = ' class="not-final"' if status and status != "final" else ""
    return f"<tr{css}>{''.join(cells)}</tr>"


def _highlight(item: Highlight, lang: str) -> str:
    detail = f'<div class="detail">{escape(item.detail)}</div>' if item.detail else ""
    return (f'<div class="highlight"><div class="what">{escape(item.title)}</div>'
            f'<div class="value">{escape(item.value)}</div>{status_badge(item.status, lang)}{detail}</div>')


def _section(section: Section, lang: str) -> str:
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in section.paragraphs)
    charts = "".join(f"<figure><figcaption>{escape(c.title)}</figcaption>{render_chart(c, lang)}</figure>"
                     for c in section.charts)
    legend = f'<p class="legend-note">{escape(text("status_legend", lang))}</p>' if section.charts else ""
    tables = "".join(render_table(t, lang) for t in section.tables)
    return (f'<section id="{escape(section.key)}"><h2>{escape(section.title)}</h2>{paragraphs}'
            f'<div class="charts">{charts}</div>{legend}{tables}</section>')


def render_html(report: Report) -> str:
    """The whole report as one HTML document."""
    lang = report.lang
    highlights = "".join(_highlight(h, lang) for h in report.highlights)
    sections = "".join(_section(s, lang) for s in report.sections)
    revisions = render_table(report.revisions, lang) if report.revisions.rows else ""
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(report.title)}</title><style>{STYLE}</style></head><body><main>"
        f"<header><h1>{escape(report.title)}</h1><p>{escape(report.subtitle)}</p>"
        f"<p>{escape(text('generated', lang, when=report.generated_at))}</p></header>"
        f'<section id="highlights"><h2>{escape(text("key_figures", lang, year=report.year))}</h2>'
        f'<div class="highlights">{highlights}</div></section>{sections}'
        f'<section id="sources"><h2>{escape(text("section_sources", lang))}</h2>'
        f"{render_table(report.sources, lang)}</section>"
        f'<section id="revisions"><h2>{escape(text("section_revisions", lang))}</h2>{revisions}</section>'
        f'<section id="notes"><h2>{escape(text("section_notes", lang))}</h2><ul class="notes">{notes}</ul>'
        f"</section><footer>niengiam · {escape(report.generated_at)}</footer></main></body></html>\n"
    )
