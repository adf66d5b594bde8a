"""One run of ops_scan (docs/operations.md "Detection and alerts", decision 0030).

1. The new lines of each log of ``OPS_ACCESS_LOGS`` (core.access_log, consumer "ops"), through the
   log rules (detection.LogRules, with the open windows the previous run handed over);
2. the new audit events of logins, through the audit rules, and the staff logins from networks
   not seen before;
3. the state checks (checks.py): the static export's hashes, the certificate, the last backup,
   clamd's signatures;
4. in one transaction: the alerts (alerts.apply), the mails (alerts.notify), the escalation of
   unacknowledged critical alerts to the emergency contacts (escalation.escalate), the log positions
   and this run's row with the open windows, so that a run that fails part way changes nothing
   and the next one reads the same lines again.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from kokasen.accounts import roles
from kokasen.core.access_log import DatabaseStore, LogReader, rotated_siblings
from kokasen.core.client_address import throttle_key
from kokasen.core.models import AuditEvent

from . import alerts, checks, escalation, selectors
from .detection import (
    ADDRESS_RULES,
    FAILURES,
    INFO,
    LOCKOUTS,
    REFUSED,
    SUCCESS,
    WARNING,
    AuditRules,
    Event,
    Finding,
    LogRules,
    Thresholds,
    combine,
)
from .models import Alert, ScanRun

CONSUMER = "ops"
AUDIT_ACTIONS = (*FAILURES, SUCCESS, *REFUSED, *LOCKOUTS)
FIRST_RUN_LOOKBACK = timedelta(days=1)  # the first run ever judges the last day of the logs and audit trail
AUDIT_CONTEXT = timedelta(hours=1)  # older events read as context for the windows
RUNS_KEPT = timedelta(days=30)
BAD_LINE_SHARE = 0.05


@dataclass
class ScanReport:
    run: ScanRun
    outcome: alerts.Outcome
    findings: list[Finding] = field(default_factory=list)
    lines: int = 0
    bad_lines: int = 0
    audit_events: int = 0
    problems: list[str] = field(default_factory=list)


def thresholds() -> Thresholds:
    return Thresholds.from_settings(settings.OPS_THRESHOLDS)


def ops_scan(*, now: datetime | None = None, outage: dict | None = None) -> ScanReport:
    """Run every rule once. ``outage``: the database outage the fallback recorded (fallback.py),
    written as an ended alert so that it is in the history and its recovery is mailed."""
    now = now or timezone.now()
    limits = thresholds()
    previous = selectors.last_run()
    carry = (previous.carry if previous else None) or {}
    findings: list[Finding] = []
    checked: list[tuple[str, str]] = []
    problems: list[str] = []
    readers, new_carry = [], {}
    lines = bad = 0
    for path in settings.OPS_ACCESS_LOGS:
        reader = LogReader(path, consumer=CONSUMER, store=DatabaseStore(), now=now)
        rules = LogRules(limits, now=now, carry=carry.get(path), fold=throttle_key)
        stream_lines = stream_bad = 0
        for chunk in reader.read():
            records = chunk.records
            if previous is None:  # the first run: lines of the logs' whole history are not news
                oldest = (now - FIRST_RUN_LOOKBACK).timestamp()
                records = [record for record in records if record.ts >= oldest]
            rules.feed(records)
            stream_lines += chunk.lines
            stream_bad += chunk.bad
        findings += rules.findings()
        new_carry[path] = rules.carry()
        readers.append(reader)
        problems += reader.problems
        checked.append(("log_source", path))
        if finding := _log_source(path, reader, stream_lines, stream_bad, now):
            findings.append(finding)
        lines += stream_lines
        bad += stream_bad

    events, rows, last_id = _audit_events(previous, now)
    open_addresses = set(
        Alert.objects.filter(resolved_at__isnull=True, rule__in=ADDRESS_RULES).values_list("key", flat=True)
    )
    findings += AuditRules(limits, events).findings(excluded_addresses=open_addresses)
    findings += staff_new_networks(rows)

    for result in checks.all_checks(now):
        checked.append((result.rule, result.key))
        if result.finding is not None:
            findings.append(result.finding)

    with transaction.atomic():
        run = ScanRun.objects.create(
            started_at=now,
            lines=lines,
            bad_lines=bad,
            audit_events=len(rows),
            audit_last_id=last_id,
            findings=len(findings),
        )
        outcome = alerts.apply(combine(findings), checked=checked, now=now)
        if outage:
            outcome.resolved.append(_outage_alert(outage, now))
        alerts.notify(outcome, run_id=run.pk, now=now)
        outcome.mails += escalation.escalate(now=now)
        for reader in readers:
            reader.commit()
        run.finished_at = timezone.now()
        run.opened, run.resolved, run.mails = len(outcome.opened), len(outcome.resolved), outcome.mails
        run.problems = (problems + outcome.problems)[:50]
        run.carry = new_carry
        run.save()
        ScanRun.objects.filter(started_at__lt=now - RUNS_KEPT).delete()
    return ScanReport(run, outcome, findings, lines, bad, len(rows), run.problems)


def _log_source(path: str, reader: LogReader, lines: int, bad: int, now: datetime) -> Finding | None:
    def found(summary, **evidence):
        return Finding("log_source", path, WARNING, 1, now, now, summary, {"path": path, **evidence})

    if not rotated_siblings(Path(path)):
        return found(
            f"アクセスログ {path} が見つかりません（nginx の設定と OPS_ACCESS_LOGS を確認してください）",
            problem="missing",
        )
    if reader.problems:
        return found(
            f"アクセスログ {path} に読めないファイルがあります",
            problem="unreadable",
            files=[p[:200] for p in reader.problems[:5]],
        )
    if lines >= 100 and bad > BAD_LINE_SHARE * lines:
        return found(
            f"アクセスログ {path} の {bad * 100 // lines}% の行を読めません（形式が変わりましたか）",
            problem="bad lines",
            lines=lines,
            bad_lines=bad,
        )
    return None


def _audit_events(previous: ScanRun | None, now: datetime) -> tuple[list[Event], list[dict], int]:
    """(events for the audit rules, the new rows, the id to start after next time)."""
    last_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    relevant = AuditEvent.objects.filter(action__in=AUDIT_ACTIONS, id__lte=last_id)
    if previous is None:
        new = relevant.filter(created_at__gte=now - FIRST_RUN_LOOKBACK)
    else:
        new = relevant.filter(id__gt=previous.audit_last_id)
    fields = ("id", "created_at", "action", "ip_address", "target_label", "target_id", "actor_id", "detail")
    rows = list(new.order_by("id").values(*fields))
    if not rows:
        return [], [], last_id
    first_new = min(row["id"] for row in rows)
    earliest = min(row["created_at"] for row in rows)
    context = list(relevant.filter(id__lt=first_new, created_at__gte=earliest - AUDIT_CONTEXT).values(*fields))
    events = [_event(row, new=False) for row in context] + [_event(row, new=True) for row in rows]
    return events, rows, last_id


def _event(row: dict, *, new: bool) -> Event:
    detail = row["detail"] if isinstance(row["detail"], dict) else {}
    username = str(detail.get("username") or detail.get("address") or row["target_label"] or "")[:150]
    address = throttle_key(row["ip_address"]) or ""
    return Event(
        row["id"], row["created_at"].timestamp(), row["action"], address, username, bool(row["target_id"]), new
    )


def _network(address: str):
    parsed = ipaddress.ip_address(address)
    prefix = settings.OPS_STAFF_NETWORK_PREFIX_V4 if parsed.version == 4 else settings.OPS_STAFF_NETWORK_PREFIX_V6
    return ipaddress.ip_network(f"{parsed}/{prefix}", strict=False)


def staff_new_networks(rows: list[dict]) -> list[Finding]:
    """A 管理者 or 受託者 (or superuser) logged in from a network (/24, /48) from which none of
    their logins came in OPS_STAFF_NETWORK_MEMORY_DAYS, outside OPS_STAFF_KNOWN_NETWORKS. The
    first login of an account is only information."""
    logins = [row for row in rows if row["action"] == SUCCESS and row["actor_id"] and row["ip_address"]]
    if not logins:
        return []
    users = {user.pk: user for user in get_user_model().objects.filter(pk__in={r["actor_id"] for r in logins})}
    offices = [ipaddress.ip_network(n, strict=False) for n in settings.OPS_STAFF_KNOWN_NETWORKS]
    memory = timedelta(days=settings.OPS_STAFF_NETWORK_MEMORY_DAYS)
    found = {}
    for row in logins:
        user = users.get(row["actor_id"])
        if user is None or not roles.is_staff_role(user, verified=False):
            continue
        address = ipaddress.ip_address(row["ip_address"])
        if any(address.version == n.version and address in n for n in offices):
            continue
        network = _network(row["ip_address"])
        earlier = AuditEvent.objects.filter(action=SUCCESS, actor_id=user.pk, id__lt=row["id"])
        seen = {
            _network(ip)
            for ip in earlier.filter(created_at__gte=row["created_at"] - memory)
            .exclude(ip_address=None)
            .values_list("ip_address", flat=True)
        }
        if network in seen:
            continue
        username = user.get_username()
        key = f"{username} {network}"
        first_login = not earlier.exists()
        if key in found:
            found[key].count += 1
            found[key].last_seen = row["created_at"]
            continue
        found[key] = Finding(
            "staff_new_network",
            key,
            INFO if first_login else WARNING,
            1,
            row["created_at"],
            row["created_at"],
            (
                f"職員 {username} の初めてのログイン（{network}）"
                if first_login
                else f"職員 {username} が、これまでにないネットワーク {network} からログインしました"
            ),
            {
                "username": username,
                "network": str(network),
                "address": row["ip_address"],
                "first_login": first_login,
                "known_networks": sorted(str(n) for n in seen)[:10],
            },
        )
    return list(found.values())


def _outage_alert(outage: dict, now: datetime) -> Alert:
    since = datetime.fromisoformat(outage["since"])
    last = datetime.fromisoformat(outage.get("last_failure") or outage["since"])
    mailed = outage.get("last_mail")
    return Alert.objects.create(
        rule="database_unreachable",
        key="default",
        severity="critical",
        summary=f"データベースに接続できませんでした（{outage.get('failures', 1)} 回の確認）"[:400],
        first_seen=since,
        last_seen=last,
        count=outage.get("failures", 1),
        evidence={"error": str(outage.get("error", ""))[:300], "mails": outage.get("mails", 0)},
        notified_at=datetime.fromisoformat(mailed) if mailed else None,
        notified_severity="critical" if mailed else "",
        resolved_at=now,
        resolution="データベースに再び接続できました",
    )
