"""The dashboard 「アクセス解析」 in headless Debian Chromium with the demo's analytics (decision
0051): a 受託者 opens it from the menu, picks last month with a preset, downloads a table as
CSV; at 375 and 1280 px axe-core finds no WCAG 2.x A/AA violation, no console error (the CSP
holds: no inline style or script of ours) and no horizontal scrolling of the page. Screenshots in
artifacts/screenshots/."""

import pytest
from django.test import Client

from kokasen.static_export.tests.test_browser import AXE_JS, AXE_TAGS, axe_report
from kokasen.testing.browser import chromium, cookie_of

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)


@pytest.fixture
def scene(live_site, django_db_blocker):
    from django.contrib.auth import get_user_model

    from kokasen.accounts import roles
    from kokasen.analytics import models
    from kokasen.demo.analytics import load_analytics_demo
    from kokasen.notifications.models import OutboxMessage
    from kokasen.testing import login_staff, make_staff

    with django_db_blocker.unblock():
        operator = make_staff(roles.OPERATOR, username="op-analytics")
        User = get_user_model()
        from kokasen.meetings.models import CenterStatus

        before = set(User.objects.values_list("pk", flat=True))
        centers = set(CenterStatus.objects.values_list("pk", flat=True))
        load_analytics_demo(log=lambda *a: None)
        client = Client()
        login_staff(client, operator)
        cookie = cookie_of(client, live_site)
    try:
        yield {"base": live_site, "cookie": cookie}
    finally:
        with django_db_blocker.unblock():
            from kokasen.core.models import AuditEvent

            for model in (
                models.DayTotal,
                models.PageDay,
                models.DownloadDay,
                models.Breakdown,
                models.NotFoundDay,
                models.LoginDay,
                models.ActivityDay,
                models.DocumentOpen,
            ):
                model.objects.all().delete()
            OutboxMessage.objects.filter(message_id__startswith="<demo-analytics-").delete()
            AuditEvent.objects.filter(actor=operator).delete()
            User.objects.exclude(pk__in=before).delete()
            CenterStatus.objects.exclude(pk__in=centers).delete()


def test_the_operator_reads_the_dashboard(scene, artifacts_dir):
    from playwright.sync_api import expect

    shots = artifacts_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    base = scene["base"]
    errors = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP", accept_downloads=True)
        context.add_cookies([scene["cookie"]])
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base}/admin/")
        page.get_by_role("button", name="アクセス解析").click()
        page.get_by_role("link", name="アクセスの集計").click()
        expect(page.get_by_role("heading", name="期間の合計と前期間との比較")).to_be_visible()
        expect(page.locator(".ad-tile")).to_have_count(47)
        page.get_by_role("link", name="先月", exact=True).click()
        expect(page.get_by_role("link", name="先月", exact=True)).to_have_attribute("aria-current", "true")
        with page.expect_download() as download:
            page.get_by_role("link", name="「よく見られたページ」をCSVでダウンロード").click()
        assert download.value.suggested_filename.startswith("アクセス解析_よく見られたページ_")
        context.close()

        violations = []
        shot = browser.new_context(locale="ja-JP", bypass_csp=True)  # CSP bypassed only to inject axe
        shot.add_cookies([scene["cookie"]])
        view = shot.new_page()
        for width in WIDTHS:
            view.set_viewport_size({"width": width, "height": 900})
            view.goto(f"{base}/admin/analytics/")
            height = view.evaluate("document.querySelector('.ad').getBoundingClientRect().bottom + 200")
            view.set_viewport_size({"width": width, "height": int(height)})  # the admin scrolls inside
            view.screenshot(path=str(shots / f"analytics-dashboard-{width}.png"))
            view.set_viewport_size({"width": width, "height": 900})
            overflow = view.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"the page scrolls sideways by {overflow} px at {width} px"
            view.add_script_tag(path=str(AXE_JS))
            result = view.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
            if result["violations"]:
                violations.append(f"dashboard at {width} px:\n{axe_report(result['violations'])}")
        shot.close()
    assert errors == []
    assert violations == [], "\n".join(violations)
