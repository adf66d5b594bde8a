"""The 「緊急連絡先」, 「事故の記録」 and 「月次報告」 screens in headless Debian Chromium (decisions
0034, 0039): a 受託者 adds a contact, records an incident from the menu, adds a timeline entry and
downloads the 事故報告書; every new screen at 375 and 1280 px has no axe-core violation (WCAG 2.x A/AA) and no
console error. Screenshots in artifacts/screenshots/."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kokasen.static_export.tests.test_browser import AXE_JS, AXE_TAGS, axe_report
from kokasen.testing.browser import chromium, cookie_of

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)


@pytest.fixture
def scene(live_site, django_db_blocker):
    from django.contrib.auth import get_user_model

    from kokasen.accounts import roles
    from kokasen.ops.models import Alert, EmergencyContact, Incident, IncidentEntry
    from kokasen.testing import login_staff, make_staff

    with django_db_blocker.unblock():
        operator = make_staff(roles.OPERATOR, username="op-incidents")
        now = timezone.now()
        alert = Alert.objects.create(
            rule="flood",
            key="198.51.100.77",
            severity="critical",
            summary="198.51.100.77 から大量アクセス（最大 2,400 件/分）",
            first_seen=now - timedelta(hours=2),
            last_seen=now - timedelta(hours=1),
            count=52000,
        )
        contact = EmergencyContact.objects.create(
            position=1,
            role="受託者 運用責任者",
            name="山田 太郎",
            phone="090-1111-2222",
            email="duty-lead@contractor.example.jp",
            hours="24時間",
        )
        incident = Incident.objects.create(
            title="大量アクセスによる応答の遅延",
            kind="dos",
            detected_at=now - timedelta(hours=2),
            oral_reported_at=now - timedelta(hours=1, minutes=40),
            oral_reported_to="こども家庭庁 担当係",
            summary="特定のアドレスからの大量アクセスで、約20分間ページの表示が遅くなった。",
        )
        incident.alerts.add(alert)
        IncidentEntry.objects.create(
            incident=incident, at=now - timedelta(hours=1, minutes=50), text="fail2ban で遮断した。", author_label="op"
        )
        client = Client()
        login_staff(client, operator)
        cookie = cookie_of(client, live_site)
    try:
        yield {"base": live_site, "cookie": cookie, "incident": incident, "contact": contact}
    finally:
        with django_db_blocker.unblock():
            from kokasen.core.models import AuditEvent

            AuditEvent.objects.filter(actor=operator).delete()
            Incident.objects.all().delete()
            EmergencyContact.objects.all().delete()
            Alert.objects.filter(pk=alert.pk).delete()
            get_user_model().objects.filter(pk=operator.pk).delete()


def test_the_operator_keeps_contacts_and_records_an_incident(scene, artifacts_dir):
    from playwright.sync_api import expect

    shots = artifacts_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    base, incident = scene["base"], scene["incident"]
    errors = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP", accept_downloads=True)
        context.add_cookies([scene["cookie"]])
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base}/admin/")
        page.get_by_role("button", name="運用・セキュリティ").click()
        page.get_by_role("link", name="緊急連絡先", exact=True).click()
        expect(page.locator("table.listing").first).to_contain_text("090-1111-2222")
        page.get_by_role("link", name="連絡先を追加する").click()
        expect(page.get_by_label("順番（必須）")).to_have_value("2")
        page.get_by_label("役割（必須）").fill("受託者 副責任者")
        page.get_by_label("氏名（必須）").fill("佐藤 花子")
        page.get_by_label("電話番号").fill("03-3333-4444")
        page.get_by_role("button", name="保存する").click()
        expect(page.get_by_text("緊急連絡先「受託者 副責任者」を保存しました")).to_be_visible()
        expect(page.get_by_text("電話のみ（メールなし）")).to_be_visible()

        page.get_by_role("button", name="運用・セキュリティ").click()
        page.get_by_role("link", name="事故の記録", exact=True).click()
        page.get_by_role("link", name="事故を記録する").click()
        page.get_by_label("件名（必須）").fill("管理画面へのログイン不能")
        page.get_by_label("種類（必須）").select_option(label="障害・停止")
        page.get_by_role("button", name="保存する").click()
        expect(page.get_by_text("「管理画面へのログイン不能」を保存しました")).to_be_visible()
        page.get_by_label("内容（何が起き、何をしたか）（必須）").fill(
            "gunicorn を再起動し、ログインできることを確認した。"
        )
        page.get_by_role("button", name="経過を記録する").click()
        expect(page.get_by_text("経過を記録しました")).to_be_visible()
        expect(page.locator("table.listing")).to_contain_text("gunicorn を再起動し")
        page.goto(f"{base}/admin/ops/incidents/{incident.pk}/")
        with page.expect_download() as download:
            page.get_by_role("link", name="事故報告書（PDF）").click()
        assert download.value.suggested_filename.startswith(f"事故報告書_{incident.pk}_")

        screens = {
            "contacts": "/admin/ops/contacts/",
            "contact-form": f"/admin/ops/contacts/{scene['contact'].pk}/",
            "incidents": "/admin/ops/incidents/",
            "incident-form": f"/admin/ops/incidents/{incident.pk}/edit/",
            "incident": f"/admin/ops/incidents/{incident.pk}/",
            "reports": "/admin/ops/reports/",
            "report-month": "/admin/ops/reports/2026/11/",
        }
        violations = []
        shot = browser.new_context(locale="ja-JP", bypass_csp=True)  # CSP bypassed only to inject axe
        shot.add_cookies([scene["cookie"]])
        view = shot.new_page()
        for width in WIDTHS:
            view.set_viewport_size({"width": width, "height": 900})
            for name, path in screens.items():
                view.goto(base + path)
                view.screenshot(path=str(shots / f"ops-{name}-{width}.png"), full_page=True)
                view.add_script_tag(path=str(AXE_JS))
                result = view.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
                if result["violations"]:
                    violations.append(f"{name} at {width} px:\n{axe_report(result['violations'])}")
        shot.close()
    assert errors == []
    assert violations == [], "\n".join(violations)
