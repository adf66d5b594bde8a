"""Reading the daily counts (decision 0036)."""

from __future__ import annotations

from datetime import date

from django.db.models import Sum

from .aggregate import percentile
from .models import Breakdown, DayTotal, DownloadDay, NotFoundDay, PageDay


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


def page_table(start: date, end: date) -> list[dict]:
    """Per page of ``start``..``end``: people's views, bots' views, p50 and p95 of the response
    time in seconds (None without times), most viewed first. Rows of one Wagtail page under
    several paths (renamed) are one row, under its latest path."""
    rows: dict = {}
    for day_row in PageDay.objects.filter(day__range=(start, end)).order_by("day"):
        key = day_row.page_id or day_row.path
        row = rows.setdefault(
            key, {"path": day_row.path, "page_id": day_row.page_id, "views": 0, "bot_views": 0, "times": {}}
        )
        row["path"] = day_row.path
        row["views"] += day_row.views
        row["bot_views"] += day_row.bot_views
        for bucket, count in (day_row.times or {}).items():
            row["times"][bucket] = row["times"].get(bucket, 0) + count
    out = []
    for row in rows.values():
        times = row.pop("times")
        row["p50"], row["p95"] = percentile(times, 0.5), percentile(times, 0.95)
        out.append(row)
    return sorted(out, key=lambda row: (-row["views"], row["path"]))


def breakdown(start: date, end: date, dimension: str) -> dict[str, int]:
    """People's page views per referrer host, device or campaign (or requests per kind, per
    bot reason …: ``Breakdown.DIMENSIONS``), most first."""
    rows = (
        Breakdown.objects.filter(day__range=(start, end), dimension=dimension)
        .values("value")
        .annotate(n=Sum("count"))
        .order_by("-n", "value")
    )
    return {row["value"]: row["n"] for row in rows}


def not_found(start: date, end: date) -> list[tuple[str, str, int]]:
    """People's 404s: (path, referring page, count), most first."""
    rows = (
        NotFoundDay.objects.filter(day__range=(start, end))
        .values("path", "referrer")
        .annotate(n=Sum("count"))
        .order_by("-n", "path", "referrer")
    )
    return [(row["path"], row["referrer"], row["n"]) for row in rows]
