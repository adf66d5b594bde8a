"""The emergency contact chain (decision 0034): an unacknowledged critical alert is mailed to
the active contacts with an e-mail address, one after another in their order, every
``OPS_ESCALATION_MINUTES`` after the alert mail (or after it was opened, when nobody could be
mailed). Acknowledging the alert, or its end, stops the chain. Run by ops_scan inside its run's
transaction (``escalate``), so a step is recorded and queued once.

A contact's phone number and e-mail address are personal data: they go to the outbox (the
message's recipient) and the screen, never to logs or to the audit trail (which record the
step, the contact's position and role).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kokasen.accounts import access
from kokasen.core.audit import audit_record
from kokasen.notifications import emails
from kokasen.notifications.services import broadcast_queue

from .detection import RULES, SEVERITY_LABELS
from .mail_kinds import OPS_ESCALATION
from .models import Alert, EmergencyContact, Escalation

logger = logging.getLogger("kokasen.ops")

CONTACT_FIELDS = ("position", "role", "name", "phone", "email", "hours", "active")
PERSONAL_FIELDS = ("name", "phone", "email")  # never in the audit trail's detail


def chain() -> list[EmergencyContact]:
    """The contacts escalation mails, in order: active, with an e-mail address."""
    return list(EmergencyContact.objects.filter(active=True).exclude(email="").order_by("position", "pk"))


def _start(alert: Alert) -> datetime:
    return alert.notified_at or alert.opened_at


def due_alerts():
    return Alert.objects.filter(severity="critical", resolved_at__isnull=True, acknowledged_at__isnull=True)


def escalate(*, now: datetime | None = None) -> int:
    """Mail the next contact(s) of every unacknowledged critical alert whose time has come.
    Returns how many messages were queued."""
    minutes = settings.OPS_ESCALATION_MINUTES
    if minutes <= 0:
        return 0
    now = now or timezone.now()
    with transaction.atomic():  # ops_scan's transaction, or its own when called alone
        return _escalate(now, minutes)


def _escalate(now: datetime, minutes: int) -> int:
    contacts = None
    queued = 0
    for alert in due_alerts().select_for_update().order_by("pk"):
        done = alert.escalations.count()
        start = _start(alert)
        while True:
            step = done + 1
            if now < start + timedelta(minutes=minutes * step):
                break
            contacts = chain() if contacts is None else contacts
            if step > len(contacts):
                break  # everyone in the chain has been told
            contact = contacts[step - 1]
            _mail(alert, contact, step, contacts[: step - 1], now)
            queued += 1
            done = step
    return queued


def _mail(alert: Alert, contact: EmergencyContact, step: int, before: list[EmergencyContact], now: datetime) -> None:
    Escalation.objects.create(
        alert=alert,
        step=step,
        contact=contact,
        contact_label=f"{contact.position}. {contact.role} {contact.name}"[:220],
        at=now,
    )
    subject, body = emails.render(
        OPS_ESCALATION,
        {
            "time": timezone.localtime(now),
            "step": step,
            "role": contact.role,
            "severity": SEVERITY_LABELS[alert.severity],
            "rule": RULES.get(alert.rule, alert.rule),
            "summary": alert.summary,
            "first_seen": timezone.localtime(alert.first_seen),
            "notified": timezone.localtime(_start(alert)),
            "minutes": settings.OPS_ESCALATION_MINUTES,
            "before": [c.role for c in before],
            "url": emails.absolute(f"/admin/ops/alerts/{alert.pk}/"),
        },
    )
    broadcast_queue(
        kind=OPS_ESCALATION,
        bcc=[contact.email],
        subject=subject,
        body=body,
        dedupe_key=f"ops:escalation:{alert.pk}:{step}",
    )
    audit_record(
        action="ops.alert_escalated",
        target=alert,
        target_label=str(alert)[:200],
        detail={"step": step, "position": contact.position, "role": contact.role},
    )
    logger.info("ops escalation: alert %s step %s (contact position %s)", alert.pk, step, contact.position)


# --- the contact list ------------------------------------------------------------------------------


def contact_save(*, form, acting_user, request=None) -> EmergencyContact:
    """Save a contact from its form (audited without the personal data: which fields changed)."""
    access.require(acting_user, access.STAFF)
    adding = form.instance.pk is None
    changed = [name for name in form.changed_data if name in CONTACT_FIELDS]
    with transaction.atomic():
        contact = form.save()
        audit_record(
            action="ops.contact_added" if adding else "ops.contact_changed",
            acting_user=acting_user,
            target=contact,
            target_label=str(contact)[:200],
            detail={"position": contact.position, "role": contact.role, "fields": changed},
            request=request,
        )
    return contact


def contact_delete(*, contact: EmergencyContact, acting_user, request=None) -> None:
    access.require(acting_user, access.STAFF)
    with transaction.atomic():
        audit_record(
            action="ops.contact_deleted",
            acting_user=acting_user,
            target_label=str(contact)[:200],
            detail={"position": contact.position, "role": contact.role},
            request=request,
        )
        contact.delete()
