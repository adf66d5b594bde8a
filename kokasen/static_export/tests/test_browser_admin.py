"""「静的サイトの書き出し」 in headless Debian Chromium (decision 0054): a 受託者 finds the screen in
Wagtail's menu, asks for a build, sees it waiting (the page reloads itself), is told in Japanese
that a second build must wait, the worker (django-tasks' db_worker) runs the build, and the ZIP
is downloaded and read back; then the compare screen shows two variants side by side. axe-core
finds no violation on either screen at 375 and 1280 px. Screenshots in artifacts/screenshots/.

The database is touched only with the browser on about:blank (nothing in flight on the live
server, which shares the session's connection)."""

import zipfile

import pytest
from django.test import Client

from kokasen.static_export.tests.test_browser import axe_problems
from kokasen.testing.browser import chromium, cookie_of

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)


@pytest.fixture
def scene(live_site, django_db_blocker, tmp_path, settings):
    from django.contrib.auth import get_user_model

    from kokasen.accounts import roles
    from kokasen.pages.models import ArticlePage
    from kokasen.testing import login_staff, make_staff

    settings.STATIC_EXPORT_ARCHIVE_DIR = tmp_path / "zips"
    settings.STATIC_EXPORT_JOBS = 1
    with django_db_blocker.unblock():
        operator = make_staff(roles.OPERATOR, username="export-browser")
        client = Client()
        login_staff(client, operator)
        cookie = cookie_of(client, live_site)
        article = ArticlePage.objects.live().public().order_by("path").first()
    try:
        yield {"base": live_site, "cookie": cookie, "operator": operator, "article": article}
    finally:
        with django_db_blocker.unblock():
            from django_tasks_db.models import DBTaskResult

            from kokasen.core.models import AuditEvent
            from kokasen.static_export.models import ExportBuild

            ExportBuild.objects.all().delete()
            DBTaskResult.objects.filter(queue_name="static_export").delete()
            AuditEvent.objects.filter(action__startswith="static_export.").delete()
            AuditEvent.objects.filter(actor=operator).delete()
            get_user_model().objects.filter(pk=operator.pk).delete()


def run_worker(django_db_blocker):
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command(
            "db_worker", "--backend", "static_export", "--queue-name", "static_export", "--batch", "--no-startup-delay"
        )


