"""Charts of the console's tables as plain geometry, drawn as inline SVG by templates/console/_charts.html.

Nothing here makes markup: every label stays a plain string that Jinja escapes where the template
writes it (a grid named "<script>" is text in the SVG, never an element). The kinds:

- "bar": horizontal bars of the first percent column (coverage, within-SLA share: what a supervisor
  compares), else the first numeric column, by the first text column (long Chinese names read best
  on the left of a horizontal bar);
- "line": the numeric columns of the first numeric column's kind (so scores and counts never share
  an axis) over the rows, in their order, labelled by the first column;
- "heatmap": rows of (building, floor, value) as a grid, buildings across and floors up, each cell
  coloured from red (0 %) through amber to green (100 %) — percentages are 0–100 (figures.py);
- "none": no chart.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from numbers import Number

NUMERIC = frozenset({"int", "percent", "number", "minutes"})
MAX_BARS = 40  # a longer table is still listed in full beside the chart
MAX_POINTS = 400
PALETTE = ("#2f6fb3", "#d9822b", "#3b9c6b", "#9b59b6", "#c0392b")

# Geometry, in SVG user units.
BAR_HEIGHT, BAR_GAP, LABEL_WIDTH, BAR_AREA, VALUE_WIDTH, TOP = 18, 6, 150, 360, 70, 8
LINE_WIDTH, LINE_HEIGHT, LINE_LEFT, LINE_BOTTOM, LINE_TOP, LINE_RIGHT = 680, 260, 56, 40, 12, 48
CELL_W, CELL_H, HEAT_LEFT, HEAT_TOP = 56, 26, 48, 28


def is_number(value) -> bool:
    return isinstance(value, Number) and not isinstance(value, bool)


def format_value(value, kind: str) -> str:
    """A cell as people read it (server/console/figures.py: percent is 0–100, minutes one decimal,
    averages two decimals)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if not is_number(value):
        return str(value)
    if kind == "percent":
        return f"{float(value):.1f}%"
    if kind == "int":
        return f"{int(round(float(value))):d}"
    if kind == "minutes":
        return f"{float(value):.1f}"
    if kind == "number":
        return f"{float(value):.2f}"
    return str(value)


def _columns(table, kinds=NUMERIC) -> list[int]:
    return [i for i, column in enumerate(table.columns) if column.kind in kinds]


def _label_index(table) -> int:
    texts = _columns(table, {"text"})
    return texts[0] if texts else 0


def _column_name(column, language: str) -> str:
    return column.en if language == "en" else column.zh


