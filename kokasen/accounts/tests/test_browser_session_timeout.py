"""The login's end in headless Debian Chromium (JIS X 8341-3 2.2.1, decision 0066): a member
writing an opinion in the 意見箱 is warned before her login ends, in a dialog announced as an
alertdialog with the focus on 「ログインを延長する」; the button extends the login (a full
SESSION_COOKIE_AGE again, on the server), the warning goes and the focus and the text are back
where they were. When the end has come the page says so before anything is sent. axe finds
nothing on the page with the warning, and with the end, shown at 320 px. No console error
(strict CSP).

The member logs in through the login form with a short SESSION_COOKIE_AGE (the live server is
this process, so ``settings`` reaches it): the warning then comes from the server's own clock
a few seconds later. The end is reached with Playwright's clock (the page's time only).
"""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from kokasen.static_export.tests.test_browser import AXE_JS, AXE_TAGS, axe_report
from kokasen.testing.browser import chromium, cookie_of

pytestmark = pytest.mark.browser

PASSWORD = "session-timeout-pass-2026"
OPINION = "研修資料の配布を、開催の一週間前までにお願いできますでしょうか。"
WARNING = "ログインの有効時間が残り約"
EXPIRED = "ログインの有効時間が切れました"


@pytest.fixture
def members(live_site, django_db_blocker):
    from django.contrib.auth import get_user_model

    from kokasen.testing import CODE_A, CODE_B, login_member, make_member

    with django_db_blocker.unblock():
        User = get_user_model()
        User.objects.filter(username__in=[CODE_A, CODE_B]).delete()
        make_member(CODE_A, password=PASSWORD)
        other = make_member(CODE_B)
        client = Client()
        login_member(client, other)
        session = client.session
        session.set_expiry(timezone.now() + timedelta(seconds=200))  # inside the warning window
        session.save()
        facts = {"base": live_site, "username": CODE_A, "warned_cookie": cookie_of(client, live_site)}
    try:
        yield facts
    finally:
        with django_db_blocker.unblock():
            User.objects.filter(username__in=[CODE_A, CODE_B]).delete()


def test_warned_before_the_end_extended_and_told_when_it_has_come(members, settings, artifacts_dir):
    from playwright.sync_api import expect

    base = members["base"]
    settings.SESSION_COOKIE_AGE = 310
    settings.SESSION_WARNING_SECONDS = 300
    problems = []

    with chromium() as browser:
        context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda e: problems.append(f"JS error: {e}"))
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        page.clock.install()  # runs with real time until the test moves it

        # Logs in for 310 s and starts writing an opinion; the dialog is closed meanwhile.
        page.goto(f"{base}/members/feedback/")
        page.fill("input[name=username]", members["username"])
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url(f"{base}/members/feedback/")
        field = page.get_by_label("ご意見")
        field.fill(OPINION)
        dialog = page.get_by_role("alertdialog")
        expect(dialog).to_be_hidden()

        # About ten seconds later (the server's real clock) five minutes are left: the warning.
        expect(dialog).to_be_visible(timeout=30_000)
        expect(dialog).to_have_accessible_name("まもなくログインの有効時間が切れます")
        expect(dialog).to_have_accessible_description(
            "ログインの有効時間が残り約5分です。入力中の内容を失わないよう、延長してください。"
        )
        extend = dialog.get_by_role("button", name="ログインを延長する")
        expect(extend).to_be_focused()
        page.screenshot(path=str(artifacts_dir / "session-timeout-warning-1280.png"))

        # The extension: a full SESSION_COOKIE_AGE (8 hours again) from the server.
        settings.SESSION_COOKIE_AGE = 8 * 60 * 60
        extend.click()
        expect(dialog).to_be_hidden()
        expect(field).to_be_focused()
        expect(field).to_have_value(OPINION)
        answer = page.evaluate("() => fetch('/session/', {headers: {Accept: 'application/json'}}).then(r => r.json())")
        assert answer["seconds_left"] > 8 * 60 * 60 - 60, answer
        assert answer["extensions_left"] == django_settings.SESSION_EXTENSIONS_MAX - 1

        # An hour on by the page's clock: nothing to say, the new end is seven hours away.
        page.clock.fast_forward("01:00:00")
        expect(dialog).to_be_hidden()

        # Past the end by the page's clock: the dialog says it has come, and how not to lose the text.
        page.clock.fast_forward(8 * 60 * 60 * 1000)
        expect(dialog).to_be_visible()
        expect(dialog).to_have_accessible_name(EXPIRED)
        expect(dialog).to_contain_text("入力中の内容は失われます")
        expect(dialog.get_by_role("button", name="ログインを延長する")).to_be_hidden()
        expect(dialog.get_by_role("link", name="ログイン画面を別のタブで開く")).to_be_focused()
        dialog.get_by_role("button", name="閉じる").click()
        expect(dialog).to_be_hidden()
        expect(field).to_have_value(OPINION)
        context.close()

        # axe with the warning, then the end, shown, on a phone (CSP bypassed only to inject axe).
        context = browser.new_context(bypass_csp=True, locale="ja-JP", viewport={"width": 320, "height": 640})
        context.add_cookies([members["warned_cookie"]])
        page = context.new_page()
        page.clock.install()
        page.goto(f"{base}/members/feedback/")
        dialog = page.get_by_role("alertdialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text(WARNING)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
        page.screenshot(path=str(artifacts_dir / "session-timeout-warning-320.png"))
        page.add_script_tag(path=str(AXE_JS))
        found = []
        for state in ("warning", "expired"):
            if state == "expired":
                page.clock.fast_forward(10 * 60 * 1000)
                expect(dialog).to_have_accessible_name(EXPIRED)
                page.screenshot(path=str(artifacts_dir / "session-timeout-expired-320.png"))
            result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
            found += [f"{state}: {line}" for line in axe_report(result["violations"]).splitlines() if line.strip()]
        context.close()

    assert not found, "\n".join(found)
    assert not problems, problems
