"""Participation of the local governments, counted exactly from the application (issue 15
item 4; decision 0041): so far the logins per local government and day, back-filled from the
login audit events that exist since the first login. Staff are excluded (their accounts have no
local government)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncDate

from kokasen.core.models import AuditEvent

from .models import LoginDay

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
    return sum(row.logins for row in new)
