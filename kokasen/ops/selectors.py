"""Reads for the 「運用・セキュリティ」 screens and the alert mails."""

from __future__ import annotations

from datetime import datetime, time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from kokasen.accounts import roles
from kokasen.core import audit_actions
from kokasen.core.models import AuditEvent

from .detection import SEVERITIES
from .models import Alert, ScanRun


def alert_recipients() -> list[str]:
    """OPS_ALERT_EMAILS, or else the addresses of every active 受託者 account."""
    if settings.OPS_ALERT_EMAILS:
        return sorted(set(settings.OPS_ALERT_EMAILS))
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.OPERATOR)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    return sorted(set(users))


def open_alerts():
    """Unresolved alerts, the most severe and most recent first."""
    rank = Case(*(When(severity=name, then=Value(i)) for i, name in enumerate(SEVERITIES)), output_field=IntegerField())
    return Alert.objects.filter(resolved_at__isnull=True).order_by(rank.desc(), "-last_seen", "-pk")


def alert_history(*, rule: str = "", severity: str = ""):
    alerts = Alert.objects.filter(resolved_at__isnull=False)
    if rule:
        alerts = alerts.filter(rule=rule)
    if severity:
        alerts = alerts.filter(severity=severity)
    return alerts.select_related("acknowledged_by").order_by("-resolved_at", "-pk")


def last_run() -> ScanRun | None:
    return ScanRun.objects.filter(finished_at__isnull=False).order_by("-pk").first()


def _day_start(value: str, *, end: bool = False) -> datetime | None:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except (TypeError, ValueError):
        return None
    return timezone.make_aware(datetime.combine(day, time.max if end else time.min))


def audit_events(
    *, action: str = "", actor: str = "", target: str = "", address: str = "", since: str = "", until: str = ""
):
    """The audit trail, filtered (every filter optional): ``action`` exactly or a prefix ending in
    ``.`` (``login.``), ``actor`` and ``target`` contained in the recorded names, ``address`` the
    start of the address, ``since``/``until`` days (YYYY-MM-DD, in Japan time, both included)."""
    events = AuditEvent.objects.all()
    if action:
        events = events.filter(action__startswith=action) if action.endswith(".") else events.filter(action=action)
    if actor:
        events = events.filter(actor_label__icontains=actor)
    if target:
        events = events.filter(Q(target_label__icontains=target) | Q(target_id=target))
    if address:
        events = events.filter(ip_address__startswith=address)
    if start := _day_start(since):
        events = events.filter(created_at__gte=start)
    if stop := _day_start(until, end=True):
        events = events.filter(created_at__lte=stop)
    return events.order_by("-created_at", "-pk")


def action_choices() -> list[tuple[str, str]]:
    """The actions recorded so far, grouped by their first word (``login.`` …), for the filter,
    with their Japanese names (kokasen/core/audit_actions.py)."""
    actions = sorted(set(AuditEvent.objects.order_by().values_list("action", flat=True).distinct()))
    prefixes = sorted({action.split(".", 1)[0] + "." for action in actions if "." in action})
    return [(prefix, audit_actions.group_label(prefix)) for prefix in prefixes] + [
        (action, audit_actions.label(action)) for action in actions
    ]
