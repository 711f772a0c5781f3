"""Charts as inline SVG: grouped and stacked bars, lines. No JavaScript, no network. Pure.

Figures that are not final (estimate, preliminary) are drawn hatched (bars) or hollow (points), and
every mark carries a <title> tooltip with its year, value and status.
"""

from __future__ import annotations

import math
from html import escape

from niengiam.labels import format_number, label, text
from niengiam.report_model import Chart

WIDTH, HEIGHT = 640, 330
LEFT, RIGHT, TOP, BOTTOM = 78, 16, 26, 70
PALETTE = ["#1f6fb2", "#e07b39", "#3a9a5b", "#8e5ea2", "#c0392b"]
FONT = "font-family=\"'Noto Sans', 'DejaVu Sans', Arial, sans-serif\""


def nice_step(span: float, ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 × 10^k) giving about `ticks` intervals over span."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def axis_range(values: list[float]) -> tuple[float, float, float]:
    """(low, high, step) of a y axis that starts at zero unless values go below it."""
    low, high = min([0.0, *values]), max([0.0, *values])
    step = nice_step(high - low or 1.0)
    return math.floor(low / step) * step, math.ceil(high / step) * step or step, step


def _is_final(status: str | None) -> bool:
    return status in (None, "final")


def _values(chart: Chart) -> list[float]:
    if chart.kind == "stacked":
        return [sum(s.values[i] or 0 for s in chart.series) for i in range(len(chart.categories))]
    return [v for s in chart.series for v in s.values if v is not None]


def render_chart(chart: Chart, lang: str) -> str:
    """One chart as an <svg> element (or a short note when there is nothing to draw)."""
    values = _values(chart)
    if not chart.series or not values:
        return f'<p class="chart empty" data-chart="{escape(chart.key)}">{escape(text("no_data", lang))}</p>'
    low, high, step = axis_range(values)
    plot = _Plot(low, high)
    parts = [_defs(chart), *_grid(plot, low, high, step, lang)]
    if chart.kind == "line":
        parts += _lines(chart, plot, lang)
    else:
        parts += _bars(chart, plot, lang)
    parts += _x_labels(chart) + _legend(chart, lang)
    title = escape(chart.title)
    return (f'<svg class="chart" data-chart="{escape(chart.key)}" data-kind="{chart.kind}" role="img"'
            f' aria-label="{title}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"'
            f' xmlns="http://www.w3.org/2000/svg" {FONT} font-size="12">'
            f"<title>{title}</title>{''.join(parts)}</svg>")


