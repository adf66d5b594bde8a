"""「運用・セキュリティ」 in Wagtail's admin: open alerts, one alert with its evidence and the
acknowledgement form, the history, the audit trail with filters. Who may open them is the URL
walk's (kokasen/core/tests/test_url_access.py); this is what they show and do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kokasen.core.audit import audit_record
from kokasen.core.models import AuditEvent
from kokasen.ops.models import Alert, ScanRun

pytestmark = pytest.mark.django_db


def make_alert(**fields):
    now = timezone.now()
    values = {
        "rule": "scanner",
        "key": "45.148.10.7",
        "severity": "warning",
        "summary": "45.148.10.7 から脆弱性スキャン",
        "first_seen": now - timedelta(minutes=10),
        "last_seen": now,
        "count": 46,
        "evidence": {
            "address": "45.148.10.7",
            "tools": ["zgrab"],
            "requests": [["GET", "/.env", 404, 2], ["GET", "/wp-login.php", 404, 2]],
        },
    }
    return Alert.objects.create(**{**values, **fields})


def test_the_menu_and_the_open_alerts(staff_client):
    critical = make_alert(
        rule="account_spray",
        key="203.0.113.66",
        severity="critical",
        summary="203.0.113.66 から 150 件のユーザーIDへのログイン試行",
        related_rules=["flood"],
    )
    make_alert()
    make_alert(rule="flood", key="198.51.100.1", summary="解消した大量アクセス", resolved_at=timezone.now())
    ScanRun.objects.create(started_at=timezone.now(), finished_at=timezone.now(), lines=1234, audit_events=5)
    page = staff_client.get("/admin/").content.decode()  # the menu is the sidebar's JSON
    assert "/admin/ops/" in page and "/admin/ops/history/" in page and "/admin/ops/audit/" in page
    page = staff_client.get("/admin/ops/").content.decode()
    assert page.index(critical.summary) < page.index("45.148.10.7 から脆弱性スキャン")  # the most severe first
    assert "解消した大量アクセス" not in page and "1234 行" in page and "＋大量アクセス" in page
    assert "確認が行われていません" not in page


def test_a_scan_that_stopped_running_shows(staff_client):
    ScanRun.objects.create(
        started_at=timezone.now() - timedelta(hours=1), finished_at=timezone.now() - timedelta(minutes=25)
    )
    assert "20分以上、確認が行われていません" in staff_client.get("/admin/ops/").content.decode()


def test_one_alert_and_acknowledging_it(staff_client, operator):
    alert = make_alert()
    page = staff_client.get(f"/admin/ops/alerts/{alert.pk}/").content.decode()
    assert "GET /.env 404 2" in page and "zgrab" in page and "確認済みにする" in page
    response = staff_client.post(f"/admin/ops/alerts/{alert.pk}/acknowledge/", {"note": ""}, follow=True)
    assert "対応の記録を入力してください" in response.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    response = staff_client.post(
        f"/admin/ops/alerts/{alert.pk}/acknowledge/", {"note": "fail2ban が遮断したことを確認しました。"}, follow=True
    )
    page = response.content.decode()
    assert "対応の記録を残しました" in page and "fail2ban が遮断したことを確認しました。" in page
    alert.refresh_from_db()
    assert alert.acknowledged_by == operator and alert.status_label == "確認済み"
    event = AuditEvent.objects.get(action="ops.alert_acknowledged")
    assert event.actor == operator and event.ip_address == "127.0.0.1"


def test_the_history_filters(staff_client):
    resolved = timezone.now()
    make_alert(resolved_at=resolved, resolution="60 分間、新たな発生がありません", summary="古いスキャン")
    make_alert(
        rule="certificate_expiry",
        key="/etc/ssl/kokasen/fullchain.pem",
        summary="証明書の期限まであと 5 日",
        severity="critical",
        resolved_at=resolved,
        resolution="確認の結果、問題がなくなりました",
    )
    page = staff_client.get("/admin/ops/history/").content.decode()
    assert "古いスキャン" in page and "証明書の期限まであと 5 日" in page
    page = staff_client.get("/admin/ops/history/?rule=certificate_expiry").content.decode()
    assert "古いスキャン" not in page and "証明書の期限まであと 5 日" in page
    page = staff_client.get("/admin/ops/history/?severity=warning&rule=nonsense").content.decode()
    assert "古いスキャン" in page and "証明書の期限まであと 5 日" not in page


def test_the_audit_trail_filters_and_hides_what_was_typed(staff_client, rf, operator):
    request = rf.get("/", REMOTE_ADDR="198.51.100.23")
    audit_record(
        action="login.failed",
        target_label="012025",
        request=request,
        detail={"username": "012025", "typed": "MyPassw0rd!", "result": "failed"},
    )
    audit_record(action="account.disabled", acting_user=operator, target_label="013013")
    old = audit_record(action="login.succeeded", target_label="014014", request=request)
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    page = staff_client.get("/admin/ops/audit/").content.decode()
    assert "012025" in page and "013013" in page and "014014" in page
    assert "MyPassw0rd" not in page and "結果：失敗" in page
    assert "「012025」のログインに失敗しました" in page and "login.failed" not in page.split("<tbody>")[1]
    page = staff_client.get("/admin/ops/audit/?action=login.").content.decode()
    assert "012025" in page and "013013" not in page and "014014" in page
    page = staff_client.get("/admin/ops/audit/?address=198.51.100").content.decode()
    assert "012025" in page and "013013" not in page
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    page = staff_client.get(f"/admin/ops/audit/?since={since}&actor={operator.username}").content.decode()
    assert "013013" in page and "012025" not in page and "014014" not in page
    assert staff_client.get("/admin/ops/audit/?since=not-a-date").status_code == 200
