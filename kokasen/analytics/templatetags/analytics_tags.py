"""How the dashboard writes a table's plain values (decision 0051). The rows are written here in
Python rather than with template loops: a year's dashboard has thousands of cells, and a template
tag per cell was most of its server time. Every text goes through ``escape``."""

from datetime import date

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def cell(value) -> str:
    """1,234 · 12.3 · 11月3日 · — for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, date):
        return f"{value.month}月{value.day}日"
    return str(value)


def _numeric(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@register.simple_tag
def table_rows(table):
    """The ``<tbody>`` rows of a ``tables.Table``: the first cell of a row is its header."""
    out = []
    for row in table.rows:
        cells = []
        for i, value in enumerate(row):
            tag = "th" if i == 0 else "td"
            attrs = ' scope="row"' if i == 0 else ""
            if _numeric(value):
                attrs += ' class="ad-num"'
            cells.append(f"<{tag}{attrs}>{escape(cell(value))}</{tag}>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return mark_safe("\n".join(out))  # noqa: S308 - every value escaped above
