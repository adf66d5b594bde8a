"""Participation of the local governments, counted exactly from the application (issue 15
item 4; decisions 0041, 0050). Written here, read in ``participation_selectors``:

- logins per local government and day, counted again from the login audit events that exist
  since the first login (``count_logins``);
- 小ネタ posts and 意見箱 opinions per local government and day, counted again from their own
  tables (``count_contributions``);
- members' page views and opened documents, recorded as they happen by the middleware
  (``record_page_view``, ``record_document_open``): one statement each, an upsert; a page view
  is counted in Redis instead when the cache is Redis, and added by ``pageviews.flush``
  (decision 0067).

Staff are excluded everywhere: their accounts have no local government. A recount of days of
a closed month rolls that month up again in its transaction (``rollup.range_changed``, decision
0064); the middleware counts today only, never a closed month (a late flush of the page views in
Redis rolls up a closed month it touches, ``pageviews.flush``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import TruncDate

from kokasen.core.models import AuditEvent

from . import counters, rollup
from .models import ActivityDay, DocumentOpen, LoginDay

LOGIN = "login.succeeded"


def count_logins(*, start: date | None = None, end: date | None = None) -> int:
    """Count the logins of ``start``..``end`` (local days, both included; None: from the first
    event, to the last) again from the audit trail, replacing those days' rows: running it
    twice, or over days already counted, gives the same rows. Returns the logins counted."""
    zone = ZoneInfo(settings.TIME_ZONE)
    events = AuditEvent.objects.filter(action=LOGIN, actor__local_government__isnull=False)
    if start is not None:
        events = events.filter(created_at__gte=datetime.combine(start, time(0), zone))
    if end is not None:
        events = events.filter(created_at__lt=datetime.combine(end + timedelta(days=1), time(0), zone))
    rows = (
        events.annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day", "actor__local_government")
        .annotate(n=Count("id"))
        .order_by()
    )
    new = [
        LoginDay(day=row["day"], local_government_id=row["actor__local_government"], logins=row["n"]) for row in rows
    ]
    with transaction.atomic():
        existing = LoginDay.objects.all()
        if start is not None:
            existing = existing.filter(day__gte=start)
        if end is not None:
            existing = existing.filter(day__lte=end)
        existing.delete()
        LoginDay.objects.bulk_create(new, batch_size=1000)
        rollup.range_changed(start, end)
    return sum(row.logins for row in new)


def _local_bounds(start: date | None, end: date | None) -> dict:
    zone = ZoneInfo(settings.TIME_ZONE)
    bounds = {}
    if start is not None:
        bounds["gte"] = datetime.combine(start, time(0), zone)
    if end is not None:
        bounds["lt"] = datetime.combine(end + timedelta(days=1), time(0), zone)
    return bounds


def _recount(kind: str, queryset, time_field: str, start: date | None, end: date | None) -> int:
    zone = ZoneInfo(settings.TIME_ZONE)
    bounds = _local_bounds(start, end)
    queryset = queryset.filter(local_government__isnull=False, **{f"{time_field}__{op}": v for op, v in bounds.items()})
    rows = (
        queryset.annotate(day=TruncDate(time_field, tzinfo=zone))
        .values("day", "local_government")
        .annotate(n=Count("id"))
        .order_by()
    )
    new = [ActivityDay(day=r["day"], local_government_id=r["local_government"], kind=kind, count=r["n"]) for r in rows]
    existing = ActivityDay.objects.filter(kind=kind)
    if start is not None:
        existing = existing.filter(day__gte=start)
    if end is not None:
        existing = existing.filter(day__lte=end)
    existing.delete()
    ActivityDay.objects.bulk_create(new, batch_size=1000)
    return sum(row.count for row in new)


def count_contributions(*, start: date | None = None, end: date | None = None) -> tuple[int, int]:
    """Count the 小ネタ posts (every post submitted, whatever became of it) and 意見箱 opinions
    of ``start``..``end`` (local days; None: all) again from their tables, replacing those days'
    rows, in one transaction. Returns (posts, opinions)."""
    from kokasen.feedback.models import Opinion
    from kokasen.tips.models import Post

    with transaction.atomic():
        posts = _recount(ActivityDay.POST, Post.objects.all(), "submitted_at", start, end)
        opinions = _recount(ActivityDay.OPINION, Opinion.objects.all(), "created_at", start, end)
        rollup.range_changed(start, end)
    return posts, opinions


def record_page_view(local_government_id: int, day: date) -> None:
    """One members' page view: a single upsert (insert the day's row or add one to it). Used
    when the view is not counted in Redis (``pageviews.buffer`` said no)."""
    counters.increment(ActivityDay, day=day, local_government=local_government_id, kind=ActivityDay.PAGE_VIEW)


def record_document_open(local_government_id: int, document_id: int, day: date) -> None:
    """A document opened: one row per local government, document and day, whatever the number
    of requests (a video's range requests); a single insert that does nothing the second time."""
    table = connection.ops.quote_name(DocumentOpen._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, local_government_id, document_id) VALUES (%s, %s, %s) "
            "ON CONFLICT (day, local_government_id, document_id) DO NOTHING",
            [day, local_government_id, document_id],
        )
