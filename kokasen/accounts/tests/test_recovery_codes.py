"""One-time recovery codes for staff, and the 管理者's reset of another person's second factor
(issue 17 item 8; docs/decisions/0053-japanese-admin-and-recovery-codes.md)."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from kokasen.accounts import recovery_codes, roles, services
from kokasen.accounts.mail_kinds import STAFF_ENROLMENT_INVITATION
from kokasen.notifications.models import OutboxMessage
from kokasen.testing import login_staff, make_staff

from .login_helpers import PASSWORD, clean_cache, events, is_logged_in, login, open_invitation  # noqa: F401
from .test_enrolment import SETUP, app_code, enrolled_then, secret_on

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.30"
RECOVERY = "/login/totp/recovery/"


def codes_on(html: str) -> list[str]:
    return re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", html)


def post_recovery(client, code):
    return client.post(RECOVERY, {"recovery_code": code}, REMOTE_ADDR=ADDRESS)


def unthrottle(user):
    StaticDevice.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)


@pytest.fixture
def staff_with_codes():
    staff = make_staff(roles.OPERATOR, username="itaku-jiro", password=PASSWORD)
    return staff, services.recovery_codes_issue(user=staff, reason="enrolment")


def test_enrolment_shows_ten_codes_once_and_stores_only_their_digests(client):
    staff = make_staff(roles.OPERATOR, username="itaku-jiro", password=PASSWORD)
    TOTPDevice.objects.filter(user=staff).delete()
    open_invitation(client, staff, address=ADDRESS)
    login(client, "itaku-jiro", PASSWORD, address=ADDRESS)
    html = client.get(SETUP).content.decode()
    response = client.post(SETUP, {"otp_token": app_code(secret_on(html))}, REMOTE_ADDR=ADDRESS)
    assert enrolled_then(response) == "/admin/" and is_logged_in(client)
    codes = codes_on(response.content.decode())
    assert len(codes) == 10 == len(set(codes))
    stored = set(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))
    assert len(stored) == 10 and not stored & {c.replace("-", "") for c in codes} and not stored & set(codes)
    assert stored == {recovery_codes.digest(c) for c in codes}
    assert events("totp.recovery_codes_issued").get().detail == {
        "username": "itaku-jiro",
        "reason": "enrolment",
        "count": 10,
        "replaced_unused": 0,
    }
    # Never shown again: the account's screen tells how many are left, not which.
    screen = client.get(reverse("accounts_recovery:index")).content.decode()
    assert "残り10個" in screen and not any(code in screen for code in codes)


def test_a_code_works_once_and_a_used_code_fails(client, staff_with_codes):
    staff, codes = staff_with_codes
    login(client, "itaku-jiro", PASSWORD, address=ADDRESS)
    assert "回復コードでログイン" in client.get("/login/totp/").content.decode()
    typed = codes[3].upper().replace("-", " ")  # as read off paper
    response = post_recovery(client, typed)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert is_logged_in(client)
    assert client.session[DEVICE_ID_SESSION_KEY] == recovery_codes.device_for(staff).persistent_id
    assert client.get("/admin/").status_code == 200
    notice = client.get("/admin/").content.decode()
    assert "使える回復コードは残り9個です。" in notice or recovery_codes.remaining(staff) == 9
    used = events("totp.recovery_code_used").get()
    assert used.detail == {"username": "itaku-jiro", "remaining": 9} and used.ip_address == ADDRESS
    assert events("login.succeeded").get().detail["method"] == "password+recovery_code"
    # The same code again, in a new login: refused, counted, not logged in.
    other = Client()
    login(other, "itaku-jiro", PASSWORD, address=ADDRESS)
    response = post_recovery(other, codes[3])
    assert response.status_code == 200 and "すでに使われています" in response.content.decode()
    assert not is_logged_in(other)
    failed = events("login.totp_failed").get()
    assert failed.detail["reason"] == "wrong_recovery_code" and failed.detail["stage"] == "totp"
    # Another unused code still works (after django-otp's back-off).
    unthrottle(staff)
    assert post_recovery(other, codes[4])["Location"] == "/admin/"
    assert recovery_codes.remaining(staff) == 8


def test_the_last_codes_tell_what_to_do(staff_with_codes):
    assert "残り3個です。残りが少なくなっています" in recovery_codes.remaining_message(3)
    assert "もう残っていません" in recovery_codes.remaining_message(0)


def test_malformed_codes_get_a_japanese_message_and_the_recovery_step_needs_the_password_first(client):
    assert client.get(RECOVERY)["Location"] == "/login/?expired=1"
    make_staff(roles.OPERATOR, username="itaku-jiro", password=PASSWORD)
    login(client, "itaku-jiro", PASSWORD, address=ADDRESS)
    html = post_recovery(client, "abc").content.decode()
    assert "英数字10文字" in html and 'aria-invalid="true"' in html


def test_lockout_still_applies_to_recovery_code_guessing(client, staff_with_codes, settings):
    settings.LOGIN_PAIR_FAILURE_LIMIT = 4
    staff, codes = staff_with_codes
    login(client, "itaku-jiro", PASSWORD, address=ADDRESS)
    statuses = []
    for guess in ("aaaaa-aaaaa", "bbbbb-bbbbb", "ccccc-ccccc", "ddddd-ddddd", codes[0]):
        unthrottle(staff)  # even without django-otp's own back-off, the login defences stop it
        statuses.append(post_recovery(client, guess).status_code)
    assert statuses == [200, 200, 200, 200, 429]
    assert events("login.totp_failed", target_label="itaku-jiro").count() == 4
    assert events("login.locked_out", target_label="itaku-jiro").get().detail["reason"] == "pair"
    assert not is_logged_in(client) and recovery_codes.remaining(staff) == 10, "the fifth was never checked"


def test_django_otp_back_off_applies_between_guesses(client, staff_with_codes):
    staff, codes = staff_with_codes
    login(client, "itaku-jiro", PASSWORD, address=ADDRESS)
    post_recovery(client, "aaaaa-aaaaa")
    response = post_recovery(client, codes[0])  # right, but within the back-off
    assert response.status_code == 200 and "しばらく入力を受け付けません" in response.content.decode()
    assert recovery_codes.remaining(staff) == 10


def test_staff_make_new_codes_from_their_account_screen(client, staff_with_codes):
    staff, old = staff_with_codes
    login_staff(client, staff)
    account = client.get("/admin/account/").content.decode()
    assert reverse("accounts_recovery:index") in account and "回復コード" in account
    url = reverse("accounts_recovery:index")
    assert "残り10個" in client.get(url).content.decode()
    device = recovery_codes.device_for(staff)
    response = client.post(url)
    new = codes_on(response.content.decode())
    assert recovery_codes.device_for(staff).pk == device.pk, "a session verified with it stays verified"
    assert len(new) == 10 and not set(new) & set(old)
    assert recovery_codes.remaining(staff) == 10
    assert recovery_codes.device_for(staff).verify_token(recovery_codes.digest(old[0])) is False
    issued = events("totp.recovery_codes_issued", detail__reason="regenerated").get()
    assert issued.actor == staff and issued.detail["reason"] == "regenerated" and issued.detail["replaced_unused"] == 10


def test_an_agency_admin_resets_another_staff_members_app_and_codes_audited_and_mailed(client, staff_with_codes):
    staff, codes = staff_with_codes
    staff.email = "jiro@example.go.jp"
    staff.save()
    admin = make_staff(roles.AGENCY_ADMIN, username="kanri-taro")
    login_staff(client, admin)
    url = reverse("accounts_enrolment:action", args=[staff.pk, "reset"])
    assert "回復コード" in client.get(url).content.decode()
    client.post(url)
    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert not StaticDevice.objects.filter(user=staff).exists() and not StaticToken.objects.exists()
    reset = events("totp.device_reset").get()
    assert reset.actor == admin and reset.detail["recovery_codes_removed"] == 10
    body = OutboxMessage.objects.get(kind=STAFF_ENROLMENT_INVITATION, to=["jiro@example.go.jp"]).body
    assert "認証アプリと回復コードの登録を削除しました（リセット）" in body
    # The reset person logs in with the password: re-enrolment is forced, the old codes are gone.
    person = Client()
    assert login(person, "itaku-jiro", PASSWORD, address=ADDRESS)["Location"] == SETUP
    assert post_recovery(person, codes[0])["Location"] == SETUP


def test_a_non_admin_cannot_reset_anybody(client, staff_with_codes):
    staff, _codes = staff_with_codes
    operator = make_staff(roles.OPERATOR, username="itaku-saburo")
    login_staff(client, operator)
    url = reverse("accounts_enrolment:action", args=[staff.pk, "reset"])
    for response in (client.get(url), client.post(url)):
        assert response.status_code in (302, 403)
    assert TOTPDevice.objects.filter(user=staff).exists() and recovery_codes.remaining(staff) == 10
    assert not events("totp.device_reset").exists()
