"""What the dashboard 「アクセス解析」 draws from the tables (decision 0051): the geometry of its
server-rendered SVG charts and the tiles of the 47 prefectures. Plain data for the template,
which writes the SVG itself (so every text is escaped by Django); no numbers are computed here
that the tables do not hold.

The charts are drawn in a fixed ``viewBox`` and scale with the page; colours come from classes in
``static/css/analytics-dashboard.css`` (no ``style`` attribute, no script). Every chart has a
title and a description, and the table with the same numbers stands next to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .tables import Table

# The tile map: (row, column) of each prefecture code on a 13 × 11 grid, north-east top right.
TILES = {
    "01": (0, 12),
    "02": (1, 12),
    "05": (2, 11),
    "03": (2, 12),
    "06": (3, 11),
    "04": (3, 12),
    "17": (4, 8),
    "16": (4, 9),
    "15": (4, 10),
    "07": (4, 11),
    "32": (5, 3),
    "31": (5, 4),
    "28": (5, 5),
    "26": (5, 6),
    "18": (5, 7),
    "21": (5, 8),
    "20": (5, 9),
    "10": (5, 10),
    "09": (5, 11),
    "08": (5, 12),
    "35": (6, 2),
    "34": (6, 3),
    "33": (6, 4),
    "27": (6, 5),
    "25": (6, 6),
    "23": (6, 7),
    "19": (6, 8),
    "11": (6, 9),
    "13": (6, 10),
    "12": (6, 11),
    "41": (7, 0),
    "40": (7, 1),
    "38": (7, 3),
    "37": (7, 4),
    "30": (7, 5),
    "29": (7, 6),
    "24": (7, 7),
    "22": (7, 8),
    "14": (7, 9),
    "42": (8, 0),
    "43": (8, 1),
    "44": (8, 2),
    "39": (8, 3),
    "36": (8, 4),
    "46": (9, 1),
    "45": (9, 2),
    "47": (10, 0),
}
# Colour bands of the share of local governments that logged in in the period (%): none, then
# from the lower bounds 0 (exclusive), 25, 50, 75.
BANDS = ["0%", "25%未満", "25%以上50%未満", "50%以上75%未満", "75%以上"]
_LOWER = (25, 50, 75)


def band(share: float | None) -> int:
    value = share or 0
    if value <= 0:
        return 0
    return 1 + sum(value >= low for low in _LOWER)


@dataclass
class Tile:
    code: str
    name: str
    row: int
    column: int
    band: int
    share: float
    active: int
    total: int


def tiles(coverage: Table) -> list[Tile]:
    """The 47 tiles from the table ``coverage_prefecture``, in code order."""
    idx = {title: i for i, title in enumerate(coverage.columns)}
    out = []
    for row in coverage.rows:
        code = row[idx["都道府県コード"]]
        if code not in TILES:
            continue
        share = row[idx["期間内のログイン率（%）"]] or 0.0
        r, c = TILES[code]
        out.append(
            Tile(
                code=code,
                name=row[idx["都道府県"]],
                row=r,
                column=c,
                band=band(share),
                share=share,
                active=row[idx["期間内にログイン"]],
                total=row[idx["自治体数"]],
            )
        )
    return out


# --- charts ------------------------------------------------------------------------------------

WIDTH = 400  # viewBox units; the chart scales to its column
LABEL_H, BAR_H, ITEM_GAP = 16, 14, 8


@dataclass
class Bar:
    label: str
    value_text: str
    width: float
    y_label: float
    y_bar: float
    x_text: float
    series: int = 0

    @property
    def y_text(self) -> float:
        return round(self.y_bar + BAR_H - 3, 1)


@dataclass
class HorizontalChart:
    key: str
    title: str
    desc: str
    bars: list[Bar] = field(default_factory=list)
    height: float = 0
    width: int = WIDTH


def horizontal(
    key: str, title: str, desc: str, items: list[tuple[str, float, str]], *, maximum: float | None = None
) -> HorizontalChart:
    """One bar per item (label, value, text written beside the bar), the label above its bar so
    that long Japanese labels fit a phone's width."""
    top = maximum if maximum else max([value for _l, value, _t in items] + [0]) or 1
    chart = HorizontalChart(key, title, desc)
    y = 4.0
    usable = WIDTH - 130  # room for the value written after the longest bar
    for i, (label, value, text) in enumerate(items):
        width = max(usable * (value or 0) / top, 0)
        chart.bars.append(Bar(label, text, round(width, 1), y + 12, y + LABEL_H + 2, round(width + 6, 1), series=i % 2))
        y += LABEL_H + BAR_H + ITEM_GAP
    chart.height = round(y, 1)
    return chart


@dataclass
class Column:
    x: float
    y: float
    height: float
    label: str  # the tick written under it ('' for most)
    title: str  # the bar's own tooltip: date and value


@dataclass
class ColumnChart:
    key: str
    title: str
    desc: str
    columns: list[Column]
    ticks: list[tuple[float, str]]  # (y, value) of the horizontal grid lines
    width: int = 640
    height: int = 180
    plot_top: int = 10
    plot_bottom: int = 150
    bar_width: float = 0


def columns(key: str, title: str, desc: str, days: list[tuple], *, value_index: int = 1) -> ColumnChart:
    """A column per day of the table ``daily`` (its ``value_index`` column), with a tick under
    the first day, every seventh and the last."""
    values = [row[value_index] or 0 for row in days]
    top = max(values + [0])
    nice = _nice(top)
    left, right, plot_top, plot_bottom = 40, 640 - 4, 10, 150
    step = (right - left) / max(len(days), 1)
    bar = max(step * 0.7, 1)
    out = []
    for i, (row, value) in enumerate(zip(days, values, strict=True)):
        h = (plot_bottom - plot_top) * value / nice if nice else 0
        day = row[0]
        tick = f"{day.month}/{day.day}" if i == 0 or i == len(days) - 1 or i % 7 == 0 else ""
        out.append(
            Column(round(left + i * step + (step - bar) / 2, 1), round(plot_bottom - h, 1), round(h, 1), tick, "")
        )
        out[-1].title = f"{day.month}月{day.day}日 {value:,}"
    ticks = [(round(plot_bottom - (plot_bottom - plot_top) * k / 4, 1), f"{round(nice * k / 4):,}") for k in range(5)]
    return ColumnChart(key, title, desc, out, ticks, bar_width=round(bar, 1))


def _nice(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^n at least ``value`` (4 for nothing: an empty axis)."""
    if value <= 0:
        return 4
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= value:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover
