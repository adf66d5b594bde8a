"""How the dashboard writes a table's plain values (decision 0051)."""

from datetime import date

from django import template

register = template.Library()


@register.filter
def cell(value) -> str:
    """1,234 · 12.3 · 2026-11-03 · — for nothing."""
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


@register.filter
def numeric(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
