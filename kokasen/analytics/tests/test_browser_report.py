"""The 効果分析報告書's screens in headless Debian Chromium (decision 0052): a 受託者 opens
アクセス解析 → 効果分析報告書 from the menu, makes the report of a period and downloads its PDF;
the list, the report's page and the settings at 375 and 1280 px have no axe-core violation
(WCAG 2.x A/AA) and no console error. Screenshots in artifacts/screenshots/."""

import pytest
from django.test import Client

from kokasen.static_export.tests.test_browser import AXE_JS, AXE_TAGS, axe_report
from kokasen.testing.browser import chromium, cookie_of

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)


@pytest.fixture
def operator_cookie(live_site, django_db_blocker):
    from django.contrib.auth import get_user_model

    from kokasen.accounts import roles
    from kokasen.analytics.models import GeneratedReport, ReportSettings
    from kokasen.testing import login_staff, make_staff

    with django_db_blocker.unblock():
        operator = make_staff(roles.OPERATOR, username="op-report")
        client = Client()
        login_staff(client, operator)
        cookie = cookie_of(client, live_site)
    try:
        yield cookie
    finally:
        with django_db_blocker.unblock():
            from kokasen.core.models import AuditEvent

            AuditEvent.objects.filter(actor=operator).delete()
            GeneratedReport.objects.all().delete()
            ReportSettings.objects.all().delete()
            get_user_model().objects.filter(pk=operator.pk).delete()


def test_the_operator_makes_a_report_and_downloads_it(live_site, operator_cookie, artifacts_dir):
    from playwright.sync_api import expect

    shots = artifacts_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    errors = []
    with chromium() as browser:
        context = browser.new_context(locale="ja-JP", accept_downloads=True)
        context.add_cookies([operator_cookie])
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(live_site + "/admin/")
        page.get_by_role("button", name="アクセス解析").click()
        page.get_by_role("link", name="効果分析報告書", exact=True).click()
        page.get_by_label("期間の初日").fill("2026-11-01")
        page.get_by_label("期間の末日").fill("2026-11-30")
        page.get_by_role("button", name="報告書を作成する").click()
        expect(page.get_by_text("2026年11月分の報告書を作成しました。")).to_be_visible(timeout=60_000)
        with page.expect_download() as download:
            page.get_by_role("link", name="報告書（PDF）").click()
        assert download.value.suggested_filename == "効果分析報告書_20261101-20261130.pdf"
        detail = page.url.removeprefix(live_site)

        screens = {
            "reports": "/admin/analytics/reports/",
            "report": detail,
            "settings": "/admin/analytics/reports/settings/",
        }
        violations = []
        shot = browser.new_context(locale="ja-JP", bypass_csp=True)  # CSP bypassed only to inject axe
        shot.add_cookies([operator_cookie])
        view = shot.new_page()
        for width in WIDTHS:
            view.set_viewport_size({"width": width, "height": 900})
            for name, path in screens.items():
                view.goto(live_site + path)
                view.screenshot(path=str(shots / f"analytics-report-{name}-{width}.png"), full_page=True)
                view.add_script_tag(path=str(AXE_JS))
                result = view.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
                if result["violations"]:
                    violations.append(f"{name} at {width} px:\n{axe_report(result['violations'])}")
        shot.close()
    assert errors == []
    assert violations == [], "\n".join(violations)
