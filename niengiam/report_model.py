"""What a report says, independent of how it is drawn: tables, charts, sources and notes. Pure.

build_report() turns the rows of warehouse.report into a Report in Vietnamese or English; the HTML
and Excel renderers (report_html, report_xlsx) only lay it out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from niengiam.labels import format_number, label, text

STATUS_ORDER = {"estimate": 1, "preliminary": 2, "final": 3}
LEVEL_ORDER = ["state", "government", "ministry", "province", "department"]
KINDS = ["collective", "individual"]
FLOW_ORDER = ["export", "import", "retail"]


@dataclass
class Column:
    """A table column: key in the row dicts, header, and how its values are written."""

    key: str
    title: str
    kind: str = "text"  # text | number | integer | percent | year | status | date | datetime
    decimals: int = 1


@dataclass
class Table:
    """A titled table; rows are dicts keyed by column key, `_source` maps a key to where the figure came from."""

    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    unit: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class Series:
    """One series of a chart: a value and a status per category."""

    name: str
    values: list[float | None]
    statuses: list[str | None]


@dataclass
class Chart:
    """A chart: grouped bars, stacked bars or lines over categories."""

    key: str
    title: str
    kind: str  # bar | stacked | line
    categories: list[str]
    series: list[Series]
    unit: str = ""
    decimals: int = 1


@dataclass
class Section:
    """A part of the report: a heading, a few sentences, charts and tables."""

    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass
class Highlight:
    """A key figure shown at the top: what, how much, its status."""

    title: str
    value: str
    status: str | None
    detail: str = ""


@dataclass
class Report:
    """The whole report in one language."""

    lang: str
    title: str
    subtitle: str
    year: int
    first_year: int
    last_year: int
    province: str
    generated_at: str
    highlights: list[Highlight]
    sections: list[Section]
    sources: Table
    revisions: Table
    notes: list[str]


# --- helpers -----------------------------------------------------------------------------------------


def weakest_status(statuses: list[str | None]) -> str | None:
    """The least final of several statuses (estimate < preliminary < final)."""
    known = [s for s in statuses if s]
    return min(known, key=lambda s: STATUS_ORDER.get(s, 0)) if known else None


def source_of(row: dict[str, Any]) -> str:
    """'file · sheet · cell' for a row that carries its provenance."""
    parts = [row.get("source_file"), row.get("source_sheet"), row.get("source_cell")]
    return " · ".join(str(p) for p in parts if p)


def _col(key: str, lang: str, kind: str = "text", decimals: int = 1) -> Column:
    return Column(key, label("column", key, lang), kind, decimals)


def _by_year(rows: list[dict[str, Any]], year: int) -> list[dict[str, Any]]:
    return [r for r in rows if r["reference_year"] == year]


def _name(row: dict[str, Any], lang: str) -> str:
    return row.get(f"name_{lang}") or row.get("name_vi") or row.get("code") or ""


# --- sections ----------------------------------------------------------------------------------------


def industrial_section(data: dict[str, list[dict]], year: int, lang: str) -> Section:
    """Industrial output: value and growth over the period, structure in the report year."""
    rows = data["industrial_by_year"]
    years = [str(r["reference_year"]) for r in rows]
    statuses = [r["status"] for r in rows]
    value_chart = Chart("industrial_output", text("chart_industrial_output", lang), "bar", years,
                        [Series(label("dataset", "industrial_output", lang),
                                [r["value_bn_vnd"] for r in rows], statuses)],
                        unit=label("unit", "bn_vnd", lang))
    growth_chart = Chart("industrial_growth", text("chart_industrial_growth", lang), "line", years,
                         [Series(label("column", "yoy_growth_pct", lang),
                                 [r["yoy_growth_pct"] for r in rows], statuses)], unit="%")
    table = Table("industrial_by_year", text("table_industrial_by_year", lang),
                  [_col("reference_year", lang, "year"), _col("value_bn_vnd", lang, "number"),
                   _col("yoy_growth_pct", lang, "percent"), _col("status", lang, "status")],
                  [{**r, "_source": {"value_bn_vnd": source_of(r)}} for r in rows],
                  unit=label("unit", "bn_vnd", lang))
    structure = [_structure_table(data, year, breakdown, lang) for breakdown in ("industry", "ownership")]
    return Section("industrial_output", text("section_industrial_output", lang),
                   _industrial_paragraphs(data, year, lang), [value_chart, growth_chart], [table, *structure])


def _structure_table(data: dict[str, list[dict]], year: int, breakdown: str, lang: str) -> Table:
    rows = [r for r in _by_year(data["industrial_structure"], year) if r["breakdown"] == breakdown]
    body = [{"name": _name(r, lang), "code": r["code"], "value_bn_vnd": r["value_bn_vnd"],
             "share_pct": r["share_pct"], "status": r["status"], "_source": {"value_bn_vnd": source_of(r)}}
            for r in rows]
    return Table(f"structure_{breakdown}", text(f"table_structure_{breakdown}", lang, year=year),
                 [_col("code", lang), _col("name", lang), _col("value_bn_vnd", lang, "number"),
                  _col("share_pct", lang, "percent"), _col("status", lang, "status")],
                 body, unit=label("unit", "bn_vnd", lang))


def _growth(data: dict[str, list[dict]], series: str) -> dict[str, Any] | None:
    return next((g for g in data["period_growth"] if g["series"] == series), None)


def _industrial_paragraphs(data: dict[str, list[dict]], year: int, lang: str) -> list[str]:
    current = next((r for r in data["industrial_by_year"] if r["reference_year"] == year), None)
    if current is None:
        return [text("no_figures", lang, year=year)]
    sentences = [text("industrial_sentence", lang, year=year,
                      value=format_number(current["value_bn_vnd"], 1, lang),
                      status=label("status", current["status"], lang).lower())]
    if current["yoy_growth_pct"] is not None:
        sentences.append(text("growth_sentence", lang, growth=format_number(current["yoy_growth_pct"], 1, lang)))
    growth = _growth(data, "industrial_output")
    if growth and growth["average_growth_pct"] is not None:
        sentences.append(text("average_growth_sentence", lang, first=growth["first_year"],
                              last=growth["last_year"],
                              growth=format_number(growth["average_growth_pct"], 1, lang)))
    return [" ".join(sentences)]


def trade_section(data: dict[str, list[dict]], year: int, lang: str) -> Section:
    """Exports and imports (million USD) and retail sales (billion VND) over the period."""
    rows = data["trade_by_year"]
    years = sorted({r["reference_year"] for r in rows})
    by_flow: dict[str, dict[int, dict]] = defaultdict(dict)
    for r in rows:
        by_flow[r["flow_code"]][r["reference_year"]] = r

    def series(flow: str) -> Series:
        cells = [by_flow[flow].get(y) for y in years]
        return Series(label("trade_flow", flow, lang), [c["value"] if c else None for c in cells],
                      [c["status"] if c else None for c in cells])

    categories = [str(y) for y in years]
    charts = [
        Chart("trade_exports_imports", text("chart_trade", lang), "bar", categories,
              [series(f) for f in ("export", "import") if f in by_flow], unit=label("unit", "mn_usd", lang)),
        Chart("trade_retail", text("chart_retail", lang), "bar", categories,
              [series("retail")] if "retail" in by_flow else [], unit=label("unit", "bn_vnd", lang)),
    ]
    ordered = sorted(rows, key=lambda r: (FLOW_ORDER.index(r["flow_code"]) if r["flow_code"] in FLOW_ORDER
                                          else len(FLOW_ORDER), r["reference_year"]))
    body = [{"flow": _name(r, lang), "reference_year": r["reference_year"], "value": r["value"],
             "unit": label("unit", r["unit"], lang), "yoy_growth_pct": r["yoy_growth_pct"],
             "status": r["status"], "_source": {"value": source_of(r)}} for r in ordered]
    table = Table("trade_by_year", text("table_trade_by_year", lang),
                  [_col("flow", lang), _col("reference_year", lang, "year"), _col("value", lang, "number"),
                   _col("unit", lang), _col("yoy_growth_pct", lang, "percent"), _col("status", lang, "status")],
                  body)
    return Section("trade", text("section_trade", lang), _trade_paragraphs(data, year, lang), charts, [table])


def _trade_paragraphs(data: dict[str, list[dict]], year: int, lang: str) -> list[str]:
    now = {r["flow_code"]: r for r in _by_year(data["trade_by_year"], year)}
    if not now:
        return [text("no_figures", lang, year=year)]
    parts = [text("trade_sentence", lang, flow=label("trade_flow", code, lang),
                  value=format_number(r["value"], 1, lang), unit=label("unit_text", r["unit"], lang),
                  status=label("status", r["status"], lang).lower())
             for code, r in sorted(now.items(), key=lambda kv: FLOW_ORDER.index(kv[0])
                                   if kv[0] in FLOW_ORDER else 9)]
    return ["; ".join(parts) + "."]


def awards_section(data: dict[str, list[dict]], year: int, lang: str) -> Section:
    """Awards of the report year by level and recipient kind, and the list of awards."""
    level_rows = _by_year(data["awards_by_level"], year)
    levels = [lv for lv in LEVEL_ORDER if any(r["award_level"] == lv for r in level_rows)]
    levels += sorted({r["award_level"] for r in level_rows} - set(levels))
    cell = {(r["award_level"], r["recipient_kind"]): r for r in level_rows}
    chart = Chart("awards_by_level", text("chart_awards", lang, year=year), "stacked",
                  [label("award_level", lv, lang) for lv in levels],
                  [Series(label("recipient_kind", kind, lang),
                          [cell[(lv, kind)]["award_count"] if (lv, kind) in cell else None for lv in levels],
                          [cell[(lv, kind)]["status"] if (lv, kind) in cell else None for lv in levels])
                   for kind in KINDS],
                  unit=label("unit", "count", lang), decimals=0)
    return Section("awards", text("section_awards", lang), _awards_paragraphs(data, year, lang), [chart],
                   [_awards_table(data, year, lang)])


def _awards_table(data: dict[str, list[dict]], year: int, lang: str) -> Table:
    grouped: dict[str, dict[str, Any]] = {}
    for r in _by_year(data["awards"], year):
        row = grouped.setdefault(r["award_code"], {
            "award": _name(r, lang), "award_level": label("award_level", r["award_level"], lang),
            "_level": r["award_level"], "_statuses": [], "_source": {}})
        row[r["recipient_kind"]] = (row.get(r["recipient_kind"]) or 0) + r["award_count"]
        row["_statuses"].append(r["status"])
        row["_source"][r["recipient_kind"]] = source_of(r)
    rows = sorted(grouped.values(), key=lambda r: (_level_rank(r["_level"]), r["award"]))
    for row in rows:
        row["status"] = weakest_status(row.pop("_statuses"))
    return Table("awards", text("table_awards", lang, year=year),
                 [_col("award", lang), _col("award_level", lang), _col("collective", lang, "integer"),
                  _col("individual", lang, "integer"), _col("status", lang, "status")], rows)


def _level_rank(level: str) -> int:
    return LEVEL_ORDER.index(level) if level in LEVEL_ORDER else len(LEVEL_ORDER)


def _awards_paragraphs(data: dict[str, list[dict]], year: int, lang: str) -> list[str]:
    rows = _by_year(data["awards"], year)
    if not rows:
        return [text("no_figures", lang, year=year)]
    totals = {kind: sum(r["award_count"] for r in rows if r["recipient_kind"] == kind) for kind in KINDS}
    return [text("awards_sentence", lang, year=year, collectives=format_number(totals["collective"], 0, lang),
                 individuals=format_number(totals["individual"], 0, lang))]


# --- sources, revisions, notes -----------------------------------------------------------------------


def sources_table(data: dict[str, list[dict]], lang: str) -> Table:
    """The files every figure of the report came from."""
    rows = [{**r, "dataset": label("dataset", r["dataset"], lang), "source_sha256": r["source_sha256"][:12]}
            for r in data["sources"]]
    return Table("sources", text("table_sources", lang),
                 [_col("source_file", lang), _col("dataset", lang), _col("reference_years", lang),
                  _col("load_id", lang, "integer"), _col("loaded_at", lang), _col("source_sha256", lang)], rows)


def revisions_table(data: dict[str, list[dict]], lang: str) -> Table:
    """Figures whose value or status changed since first published."""
    rows = [{"dataset": label("dataset", r["dataset"], lang), "reference_year": r["reference_year"],
             "figure": " / ".join(str(d) for d in (r["dimension_1"], r["dimension_2"], r["dimension_3"]) if d),
             "first_value": r["first_value"], "first_status": r["first_status"],
             "current_value": r["current_value"], "current_status": r["current_status"],
             "revision": r["revision"], "revision_pct": r["revision_pct"], "vintages": r["vintages"]}
            for r in data["revisions"]]
    return Table("revisions", text("table_revisions", lang),
                 [_col("dataset", lang), _col("reference_year", lang, "year"), _col("figure", lang),
                  _col("first_value", lang, "number"), _col("first_status", lang, "status"),
                  _col("current_value", lang, "number"), _col("current_status", lang, "status"),
                  _col("revision", lang, "number"), _col("revision_pct", lang, "percent"),
                  _col("vintages", lang, "integer")], rows)


def report_notes(data: dict[str, list[dict]], lang: str) -> list[str]:
    """Status legend, units, and how to trace a figure."""
    statuses = sorted({r["status"] for key in ("industrial_by_year", "trade_by_year", "awards")
                       for r in data[key]}, key=lambda s: STATUS_ORDER.get(s, 0))
    legend = "; ".join(f"{label('status', s, lang)} ({s})" for s in statuses)
    notes = [text("note_statuses", lang, legend=legend), text("note_units", lang),
             text("note_numbers", lang), text("note_sources", lang)]
    if not data["revisions"]:
        notes.append(text("note_no_revisions", lang))
    return notes


def highlights(data: dict[str, list[dict]], year: int, lang: str) -> list[Highlight]:
    """The key figures of the report year."""
    found: list[Highlight] = []
    output = next((r for r in _by_year(data["industrial_by_year"], year)), None)
    if output:
        detail = (text("growth_short", lang, growth=format_number(output["yoy_growth_pct"], 1, lang))
                  if output["yoy_growth_pct"] is not None else "")
        found.append(Highlight(label("dataset", "industrial_output", lang),
                               f"{format_number(output['value_bn_vnd'], 1, lang)} {label('unit_text', 'bn_vnd', lang)}",
                               output["status"], detail))
    for r in sorted(_by_year(data["trade_by_year"], year), key=lambda r: FLOW_ORDER.index(r["flow_code"])
                    if r["flow_code"] in FLOW_ORDER else 9):
        detail = (text("growth_short", lang, growth=format_number(r["yoy_growth_pct"], 1, lang))
                  if r["yoy_growth_pct"] is not None else "")
        found.append(Highlight(label("trade_flow", r["flow_code"], lang),
                               f"{format_number(r['value'], 1, lang)} {label('unit_text', r['unit'], lang)}",
                               r["status"], detail))
    awards = _by_year(data["awards"], year)
    if awards:
        total = sum(r["award_count"] for r in awards)
        found.append(Highlight(label("dataset", "awards", lang), format_number(total, 0, lang),
                               weakest_status([r["status"] for r in awards])))
    return found


def build_report(
    data: dict[str, list[dict]], province: str, year: int, first_year: int, last_year: int, lang: str,
    generated_at: datetime | None = None,
) -> Report:
    """The report for one province: the report year in detail, the period in charts."""
    when = (generated_at or datetime.now()).strftime("%Y-%m-%d %H:%M")
    province_name = label("province", province, lang)
    return Report(
        lang=lang,
        title=text("report_title", lang, year=year, province=province_name),
        subtitle=text("report_subtitle", lang, first=first_year, last=last_year),
        year=year, first_year=first_year, last_year=last_year, province=province_name, generated_at=when,
        highlights=highlights(data, year, lang),
        sections=[industrial_section(data, year, lang), trade_section(data, year, lang),
                  awards_section(data, year, lang)],
        sources=sources_table(data, lang),
        revisions=revisions_table(data, lang),
        notes=report_notes(data, lang),
    )


def cell_text(column: Column, value: Any, lang: str) -> str:
    """A table value written for people: local number format, status names."""
    if value is None or value == "":
        return ""
    if column.kind == "number":
        return format_number(value, column.decimals, lang)
    if column.kind == "percent":
        return format_number(value, 1, lang)
    if column.kind == "integer":
        return format_number(value, 0, lang)
    if column.kind == "status":
        return label("status", value, lang)
    return str(value)
