"""Alerts: one per incident (deduplicated across runs and across the address rules), severity
raised, ended by a passing check or by quiet, mailed once through the outbox with a recovery
notice, acknowledged with a note (audited); a run that fails part way changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from kokasen.core.models import AuditEvent
from kokasen.core.refusals import Refused
from kokasen.notifications import sender
from kokasen.notifications.models import OutboxMessage
from kokasen.ops import alerts, scan
from kokasen.ops.detection import Finding
from kokasen.ops.models import Alert, ScanRun
from kokasen.testing.traffic import insert_audit, json_line

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def recipients(settings):
    settings.OPS_ALERT_EMAILS = ["ops@contractor.example.jp"]


def finding(rule="flood", key="198.51.100.9", severity="warning", count=100, at=NOW, **evidence):
    return Finding(rule, key, severity, count, at, at, f"{key} の {rule}", evidence or {"address": key})


def apply(findings, *, now=NOW, checked=()):
    outcome = alerts.apply(findings, checked=list(checked), now=now)
    alerts.notify(outcome, run_id=int(now.timestamp()), now=now)
    return outcome


def test_one_alert_per_incident_across_runs():
    apply([finding()])
    apply([finding(count=50, at=NOW + timedelta(minutes=5))], now=NOW + timedelta(minutes=5))
    [alert] = Alert.objects.all()
    assert alert.count == 150 and alert.first_seen == NOW and alert.last_seen == NOW + timedelta(minutes=5)
    assert OutboxMessage.objects.count() == 1


def test_an_address_is_one_incident_whichever_address_rules_fire():
    apply([finding("scanner"), finding("flood"), finding("client_errors", count=7)])
    [alert] = Alert.objects.all()
    assert alert.rule == "scanner" and alert.related_rules == ["client_errors", "flood"]
    assert alert.count == 207
    apply(
        [finding("account_spray", severity="critical", at=NOW + timedelta(minutes=5))], now=NOW + timedelta(minutes=5)
    )
    alert = Alert.objects.get()
    assert alert.severity == "critical" and "account_spray" in alert.related_rules
    # Another address, another incident; another rule's key (a path group) is not an address incident.
    apply([finding("flood", key="203.0.113.5"), finding("slow_responses", key="pages")])
    assert Alert.objects.count() == 3


def test_a_higher_severity_is_mailed_again_a_lower_one_is_not():
    apply([finding(severity="warning")])
    apply([finding(severity="warning")], now=NOW + timedelta(minutes=5))
    assert OutboxMessage.objects.count() == 1
    apply([finding(severity="critical")], now=NOW + timedelta(minutes=10))
    assert OutboxMessage.objects.count() == 2
    assert "重大なアラート1件" in OutboxMessage.objects.order_by("pk").last().subject
    apply([finding(severity="warning")], now=NOW + timedelta(minutes=15))
    assert OutboxMessage.objects.count() == 2 and Alert.objects.get().severity == "critical"


def test_information_that_becomes_a_warning_is_mailed_then():
    apply([finding("staff_new_network", key="op-kato 192.0.2.0/24", severity="info")])
    assert not OutboxMessage.objects.exists()
    apply(
        [finding("staff_new_network", key="op-kato 192.0.2.0/24", severity="warning")], now=NOW + timedelta(minutes=5)
    )
    assert OutboxMessage.objects.count() == 1 and Alert.objects.get().notified_severity == "warning"


def test_information_is_shown_not_mailed(settings):
    apply([finding("staff_new_network", key="op-kato 192.0.2.0/24", severity="info")])
    assert Alert.objects.count() == 1 and not OutboxMessage.objects.exists()
    settings.OPS_MAIL_MIN_SEVERITY = "critical"
    apply([finding(severity="warning")])
    assert not OutboxMessage.objects.exists()


def test_quiet_ends_an_event_alert_and_a_mailed_one_gets_a_recovery_notice(settings):
    apply([finding()])
    apply([], now=NOW + timedelta(minutes=59, seconds=59))
    assert Alert.objects.get().resolved_at is None
    apply([], now=NOW + timedelta(minutes=60))
    alert = Alert.objects.get()
    assert alert.resolved_at == NOW + timedelta(minutes=60) and "60 分間" in alert.resolution
    recovery = OutboxMessage.objects.get(kind="ops_recovery")
    assert recovery.bcc == ["ops@contractor.example.jp"] and alert.summary in recovery.body
    # The same address again later is a new incident.
    apply([finding(at=NOW + timedelta(hours=2))], now=NOW + timedelta(hours=2))
    assert Alert.objects.count() == 2


def test_a_state_alert_ends_when_its_check_passes_and_only_then():
    tampered = finding("export_tampered", key="/srv/kokasen-static", severity="critical")
    apply([tampered], checked=[("export_tampered", "/srv/kokasen-static")])
    apply([], now=NOW + timedelta(days=2))  # the check did not run (turned off, or failed): unknown
    assert Alert.objects.get().resolved_at is None
    apply([], now=NOW + timedelta(days=2), checked=[("export_tampered", "/srv/kokasen-static")])
    assert Alert.objects.get().resolved_at is not None


def test_an_unmailed_alert_ends_without_a_recovery_notice():
    apply([finding("staff_new_network", key="op-kato 192.0.2.0/24", severity="info")])
    apply([], now=NOW + timedelta(hours=2))
    assert Alert.objects.get().resolved_at and not OutboxMessage.objects.exists()


def test_recipients_are_the_operators_when_none_are_set(settings, operator, agency_admin):
    settings.OPS_ALERT_EMAILS = []
    apply([finding()])
    [mail] = OutboxMessage.objects.all()
    assert mail.bcc == [operator.email]  # the 受託者, not the agency's 管理者
    OutboxMessage.objects.all().delete()
    operator.groups.clear()
    outcome = apply([finding(key="203.0.113.77")])
    assert not OutboxMessage.objects.exists() and "no recipients" in outcome.problems[0]


def test_the_alert_mail_is_delivered_as_plain_japanese_text(smtp_server):
    apply([finding("scanner", key="45.148.10.7", tools=["sqlmap"])])
    sender.send_outbox()
    [received] = smtp_server.received
    body = received.message.get_content()
    assert received.rcpt_tos == ["ops@contractor.example.jp"] and "To" not in received.message
    assert "45.148.10.7 の scanner" in body and "http://testserver/admin/ops/alerts/" in body
    assert "運用・セキュリティ" in received.message["Subject"]


# --- acknowledging ---------------------------------------------------------------------------------


def test_acknowledging_needs_a_note_is_audited_and_does_not_end_the_alert(operator, member_a):
    [alert] = apply([finding()]).opened
    with pytest.raises(Refused, match="対応の記録を入力"):
        alerts.alert_acknowledge(alert=alert, note="  ", acting_user=operator)
    with pytest.raises(Refused, match="2,000 文字以内"):
        alerts.alert_acknowledge(alert=alert, note="あ" * 2001, acting_user=operator)
    with pytest.raises(PermissionDenied):
        alerts.alert_acknowledge(alert=alert, note="見ました", acting_user=member_a)
    alerts.alert_acknowledge(alert=alert, note="fail2ban で遮断を確認", acting_user=operator)
    alerts.alert_acknowledge(alert=alert, note="庁に報告済み", acting_user=operator)
    alert.refresh_from_db()
    assert alert.status_label == "確認済み" and alert.acknowledged_by == operator and alert.resolved_at is None
    assert "fail2ban で遮断を確認" in alert.acknowledgement_note and "庁に報告済み" in alert.acknowledgement_note
    assert list(AuditEvent.objects.filter(target_id=str(alert.pk)).order_by("pk").values_list("action", flat=True)) == [
        "ops.alert_acknowledged",
        "ops.alert_noted",
    ]
    apply([finding(count=5, at=NOW + timedelta(minutes=5))], now=NOW + timedelta(minutes=5))
    alert.refresh_from_db()
    assert alert.count == 105 and alert.acknowledged_at is not None  # counts on, no new mail
    assert OutboxMessage.objects.count() == 1
    apply([], now=NOW + timedelta(hours=3))
    with pytest.raises(Refused, match="すでに解消"):
        alerts.alert_acknowledge(alert=alert, note="遅れて確認", acting_user=operator)


# --- what evidence never holds ---------------------------------------------------------------------


def test_evidence_holds_no_secret_a_user_typed(settings, tmp_path):
    log = tmp_path / "access.json"
    settings.OPS_ACCESS_LOGS = [str(log)]
    log.write_text("")
    scan.ops_scan(now=NOW - timedelta(hours=1))
    start = NOW - timedelta(minutes=30)
    lines = [
        json_line(
            start + timedelta(seconds=n / 5),
            "203.0.113.66",
            "GET",
            f"/login/?next=/members/&password=hunter2-{n}",
            200,
            100,
            0.1,
            "curl/8",
        )
        for n in range(240)
    ]
    lines += [
        json_line(
            start + timedelta(seconds=n),
            "203.0.113.66",
            "GET",
            f"/password-reset/MQ/secret-token-{n}/",
            404,
            100,
            0.1,
            "curl/8",
        )
        for n in range(300)
    ]
    log.write_text("\n".join(lines) + "\n")
    rows = [
        {
            "time": start + timedelta(seconds=n),
            "action": "login.failed",
            "ip": "203.0.113.66",
            "username": f"{20000 + n:06d}",
            "known": n % 2 == 0,
            "staff": False,
        }
        for n in range(30)
    ]
    insert_audit(rows)
    # What the audit trail holds of a password typed into the user ID box.
    AuditEvent.objects.filter(target_label="020001").update(detail={"username": "020001", "typed": "MyPassw0rd!"})
    AuditEvent.objects.filter(target_label="020003").update(
        target_label="MyPassw0rd!", detail={"username": "MyPassw0rd!"}
    )
    scan.ops_scan(now=NOW)
    [alert] = Alert.objects.all()
    assert alert.rule == "account_spray" and set(alert.related_rules) == {"client_errors", "flood"}
    text = json.dumps(alert.evidence, ensure_ascii=False) + alert.summary
    for secret in ("hunter2", "secret-token", "MyPassw0rd", "password="):
        assert secret not in text
    assert alert.evidence["known_accounts"][:2] == ["020000", "020002"] and alert.evidence["unknown_ids"] == 15
    mail = OutboxMessage.objects.get()
    assert "hunter2" not in mail.body and "MyPassw0rd" not in mail.body


# --- a run is all or nothing -----------------------------------------------------------------------


def test_a_run_that_fails_part_way_changes_nothing_and_the_next_reads_the_same_lines(settings, tmp_path, monkeypatch):
    log = tmp_path / "access.json"
    settings.OPS_ACCESS_LOGS = [str(log)]
    log.write_text("")
    scan.ops_scan(now=NOW - timedelta(hours=1))
    start = NOW - timedelta(minutes=30)
    log.write_text(
        "\n".join(
            json_line(start + timedelta(seconds=n / 5), "198.51.100.9", "GET", "/login/", 200, 100, 0.1, "curl/8")
            for n in range(240)
        )
        + "\n"
    )

    def broken(*args, **kwargs):
        raise RuntimeError("the mail template is broken")

    monkeypatch.setattr(alerts, "notify", broken)
    with pytest.raises(RuntimeError):
        scan.ops_scan(now=NOW)
    assert not Alert.objects.exists() and ScanRun.objects.count() == 1
    monkeypatch.undo()
    report = scan.ops_scan(now=NOW + timedelta(minutes=5))
    assert report.lines == 240 and Alert.objects.get().count == 240
    assert scan.ops_scan(now=NOW + timedelta(minutes=10)).lines == 0
