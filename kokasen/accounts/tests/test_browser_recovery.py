"""Staff recovery codes and the Japanese admin in headless Debian Chromium (issue 17 items 4
and 8; decision 0053): a new staff member enrols and is shown the ten codes once; a colleague
without the phone logs in with a code and is told how many remain, then makes new ones from the
account screen; the new and changed screens at 375 and 1280 px have no axe-core violation
(WCAG 2.x A/AA) and no console error. Screenshots in /work/notes/shots-adminja/ when it exists,
else artifacts/screenshots/."""

import re
from base64 import b32decode
from pathlib import Path

import pytest
from django.test import Client
from django_otp.oath import TOTP

from kokasen.static_export.tests.test_browser import AXE_JS, AXE_TAGS, axe_report
from kokasen.testing.browser import chromium, cookie_of, settled

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)
PASSWORD = "correct-horse-battery-staple-42"
NOTES_SHOTS = Path("/work/notes/shots-adminja")


@pytest.fixture
def scene(live_site, django_db_blocker):
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from kokasen.accounts import roles, services
    from kokasen.core.audit import audit_record
    from kokasen.testing import login_staff, make_staff

    with django_db_blocker.unblock():
        holder = make_staff(roles.OPERATOR, username="itaku-kaifuku", password=PASSWORD)
        codes = services.recovery_codes_issue(user=holder, reason="enrolment")
        newcomer = make_staff(roles.OPERATOR, username="itaku-shinnin", password=PASSWORD)
        TOTPDevice.objects.filter(user=newcomer).delete()
        link = services.enrolment_invitation_issue(user=newcomer, print_link=True, issued_by_label="テスト").link
        admin = make_staff(roles.AGENCY_ADMIN, username="kanri-kaifuku")
        audit_record(
            action="tips.settings_changed",
            acting_user=admin,
            detail={"changes": {"mode": {"old": "pre", "new": "post"}}},
        )
        client = Client()
        login_staff(client, admin)
        admin_cookie = cookie_of(client, live_site)
    try:
        yield {"base": live_site, "codes": codes, "link": link, "admin_cookie": admin_cookie, "holder": holder}
    finally:
        with django_db_blocker.unblock():
            from kokasen.core.models import AuditEvent

            users = [holder, newcomer, admin]
            AuditEvent.objects.filter(target_id__in=[str(u.pk) for u in users]).delete()
            AuditEvent.objects.filter(actor__in=users).delete()
            get_user_model().objects.filter(pk__in=[u.pk for u in users]).delete()


def _shots() -> Path:
    if NOTES_SHOTS.parent.is_dir():
        NOTES_SHOTS.mkdir(exist_ok=True)
        return NOTES_SHOTS
    path = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check(page, name: str, shots: Path, violations: list, width: int):
    # Wagtail's messages fade in (opacity .5 s, once its script marks the page ready): measure the
    # colours they end with, not a frame of the fade.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.messages > ul')].every(u => getComputedStyle(u).opacity === '1')"
    )
    settled(page)
    page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    if result["violations"]:
        violations.append(f"{name} at {width}px:\n{axe_report(result['violations'])}")


def _log_in(page, base, username):
    page.goto(f"{base}/login/")
    page.get_by_label("ユーザーID").fill(username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def test_recovery_codes_in_the_browser(scene):
    from playwright.sync_api import expect

    assert AXE_JS.is_file(), "tools/node_modules/axe-core is missing (make test installs it)"
    shots, base, codes = _shots(), scene["base"], scene["codes"]
    errors, violations = [], []
    with chromium() as browser:
        for width in WIDTHS:
            # bypass_csp only to inject axe into the pages
            context = browser.new_context(viewport={"width": width, "height": 900}, locale="ja-JP", bypass_csp=True)
            page = context.new_page()
            page.on("console", lambda m, p=page: m.type == "error" and errors.append(f"{p.url}: {m.text}"))
            page.on("pageerror", lambda error, p=page: errors.append(f"{p.url}: {error}"))
            # A colleague without the phone: the recovery step, one code, how many remain.
            _log_in(page, base, "itaku-kaifuku")
            page.get_by_role("link", name="認証アプリを使えないとき（回復コードでログイン）").click()
            expect(page.get_by_role("heading", name="回復コードでログイン")).to_be_visible()
            _check(page, "login-recovery", shots, violations, width)
            page.get_by_role("textbox", name="回復コード").fill(codes[0].upper())
            page.get_by_role("button", name="確認してログイン").click()
            expect(page.get_by_text("使える回復コードは残り9個です。")).to_be_visible()
            _check(page, "admin-after-recovery", shots, violations, width)
            page.goto(f"{base}/admin/account/")
            page.get_by_role("tab", name="他のアクション").click()
            page.get_by_role("link", name="回復コード").click()
            expect(page.get_by_text("残り9個")).to_be_visible()
            _check(page, "admin-recovery-codes", shots, violations, width)
            page.get_by_role("button", name="新しい回復コードを作成する").click()
            expect(page.locator("ul.app-recovery-codes li")).to_have_count(10)
            _check(page, "admin-recovery-codes-new", shots, violations, width)
            codes = page.locator("ul.app-recovery-codes code").all_inner_texts()  # the old ones are void
            context.close()

        # A newcomer enrols with the mailed link and is shown the ten codes once.
        context = browser.new_context(viewport={"width": 375, "height": 900}, locale="ja-JP", bypass_csp=True)
        page = context.new_page()
        page.goto(scene["link"].replace("http://testserver", base))
        _log_in(page, base, "itaku-shinnin")
        secret = page.locator("code.app-auth__secret-code").inner_text().replace(" ", "")
        key = b32decode(secret + "=" * (-len(secret) % 8))
        page.get_by_label(re.compile("確認コード")).fill(f"{TOTP(key).token():06d}")
        page.get_by_role("button", name=re.compile("登録")).click()
        expect(page.get_by_role("heading", name="回復コードを控えてください")).to_be_visible()
        expect(page.locator("ul.app-recovery-codes li")).to_have_count(10)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            _check(page, "enrolment-recovery-codes", shots, violations, width)
        page.get_by_role("link", name="控えたので、管理画面へ進む").click()
        expect(page).to_have_url(f"{base}/admin/")
        context.close()

        # The 管理者's screens that changed: the reset confirmation, the audit trail in sentences.
        context = browser.new_context(locale="ja-JP", bypass_csp=True)
        context.add_cookies([scene["admin_cookie"]])
        page = context.new_page()
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/admin/staff-two-factor/{scene['holder'].pk}/reset/")
            expect(page.get_by_text("確認コードと回復コード")).to_be_visible()
            _check(page, "admin-reset-confirm", shots, violations, width)
            page.goto(f"{base}/admin/ops/audit/")
            expect(page.get_by_text("小ネタの設定を変更しました。（受付の方式：").first).to_be_visible()
            _check(page, "admin-audit-trail", shots, violations, width)
        context.close()
    assert not violations, "\n".join(violations)
    # Wagtail's own account screen asks Chromium for time zones its ICU does not know.
    errors = [error for error in errors if "localizeTimeZoneOptions" not in error]
    assert not errors, errors


@pytest.mark.django_db
def test_the_recovery_step_without_the_password_step_starts_again(client):
    """(Also makes pytest-django set up the test database when this module runs alone: the
    browser test itself only uses the session's live site.)"""
    assert client.get("/login/totp/recovery/")["Location"] == "/login/?expired=1"
