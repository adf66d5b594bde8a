"""「運用・セキュリティ」 in headless Debian Chromium: a 受託者 opens the alerts from Wagtail's menu,
opens the critical one, acknowledges it with a note, finds the acknowledgement in the audit
trail. No console errors (the admin's CSP) along the way. Screenshots in artifacts/screenshots/."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kokasen.testing.browser import chromium, cookie_of

pytestmark = pytest.mark.browser


@pytest.fixture
def scene(live_site, django_db_blocker):
    from django.contrib.auth import get_user_model

    from kokasen.accounts import roles
    from kokasen.ops.models import Alert
    from kokasen.testing import login_staff, make_staff

    with django_db_blocker.unblock():
        operator = make_staff(roles.OPERATOR, username="op-browser")
        now = timezone.now()
        alerts = [
            Alert.objects.create(
                rule="account_spray",
                key="203.0.113.66",
                severity="critical",
                related_rules=["flood"],
                summary="203.0.113.66 から 150 件のユーザーIDへのログイン試行（1時間以内、成功していないもの）",
                first_seen=now - timedelta(minutes=12),
                last_seen=now - timedelta(minutes=9),
                count=150,
                evidence={
                    "address": "203.0.113.66",
                    "accounts_tried": 150,
                    "failures": 30,
                    "refused_attempts": 120,
                    "known_accounts": ["011002", "012025"],
                    "unknown_ids": 148,
                },
            ),
            Alert.objects.create(
                rule="scanner",
                key="45.148.10.7",
                severity="warning",
                summary="45.148.10.7 から脆弱性スキャン（スキャン用アドレスへの要求 46 件、ツール zgrab）",
                first_seen=now - timedelta(minutes=40),
                last_seen=now - timedelta(minutes=39),
                count=46,
                evidence={"address": "45.148.10.7", "tools": ["zgrab"], "requests": [["GET", "/.env", 404, 2]]},
            ),
        ]
        client = Client()
        login_staff(client, operator)
        cookie = cookie_of(client, live_site)
    try:
        yield {"base": live_site, "cookie": cookie, "alerts": alerts, "operator": operator}
    finally:
        with django_db_blocker.unblock():
            from kokasen.core.models import AuditEvent

            AuditEvent.objects.filter(actor=operator).delete()
            Alert.objects.filter(pk__in=[a.pk for a in alerts]).delete()
            get_user_model().objects.filter(pk=operator.pk).delete()


def test_the_operator_acknowledges_an_alert(scene, django_db_blocker, artifacts_dir):
    from playwright.sync_api import expect

    shots = artifacts_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    base, critical = scene["base"], scene["alerts"][0]
    errors = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        context.add_cookies([scene["cookie"]])
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base}/admin/")
        page.get_by_role("button", name="運用・セキュリティ").click()
        page.get_by_role("link", name="アラート", exact=True).click()
        expect(page.get_by_role("heading", name="対応中のアラート")).to_be_visible()
        rows = page.locator("table.listing tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("重大")  # the most severe first
        page.screenshot(path=str(shots / "ops-alerts.png"), full_page=True)
        page.get_by_role("link", name=critical.summary).click()
        expect(page.get_by_text("実在するアカウント")).to_be_visible()
        page.screenshot(path=str(shots / "ops-alert-detail.png"), full_page=True)
        page.get_by_label("確認して記録する").fill("送信元を fail2ban で遮断したことを確認。庁に電話で報告済み。")
        page.get_by_role("button", name="確認済みにする").click()
        expect(page.get_by_text("対応の記録を残しました")).to_be_visible()
        expect(page.get_by_text("庁に電話で報告済み")).to_be_visible()
        page.goto(f"{base}/admin/ops/audit/?action=ops.")
        expect(page.locator("table.listing tbody tr")).to_have_count(1)
        expect(page.locator("table.listing")).to_contain_text(
            "アラートへの対応"
        )  # the code's Japanese label (decision 0053)
        page.screenshot(path=str(shots / "ops-audit.png"), full_page=True)
    assert errors == []
    with django_db_blocker.unblock():
        critical.refresh_from_db()
        assert critical.acknowledged_by_label == "op-browser"