class _Plot:
    """Maps values to y pixels inside the plot area."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high
        self.height = HEIGHT - TOP - BOTTOM
        self.width = WIDTH - LEFT - RIGHT

    def y(self, value: float) -> float:
        return TOP + self.height * (1 - (value - self.low) / ((self.high - self.low) or 1))


def _defs(chart: Chart) -> str:
    patterns = "".join(
        f'<pattern id="{chart.key}-hatch-{i}" patternUnits="userSpaceOnUse" width="6" height="6"'
        f' patternTransform="rotate(45)"><rect width="6" height="6" fill="{color}" fill-opacity="0.35"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{color}" stroke-width="3"/></pattern>'
        for i, color in enumerate(PALETTE))
    return f"<defs>{patterns}</defs>"


def _grid(plot: _Plot, low: float, high: float, step: float, lang: str) -> list[str]:
    decimals = next(d for d in range(4) if abs(step * 10**d - round(step * 10**d)) < 1e-9) if step < 100 else 0
    parts = []
    tick = low
    while tick <= high + step / 1000:
        y = plot.y(tick)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"'
                     f' stroke="#ddd"/><text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end"'
                     f' fill="#555">{format_number(tick, decimals, lang)}</text>')
        tick += step
    zero = plot.y(0)
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{zero:.1f}" y2="{zero:.1f}"'
                 f' stroke="#333"/>')
    return parts


def _band(chart: Chart) -> float:
    return (WIDTH - LEFT - RIGHT) / max(len(chart.categories), 1)


def _tooltip(chart: Chart, series_name: str, index: int, value: float, status: str | None, lang: str) -> str:
    unit = f" {chart.unit}" if chart.unit else ""
    status_name = f" · {label('status', status, lang)}" if status else ""
    return escape(f"{chart.categories[index]} · {series_name}: {format_number(value, chart.decimals, lang)}"
                  f"{unit}{status_name}")


def _bars(chart: Chart, plot: _Plot, lang: str) -> list[str]:
    band = _band(chart)
    stacked = chart.kind == "stacked"
    width = band * 0.7 / (1 if stacked else len(chart.series))
    parts: list[str] = []
    base = [0.0] * len(chart.categories)
    for s_index, series in enumerate(chart.series):
        color = PALETTE[s_index % len(PALETTE)]
        for i, value in enumerate(series.values):
            if value is None:
                continue
            bottom = base[i] if stacked else 0.0
            top = bottom + value
            x = LEFT + band * i + band * 0.15 + (0 if stacked else width * s_index)
            y0, y1 = plot.y(max(bottom, top)), plot.y(min(bottom, top))
            status = series.statuses[i]
            fill = color if _is_final(status) else f"url(#{chart.key}-hatch-{s_index % len(PALETTE)})"
            parts.append(
                f'<rect class="mark bar" data-status="{escape(status or "")}" x="{x:.1f}" y="{y0:.1f}"'
                f' width="{width:.1f}" height="{max(y1 - y0, 0.5):.1f}" fill="{fill}" stroke="{color}">'
                f"<title>{_tooltip(chart, series.name, i, value, status, lang)}</title></rect>")
            if not stacked and len(chart.categories) * len(chart.series) <= 24:
                parts.append(f'<text class="value" pointer-events="none" x="{x + width / 2:.1f}" y="{y0 - 4:.1f}" text-anchor="middle"'
                             f' font-size="10" fill="#333">{format_number(value, chart.decimals, lang)}</text>')
            elif stacked and value:
                parts.append(f'<text class="value" pointer-events="none" x="{x + width / 2:.1f}" y="{(y0 + y1) / 2 + 4:.1f}"'
                             f' text-anchor="middle" font-size="11" fill="#fff">'
                             f"{format_number(value, chart.decimals, lang)}</text>")
            base[i] = top if stacked else base[i]
    return parts


def _lines(chart: Chart, plot: _Plot, lang: str) -> list[str]:
    band = _band(chart)
    parts: list[str] = []
    for s_index, series in enumerate(chart.series):
        color = PALETTE[s_index % len(PALETTE)]
        points = [(LEFT + band * (i + 0.5), plot.y(v), i, v) for i, v in enumerate(series.values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            parts.append(f'<polyline class="mark line" points="{path}" fill="none" stroke="{color}"'
                         f' stroke-width="2.5"/>')
        for x, y, i, v in points:
            status = series.statuses[i]
            fill = color if _is_final(status) else "#fff"
            parts.append(
                f'<circle class="mark point" data-status="{escape(status or "")}" cx="{x:.1f}" cy="{y:.1f}"'
                f' r="5" fill="{fill}" stroke="{color}" stroke-width="2">'
                f"<title>{_tooltip(chart, series.name, i, v, status, lang)}</title></circle>"
                f'<text class="value" pointer-events="none" x="{x:.1f}" y="{y - 9:.1f}" text-anchor="middle" font-size="10"'
                f' fill="#333">{format_number(v, chart.decimals, lang)}</text>')
    return parts


def _x_labels(chart: Chart) -> list[str]:
    band = _band(chart)
    y = HEIGHT - BOTTOM + 16
    return [f'<text class="category" x="{LEFT + band * (i + 0.5):.1f}" y="{y}" text-anchor="middle"'
            f' fill="#333">{escape(c)}</text>' for i, c in enumerate(chart.categories)]


def _legend(chart: Chart, lang: str) -> list[str]:
    y = HEIGHT - 24
    parts, x = [], LEFT
    if chart.unit:
        parts.append(f'<text x="{LEFT}" y="{TOP - 10}" fill="#555">{escape(text("unit_line", lang, unit=chart.unit))}'
                     "</text>")
    for s_index, series in enumerate(chart.series):
        color = PALETTE[s_index % len(PALETTE)]
        parts.append(f'<rect class="legend" x="{x}" y="{y - 10}" width="12" height="12" fill="{color}"/>'
                     f'<text x="{x + 16}" y="{y}" fill="#333">{escape(series.name)}</text>')
        x += 28 + 7 * len(series.name)
    if any(not _is_final(s) for series in chart.series for s in series.statuses):
        parts.append(f'<rect class="legend" x="{x}" y="{y - 10}" width="12" height="12"'
                     f' fill="url(#{chart.key}-hatch-0)" stroke="{PALETTE[0]}"/>'
                     f'<text x="{x + 16}" y="{y}" fill="#333">{escape(_not_final_label(chart, lang))}</text>')
    return parts


def _not_final_label(chart: Chart, lang: str) -> str:
    statuses = sorted({s for series in chart.series for s in series.statuses if s and not _is_final(s)})
    return " / ".join(label("status", s, lang) for s in statuses)
