"""Reading the daily counts (decision 0036)."""

from __future__ import annotations

from datetime import date

from django.db.models import Sum

from .models import DayTotal, DownloadDay, PageDay


def summary(start: date, end: date) -> dict:
    """The counts of ``start``..``end`` (both included): lines, bad lines, bot requests, and
    people's page views and downloads per normalised path, most first."""
    totals = DayTotal.objects.filter(day__range=(start, end)).aggregate(
        lines=Sum("lines"),
        bad_lines=Sum("bad_lines"),
        requests=Sum("requests"),
        bot_requests=Sum("bot_requests"),
        page_view_total=Sum("page_views"),
        download_total=Sum("downloads"),
    )
    out = {name: value or 0 for name, value in totals.items()}
    out["page_views"] = _ranked(PageDay, "views", start, end)
    out["downloads"] = _ranked(DownloadDay, "downloads", start, end)
    return {"from": start.isoformat(), "to": end.isoformat(), **out}


def _ranked(model, field: str, start: date, end: date) -> dict:
    rows = (
        model.objects.filter(day__range=(start, end))
        .values("path")
        .annotate(n=Sum(field))
        .filter(n__gt=0)
        .order_by("-n", "path")
    )
    return {row["path"]: row["n"] for row in rows}


def page_views_by_page(start: date, end: date) -> dict[int, int]:
    """People's views per Wagtail page (id), whatever its path was on each day."""
    rows = (
        PageDay.objects.filter(day__range=(start, end), page__isnull=False)
        .values("page_id")
        .annotate(n=Sum("views"))
        .order_by("-n")
    )
    return {row["page_id"]: row["n"] for row in rows}