def _natural(value) -> tuple:
    """Sort "2栋" before "10栋": runs of digits compare as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", str(value)) if part != "")


def _shorten(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Bar:
    label: str
    full_label: str
    value: str
    y: float
    width: float


@dataclass(frozen=True)
class BarChart:
    kind = "bar"
    title: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int
    bar_height: int
    omitted: int


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    points: str  # "x,y x,y" for <polyline>: numbers only
    dots: tuple[tuple[float, float, str, str], ...]  # x, y, label, value


@dataclass(frozen=True)
class LineChart:
    kind = "line"
    title: str
    series: tuple[Series, ...]
    width: int
    height: int
    left: int
    bottom: int
    top: int
    right: int
    y_ticks: tuple[tuple[float, str], ...]
    x_ticks: tuple[tuple[float, str], ...]


@dataclass(frozen=True)
class Cell:
    x: int
    y: int
    colour: str
    text: str
    title: str


@dataclass(frozen=True)
class HeatMap:
    kind = "heatmap"
    title: str
    cells: tuple[Cell, ...]
    columns: tuple[tuple[float, str], ...]  # x centre, building
    rows: tuple[tuple[float, str], ...]  # y centre, floor
    width: int
    height: int
    cell_width: int
    cell_height: int


def chart_for(table, language: str):
    """The chart of a table, or None ("none", or nothing numeric to draw)."""
    if table.chart == "none" or not table.rows:
        return None
    if table.chart == "heatmap":
        return heat_map(table, language)
    if table.chart == "line":
        return line_chart(table, language)
    return bar_chart(table, language)


def bar_chart(table, language: str) -> BarChart | None:
    numeric = _columns(table)
    if not numeric:
        return None
    percents = _columns(table, {"percent"})
    value_at, label_at = (percents or numeric)[0], _label_index(table)
    column = table.columns[value_at]
    rows = table.rows[:MAX_BARS]
    values = [float(row[value_at]) if is_number(row[value_at]) else 0.0 for row in rows]
    top = 100.0 if column.kind == "percent" else max(values + [0.0])
    top = top or 1.0
    bars = []
    for i, (row, value) in enumerate(zip(rows, values)):
        label = format_value(row[label_at], table.columns[label_at].kind)
        bars.append(Bar(label=_shorten(label), full_label=label,
                        value=format_value(row[value_at], column.kind),
                        y=TOP + i * (BAR_HEIGHT + BAR_GAP), width=round(max(0.0, value) / top * BAR_AREA, 1)))
    height = TOP * 2 + len(bars) * (BAR_HEIGHT + BAR_GAP)
    return BarChart(title=_column_name(column, language), bars=tuple(bars),
                    width=LABEL_WIDTH + BAR_AREA + VALUE_WIDTH, height=height, label_width=LABEL_WIDTH,
                    bar_height=BAR_HEIGHT, omitted=max(0, len(table.rows) - MAX_BARS))


def line_chart(table, language: str) -> LineChart | None:
    numeric = _columns(table)
    if not numeric:
        return None
    kind = table.columns[numeric[0]].kind
    drawn = [i for i in numeric if table.columns[i].kind == kind][: len(PALETTE)]
    rows = table.rows[-MAX_POINTS:]
    label_at = 0 if table.columns[0].kind in ("date", "text") else _label_index(table)
    values = [float(row[i]) for row in rows for i in drawn if is_number(row[i])]
    if not values:
        return None
    high = 100.0 if kind == "percent" else 5.0 if kind == "number" and max(values) <= 5 else max(values)
    low = min(0.0, min(values))
    high = high if high > low else low + 1.0
    plot_w = LINE_WIDTH - LINE_LEFT - LINE_RIGHT
    plot_h = LINE_HEIGHT - LINE_TOP - LINE_BOTTOM
    step = plot_w / max(1, len(rows) - 1)

    def x_at(i: int) -> float:
        return round(LINE_LEFT + (i * step if len(rows) > 1 else plot_w / 2), 1)

    def y_at(v: float) -> float:
        return round(LINE_TOP + plot_h - (v - low) / (high - low) * plot_h, 1)

    series = []
    for n, i in enumerate(drawn):
        column = table.columns[i]
        dots = tuple((x_at(r), y_at(float(row[i])), format_value(row[label_at], table.columns[label_at].kind),
                      format_value(row[i], kind))
                     for r, row in enumerate(rows) if is_number(row[i]))
        series.append(Series(name=_column_name(column, language), colour=PALETTE[n],
                             points=" ".join(f"{x},{y}" for x, y, _, _ in dots), dots=dots))
    y_ticks = tuple((y_at(low + (high - low) * k / 4), format_value(low + (high - low) * k / 4, kind))
                    for k in range(5))
    every = max(1, len(rows) // 6)
    x_ticks = tuple((x_at(r), format_value(row[label_at], table.columns[label_at].kind))
                    for r, row in enumerate(rows) if r % every == 0)
    return LineChart(title=" / ".join(s.name for s in series), series=tuple(series), width=LINE_WIDTH,
                     height=LINE_HEIGHT, left=LINE_LEFT, bottom=LINE_HEIGHT - LINE_BOTTOM, top=LINE_TOP,
                     right=LINE_WIDTH - LINE_RIGHT, y_ticks=y_ticks, x_ticks=x_ticks)


def colour(share: float | None) -> str:
    """Red at 0, amber at 0.5, green at 1; grey when unknown."""
    if share is None:
        return "#d0d0d0"
    share = min(1.0, max(0.0, share))
    red, amber, green = (214, 69, 65), (240, 173, 78), (76, 175, 80)
    a, b, t = (red, amber, share * 2) if share < 0.5 else (amber, green, (share - 0.5) * 2)
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b))


def heat_map(table, language: str) -> HeatMap | None:
    if len(table.columns) < 3:
        return None
    kind = table.columns[2].kind
    buildings = sorted({str(row[0]) for row in table.rows}, key=_natural)
    floors = sorted({row[1] for row in table.rows}, key=_natural, reverse=True)  # the top floor on top
    values = {(str(row[0]), row[1]): row[2] for row in table.rows}
    cells = []
    for fy, floor in enumerate(floors):
        for bx, building in enumerate(buildings):
            value = values.get((building, floor))
            if (building, floor) not in values:
                continue
            share = float(value) / 100.0 if is_number(value) and kind == "percent" else None
            text = format_value(value, kind)
            cells.append(Cell(x=HEAT_LEFT + bx * CELL_W, y=HEAT_TOP + fy * CELL_H, colour=colour(share),
                              text=text, title=f"{building} · {floor}: {text}"))
    return HeatMap(title=_column_name(table.columns[2], language), cells=tuple(cells),
                   columns=tuple((HEAT_LEFT + bx * CELL_W + CELL_W / 2, _shorten(b, 6)) for bx, b in enumerate(buildings)),
                   rows=tuple((HEAT_TOP + fy * CELL_H + CELL_H / 2, str(f)) for fy, f in enumerate(floors)),
                   width=HEAT_LEFT + len(buildings) * CELL_W + 8, height=HEAT_TOP + len(floors) * CELL_H + 8,
                   cell_width=CELL_W, cell_height=CELL_H)
