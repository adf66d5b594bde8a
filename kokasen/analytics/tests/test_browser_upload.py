"""「アクセスログの取り込み」 in headless Debian Chromium at 1280 and 375 px: a 受託者 opens it from
Wagtail's menu, uploads a gzipped combined log, reads the counts, uploads it again and is told it
was already read. No console errors (the admin's CSP). Screenshots in artifacts/screenshots/."""

import gzip

import pytest
from django.test import Client

from kokasen.testing.browser import chromium, cookie_of
from kokasen.testing.traffic import as_combined

pytestmark = pytest.mark.browser


@pytest.fixture
def scene(live_site, django_db_blocker, settings, tmp_path):
    from django.contrib.auth import get_user_model

    from kokasen.accounts import roles
    from kokasen.analytics.tests.test_ingest import lines
    from kokasen.testing import login_staff, make_staff

    settings.OPS_STATE_DIR = tmp_path / "state"
    settings.ANALYTICS_ACCESS_LOGS = []
    log = tmp_path / "access.log-20261105.gz"
    log.write_bytes(gzip.compress(("\n".join(as_combined(lines())) + "\nこれはログの行ではありません\n").encode()))
    with django_db_blocker.unblock():
        operator = make_staff(roles.OPERATOR, username="op-upload-browser")
        client = Client()
        login_staff(client, operator)
        cookie = cookie_of(client, live_site)
    try:
        yield {"base": live_site, "cookie": cookie, "log": log}
    finally:
        with django_db_blocker.unblock():
            from kokasen.analytics import models
            from kokasen.core.models import AccessLogPosition, AuditEvent

            AuditEvent.objects.filter(actor=operator).delete()
            for model in (models.DayTotal, models.PageDay, models.DownloadDay, models.Breakdown, models.NotFoundDay):
                model.objects.all().delete()
            models.ClientKey.objects.all().delete()
            AccessLogPosition.objects.filter(consumer="analytics").delete()
            get_user_model().objects.filter(pk=operator.pk).delete()


def test_the_operator_uploads_a_log_twice(scene, artifacts_dir):
    from playwright.sync_api import expect

    shots = artifacts_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    errors = []
    with chromium() as browser:
        for width, height in ((1280, 900), (375, 800)):
            context = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP")
            context.add_cookies([scene["cookie"]])
            page = context.new_page()
            page.on("console", lambda message: message.type == "error" and errors.append(message.text))
            page.on("pageerror", lambda error: errors.append(str(error)))
            if width == 1280:
                page.goto(f"{scene['base']}/admin/")
                page.get_by_role("button", name="アクセス解析").click()
                page.get_by_role("link", name="アクセスログの取り込み").click()
            else:
                page.goto(f"{scene['base']}/admin/analytics/access-logs/")
            expect(page.get_by_role("heading", name="ファイルを選ぶ")).to_be_visible()
            page.get_by_label("アクセスログのファイル").set_input_files(str(scene["log"]))
            page.get_by_role("button", name="取り込む").click()
            if width == 1280:
                expect(page.get_by_text("取り込みました。")).to_be_visible()
                expect(page.get_by_role("row", name="読めない行 1 行")).to_be_visible()
                expect(page.get_by_role("row", name="期間 2026年11月4日〜2026年11月4日")).to_be_visible()
            else:
                expect(page.get_by_text("すでにすべて取り込まれています")).to_be_visible()
            page.screenshot(path=str(shots / f"analytics-upload-{width}.png"), full_page=True)
            page.locator("table.listing").last.screenshot(path=str(shots / f"analytics-upload-recent-{width}.png"))
            context.close()
    assert errors == []