def open_admin(browser, scene, errors):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    context.add_cookies([scene["cookie"]])
    page = context.new_page()
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def test_the_operator_builds_downloads_and_compares(scene, django_db_blocker, artifacts_dir, tmp_path):
    from playwright.sync_api import expect

    from kokasen.static_export import builder
    from kokasen.static_export.models import ExportBuild

    shots = artifacts_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    base, article = scene["base"], scene["article"]
    errors = []
    with chromium() as browser:
        page = open_admin(browser, scene, errors)
        page.goto(f"{base}/admin/")
        page.get_by_role("button", name="静的サイトの書き出し").click()
        page.get_by_role("link", name="書き出しとダウンロード").click()
        expect(page.get_by_role("heading", name="静的サイトの書き出し", level=1)).to_be_visible()
        expect(page.get_by_text("まだ書き出したファイルはありません")).to_be_visible()
        page.get_by_role("button", name="パターンB × デザイン2 を書き出す").click()
        expect(page.get_by_text("「パターンB × デザイン2」の書き出しを受け付けました")).to_be_visible()
        expect(page.locator(".static-export-running")).to_contain_text("順番待ち")
        assert page.locator('meta[http-equiv="refresh"]').count() == 1  # reloads itself, no script
        page.screenshot(path=str(shots / "export-queued-1280.png"), full_page=True)
        # One build at a time: a second one is refused, in Japanese, and nothing is queued.
        page.get_by_role("button", name="パターンA × デザイン1 を書き出す").click()
        expect(page.get_by_text("新しい書き出しは始められません")).to_be_visible()
        page.wait_for_timeout(600)  # Wagtail's message slides in
        page.screenshot(path=str(shots / "export-busy-1280.png"), full_page=True)

    # The database only with no browser running (Playwright's loop and the live server's requests).
    with django_db_blocker.unblock():
        build = ExportBuild.objects.get()
        # The screen while rendering, as the worker's progress writes it (the real run follows).
        ExportBuild.objects.filter(pk=build.pk).update(
            status="running", phase=builder.RENDERING, done_count=24, total_count=61
        )
    with chromium() as browser:
        page = open_admin(browser, scene, errors)
        page.goto(f"{base}/admin/static-export/")
        expect(page.locator("progress")).to_be_visible()
        expect(page.locator(".static-export-running")).to_contain_text("24 / 61 ページ")
        page.screenshot(path=str(shots / "export-running-1280.png"), full_page=True)
    with django_db_blocker.unblock():
        ExportBuild.objects.filter(pk=build.pk).update(status="queued", phase="", done_count=0, total_count=0)
    run_worker(django_db_blocker)

    with chromium() as browser:
        page = open_admin(browser, scene, errors)
        page.goto(f"{base}/admin/static-export/")
        expect(page.get_by_text("作成中の書き出しはありません")).to_be_visible()
        expect(page.locator(".static-export-build")).to_contain_text("完了")
        with page.expect_download() as download:
            page.get_by_role("link", name="ZIPをダウンロード").click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        page.screenshot(path=str(shots / "export-done-1280.png"), full_page=True)
        with zipfile.ZipFile(saved) as z:
            root = saved.stem + "/"
            assert z.testzip() is None
            assert z.getinfo(root + "careers/はたらく魅力/index.html").flag_bits & 0x800
            assert 'data-design="warm"' in z.read(root + "index.html").decode()

        page.get_by_role("button", name="静的サイトの書き出し").click()
        page.get_by_role("link", name="見比べる（構成・デザイン）").click()
        page.get_by_label("左に表示する組み合わせ").select_option("flat-standard")
        page.get_by_label("右に表示する組み合わせ").select_option("grouped-warm")
        page.get_by_label("ページ", exact=True).select_option(str(article.pk))
        page.get_by_role("button", name="並べて表示する").click()
        frames = page.locator(".static-export-pane iframe")
        expect(frames).to_have_count(2)
        left, right = page.frame_locator("iframe >> nth=0"), page.frame_locator("iframe >> nth=1")
        expect(left.locator("html")).to_have_attribute("data-design", "standard")
        expect(right.locator("html")).to_have_attribute("data-design", "warm")
        expect(right.locator("html")).to_have_attribute("data-structure", "grouped")
        expect(left.locator("h1")).to_have_text(article.title)
        expect(right.locator("h1")).to_have_text(article.title)
        one, two = frames.nth(0).bounding_box(), frames.nth(1).bounding_box()
        assert one["x"] + one["width"] <= two["x"] and abs(one["y"] - two["y"]) < 2, (one, two)  # side by side
        assert one["width"] < 600 and article.title in right.locator("h1").inner_text()
        page.screenshot(path=str(shots / "export-compare-1280.png"))
        page.get_by_label("表示の幅").select_option("phone")
        page.get_by_role("button", name="並べて表示する").click()
        expect(page.frame_locator("iframe >> nth=1").locator("h1")).to_have_text(article.title)
        page.screenshot(path=str(shots / "export-compare-phone-1280.png"))

        screens = {"builds": "/admin/static-export/", "compare": f"/admin/static-export/compare/?page={article.pk}"}
        violations = []
        shot = browser.new_context(locale="ja-JP", bypass_csp=True)  # CSP bypassed only to inject axe
        shot.add_cookies([scene["cookie"]])
        view = shot.new_page()
        for width in WIDTHS:
            view.set_viewport_size({"width": width, "height": 900})
            for name, path in screens.items():
                view.goto(base + path)
                if name == "compare":
                    expect(view.frame_locator("iframe >> nth=1").locator("h1")).to_be_visible()
                view.screenshot(path=str(shots / f"export-{name}-{width}.png"), full_page=True)
                violations += axe_problems(view, name)
        shot.close()
    assert errors == []
    assert violations == [], "\n".join(violations)
