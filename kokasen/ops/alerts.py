"""Alerts from findings: one per incident, deduplicated, cleared, notified, acknowledged
(decision 0030). Called by scan.py inside the run's transaction; acknowledging by the screen.

- A finding updates the unresolved alert of its rule and key, or opens one. An address is one
  incident whichever address rules fire for it (``detection.ADDRESS_RULES``): a flood found for
  an address that already has a scanner alert is added to that alert (``related_rules``).
- An alert ends (``resolved_at``) when its state check passes again (the state rules), or after
  ``OPS_ALERT_QUIET_MINUTES`` without a new occurrence (the log and audit rules).
- One e-mail per run lists the alerts opened, or raised to a higher severity, at or above
  ``OPS_MAIL_MIN_SEVERITY``; another lists the alerts that ended after having been mailed. Both
  go through the outbox, in Bcc to ``OPS_ALERT_EMAILS`` (or every active 受託者).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kokasen.accounts import access
from kokasen.core.audit import audit_record
from kokasen.core.refusals import Refused
from kokasen.notifications import emails
from kokasen.notifications.services import broadcast_queue

from . import selectors
from .detection import ADDRESS_RULES, RULES, SEVERITY_LABELS, Finding, severity_rank
from .mail_kinds import OPS_ALERT, OPS_RECOVERY
from .models import Alert

logger = logging.getLogger("kokasen.ops")

STATE_RULES = (
    "export_tampered",
    "certificate_expiry",
    "backup_overdue",
    "backup_drill",
    "virus_signatures",
    "log_source",
)
NOTE_MAX_CHARS = 2000


@dataclass
class Outcome:
    opened: list[Alert] = field(default_factory=list)
    raised: list[Alert] = field(default_factory=list)  # a higher severity than was mailed
    updated: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)
    mails: int = 0
    problems: list[str] = field(default_factory=list)


def _mailed_rank(alert: Alert) -> int:
    return severity_rank(alert.notified_severity) if alert.notified_at and alert.notified_severity else -1


def merge_by_address(findings: list[Finding]) -> list[Finding]:
    """One finding per address among the address rules: the first rule of ADDRESS_RULES names
    it; the others are listed in its evidence (``related``), their counts added."""
    others, by_address = [], {}
    for finding in findings:
        if finding.rule in ADDRESS_RULES:
            by_address.setdefault(finding.key, []).append(finding)
        else:
            others.append(finding)
    merged = []
    for group in by_address.values():
        group.sort(key=lambda f: ADDRESS_RULES.index(f.rule))
        main = group[0]
        for extra in group[1:]:
            main.evidence.setdefault("related", {})[extra.rule] = {"summary": extra.summary, "count": extra.count}
            main.count += extra.count
            main.first_seen = min(main.first_seen, extra.first_seen)
            main.last_seen = max(main.last_seen, extra.last_seen)
            if severity_rank(extra.severity) > severity_rank(main.severity):
                main.severity = extra.severity
        merged.append(main)
    return others + merged


def _unresolved(finding: Finding) -> Alert | None:
    alerts = Alert.objects.select_for_update().filter(resolved_at__isnull=True, key=finding.key)
    if finding.rule in ADDRESS_RULES:
        return alerts.filter(rule__in=ADDRESS_RULES).order_by("pk").first()
    return alerts.filter(rule=finding.rule).first()


def apply(findings: list[Finding], *, checked: list[tuple[str, str]], now: datetime) -> Outcome:
    """Write ``findings`` as alerts and end the alerts that are over. ``checked``: the (rule,
    key) of every state check that ran this time, red or not."""
    outcome = Outcome()
    touched = set()
    for finding in merge_by_address(findings):
        alert = _unresolved(finding)
        if alert is None:
            alert = Alert.objects.create(
                rule=finding.rule,
                key=finding.key[:300],
                severity=finding.severity,
                summary=finding.summary[:400],
                first_seen=finding.first_seen,
                last_seen=finding.last_seen,
                count=finding.count,
                evidence=finding.evidence,
                related_rules=sorted(finding.evidence.get("related", {})),
            )
            outcome.opened.append(alert)
        else:
            related = set(alert.related_rules) | set(finding.evidence.get("related", {}))
            if finding.rule != alert.rule:
                related.add(finding.rule)
                finding.evidence.setdefault("related", {})[finding.rule] = {
                    "summary": finding.summary,
                    "count": finding.count,
                }
            alert.related_rules = sorted(related - {alert.rule})
            alert.first_seen = min(alert.first_seen, finding.first_seen)
            alert.last_seen = max(alert.last_seen, finding.last_seen)
            alert.count = F("count") + finding.count
            if severity_rank(finding.severity) > severity_rank(alert.severity):
                alert.severity = finding.severity
            if finding.rule == alert.rule or severity_rank(finding.severity) >= severity_rank(alert.severity):
                alert.summary = finding.summary[:400]
            alert.evidence = (
                {**finding.evidence, "first": alert.evidence.get("first", alert.evidence)}
                if finding.rule not in STATE_RULES
                else finding.evidence
            )
            alert.save()
            alert.refresh_from_db(fields=["count"])
            outcome.updated.append(alert)
            # Mailed at a lower severity, or never (information that became a warning; no recipients then).
            if severity_rank(alert.severity) > _mailed_rank(alert):
                outcome.raised.append(alert)
        touched.add(alert.pk)
    checked_now = set(checked)
    quiet = now - timedelta(minutes=settings.OPS_ALERT_QUIET_MINUTES)
    for alert in Alert.objects.select_for_update().filter(resolved_at__isnull=True).exclude(pk__in=touched):
        if alert.rule in STATE_RULES:
            if (alert.rule, alert.key) in checked_now:
                reason = "確認の結果、問題がなくなりました"
            elif alert.rule in {rule for rule, _ in checked_now} or alert.rule == "log_source":
                reason = "確認の対象ではなくなりました"
            else:
                continue  # the check did not run this time (turned off, or it could not): unknown
        elif alert.last_seen <= quiet:
            reason = f"{settings.OPS_ALERT_QUIET_MINUTES} 分間、新たな発生がありません"
        else:
            continue
        alert.resolved_at, alert.resolution = now, reason
        alert.save(update_fields=["resolved_at", "resolution"])
        outcome.resolved.append(alert)
    return outcome


# --- notices ---------------------------------------------------------------------------------------


def _rows(alerts: list[Alert]) -> list[dict]:
    return [
        {
            "severity": SEVERITY_LABELS[alert.severity],
            "rule": RULES.get(alert.rule, alert.rule),
            "summary": alert.summary,
            "first_seen": timezone.localtime(alert.first_seen),
            "last_seen": timezone.localtime(alert.last_seen),
            "count": alert.count,
            "state": alert.rule in STATE_RULES or alert.rule == "database_unreachable",  # counted in checks, not events
            "related": [RULES.get(rule, rule) for rule in alert.related_rules],
            "resolution": alert.resolution,
            "url": emails.absolute(f"/admin/ops/alerts/{alert.pk}/"),
        }
        for alert in alerts
    ]


def notify(outcome: Outcome, *, run_id: int, now: datetime) -> None:
    """Queue the run's e-mails (inside the run's transaction)."""
    minimum = severity_rank(settings.OPS_MAIL_MIN_SEVERITY)
    to_mail = [a for a in outcome.opened if severity_rank(a.severity) >= minimum and not a.resolved_at]
    to_mail += [a for a in outcome.raised if severity_rank(a.severity) >= minimum]
    recovered = [a for a in outcome.resolved if a.notified_at]
    if not to_mail and not recovered:
        return
    recipients = selectors.alert_recipients()
    if not recipients:
        outcome.problems.append("no recipients for alerts: set OPS_ALERT_EMAILS (or give a 受託者 an address)")
        logger.warning("ops_scan: %s alerts to mail but nobody to mail them to (OPS_ALERT_EMAILS)", len(to_mail))
        return
    common = {"time": timezone.localtime(now), "screen_url": emails.absolute("/admin/ops/")}
    if to_mail:
        to_mail.sort(key=lambda a: (-severity_rank(a.severity), a.first_seen))
        critical = sum(1 for a in to_mail if a.severity == "critical")
        subject, body = emails.render(
            OPS_ALERT, {**common, "alerts": _rows(to_mail), "critical": critical, "others": len(to_mail) - critical}
        )
        broadcast_queue(kind=OPS_ALERT, bcc=recipients, subject=subject, body=body, dedupe_key=f"ops:alert:{run_id}")
        Alert.objects.filter(pk__in=[a.pk for a in to_mail]).update(notified_at=now)
        for alert in to_mail:
            Alert.objects.filter(pk=alert.pk).update(notified_severity=alert.severity)
            alert.notified_at, alert.notified_severity = now, alert.severity
        outcome.mails += 1
    if recovered:
        subject, body = emails.render(OPS_RECOVERY, {**common, "alerts": _rows(recovered)})
        broadcast_queue(
            kind=OPS_RECOVERY, bcc=recipients, subject=subject, body=body, dedupe_key=f"ops:recovery:{run_id}"
        )
        Alert.objects.filter(pk__in=[a.pk for a in recovered]).update(recovery_notified_at=now)
        outcome.mails += 1


# --- acknowledging ---------------------------------------------------------------------------------


def alert_acknowledge(*, alert: Alert, note: str, acting_user, request=None) -> Alert:
    """A staff member saw the alert and says what was done (audited). Mails stop for it unless
    its severity rises; it stays on the list until it ends."""
    access.require(acting_user, access.STAFF)
    note = (note or "").strip()
    if not note:
        raise Refused("対応の記録を入力してください（例：fail2ban で遮断を確認、agency に連絡済み）。")
    if len(note) > NOTE_MAX_CHARS:
        raise Refused(f"対応の記録は {NOTE_MAX_CHARS:,} 文字以内で入力してください（今は {len(note):,} 文字です）。")
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.resolved_at:
            raise Refused("このアラートはすでに解消しています。")
        first = alert.acknowledged_at is None
        alert.acknowledged_at = alert.acknowledged_at or timezone.now()
        alert.acknowledged_by = acting_user
        alert.acknowledged_by_label = acting_user.get_username()
        alert.acknowledgement_note = (alert.acknowledgement_note + "\n\n" if alert.acknowledgement_note else "") + (
            f"[{timezone.localtime():%Y-%m-%d %H:%M} {acting_user.get_username()}] {note}"
        )
        alert.save(
            update_fields=["acknowledged_at", "acknowledged_by", "acknowledged_by_label", "acknowledgement_note"]
        )
        audit_record(
            action="ops.alert_acknowledged" if first else "ops.alert_noted",
            acting_user=acting_user,
            target=alert,
            target_label=str(alert)[:200],
            detail={"rule": alert.rule, "key": alert.key, "note": note},
            request=request,
        )
    return alert
