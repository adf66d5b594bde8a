"""Reading the zero-result searches (decision 0057) for the dashboard and the report: plain
data, the query text as stored (escape it where it is shown: templates autoescape, CSV and
Excel go through ``core.spreadsheets``, which neutralises formulas)."""

from __future__ import annotations

from datetime import date

from django.db.models import Sum

from .models import ZeroResultSearchDay


def zero_result_searches(start: date, end: date, *, limit: int | None = None) -> list[tuple[str, int]]:
    """(query, count) of the searches that found nothing from ``start`` to ``end`` (local days,
    both included), most frequent first, then by query; ``limit``: the first ones only."""
    rows = (
        ZeroResultSearchDay.objects.filter(day__range=(start, end))
        .values("query")
        .annotate(n=Sum("count"))
        .order_by("-n", "query")
        .values_list("query", "n")
    )
    if limit is not None:
        rows = rows[:limit]
    return [(query, n) for query, n in rows]
