"""Staff log in with a password AND a TOTP code (統一基準: two-factor for administrators)."""

import re
from base64 import b32decode

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from kokasen.accounts import roles, two_factor
from kokasen.testing import CODE_A, login_staff, make_member, make_staff

from .login_helpers import (  # noqa: F401
    PASSWORD,
    clean_cache,
    events,
    is_logged_in,
    login,
    open_invitation,
    totp_code,
    wrong_code,
)

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.20"


@pytest.fixture
def admin_user():
    return make_staff(roles.AGENCY_ADMIN, username="kanri-taro", password=PASSWORD)


def device_of(user) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=True)


def post_code(client, code, *, url="/login/totp/"):
    return client.post(url, {"otp_token": code}, REMOTE_ADDR=ADDRESS)


def test_a_staff_password_alone_does_not_log_in(client, admin_user):
    response = login(client, "kanri-taro", PASSWORD, address=ADDRESS)
    assert response.status_code == 302 and response["Location"] == "/login/totp/"
    assert not is_logged_in(client)
    assert client.get("/admin/").status_code == 302  # still anonymous: sent to the login page
    assert client.session[two_factor.PENDING_USER] == admin_user.pk
    event = events("login.password_accepted").get()
    assert event.target_id == str(admin_user.pk) and event.ip_address == ADDRESS
    assert not events("login.succeeded").exists()
    page = client.get("/login/totp/").content.decode()
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page


def test_a_correct_totp_code_logs_in_and_opens_the_admin(client, admin_user):
    login(client, "kanri-taro", PASSWORD, address=ADDRESS)
    response = post_code(client, totp_code(device_of(admin_user)))
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(admin_user.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device_of(admin_user).persistent_id
    assert two_factor.PENDING_USER not in client.session
    assert client.get("/admin/").status_code == 200
    event = events("login.succeeded").get()
    assert event.actor == admin_user and event.detail["method"] == "password+totp" and event.ip_address == ADDRESS


def test_the_next_url_survives_the_totp_step(client, admin_user):
    login(client, "kanri-taro", PASSWORD, address=ADDRESS, next="/admin/pages/")
    assert post_code(client, totp_code(device_of(admin_user)))["Location"] == "/admin/pages/"


def test_a_full_width_code_is_accepted(client, admin_user):
    login(client, "kanri-taro", PASSWORD, address=ADDRESS)
    code = totp_code(device_of(admin_user)).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert post_code(client, code).status_code == 302


def test_a_wrong_code_is_refused_audited_and_then_throttled(client, admin_user):
    device = device_of(admin_user)
    login(client, "kanri-taro", PASSWORD, address=ADDRESS)
    response = post_code(client, wrong_code(device))
    assert response.status_code == 200 and "確認コードが正しくありません。" in response.content.decode()
    assert not is_logged_in(client)
    event = events("login.totp_failed").get()
    assert event.target_label == "kanri-taro" and event.ip_address == ADDRESS and event.detail["stage"] == "totp"
    # django-otp's back-off: right after a failure even the right code must wait.
    response = post_code(client, totp_code(device))
    assert response.status_code == 200 and "しばらく入力を受け付けません" in response.content.decode()
    assert not is_logged_in(client)
    assert events("login.totp_failed").count() == 2
    # Once the back-off has passed, the right code works.
    device.refresh_from_db()
    device.throttling_failure_timestamp = device.throttling_failure_timestamp.replace(year=2000)
    device.save()
    assert post_code(client, totp_code(device)).status_code == 302
    assert is_logged_in(client)


def test_malformed_codes_get_a_japanese_message(client, admin_user):
    login(client, "kanri-taro", PASSWORD, address=ADDRESS)
    html = post_code(client, "12ab").content.decode()
    assert "確認コードは半角数字6桁で入力してください。" in html and 'aria-invalid="true"' in html


def test_wrong_codes_count_like_wrong_passwords_and_stop_this_place(client, admin_user, settings):
    settings.LOGIN_PAIR_FAILURE_LIMIT = 4
    device = device_of(admin_user)
    login(client, "kanri-taro", PASSWORD, address=ADDRESS)
    statuses = [post_code(client, wrong_code(device)).status_code for _ in range(5)]
    # Four wrong codes are checked (and answered with the form); the fifth is not checked.
    assert statuses == [200, 200, 200, 200, 429]
    assert events("login.totp_failed", target_label="kanri-taro").count() == 4
    assert events("login.locked_out", target_label="kanri-taro").get().detail["reason"] == "pair"
    # The half-login is gone, and from this place the password is now refused too.
    assert two_factor.PENDING_USER not in client.session
    assert post_code(client, totp_code(device)).status_code == 302  # back to the login page
    assert not is_logged_in(client)
    response = login(client, "kanri-taro", PASSWORD, address=ADDRESS)
    assert response.status_code == 429 and "ログインを一時的に停止しています" in response.content.decode()
    assert not is_logged_in(client)


def test_the_pending_half_login_expires(client, admin_user):
    login(client, "kanri-taro", PASSWORD, address=ADDRESS)
    session = client.session
    session[two_factor.PENDING_SINCE] -= 3600
    session.save()
    response = post_code(client, totp_code(device_of(admin_user)))
    assert response.status_code == 302 and response["Location"] == "/login/?expired=1"
    assert not is_logged_in(client)
    assert "確認コードの入力時間が過ぎたか" in client.get(response["Location"]).content.decode()


def test_the_totp_step_without_a_password_step_goes_back_to_login(client, admin_user):
    assert client.get("/login/totp/")["Location"].startswith("/login/")
    assert post_code(client, totp_code(device_of(admin_user)))["Location"].startswith("/login/")
    assert not is_logged_in(client)


def test_a_staff_user_without_a_device_enrols_one_with_a_qr_code(client):
    operator = make_staff(roles.OPERATOR, username="itaku-hanako", password=PASSWORD)
    TOTPDevice.objects.filter(user=operator).delete()
    invitation = open_invitation(client, operator, address=ADDRESS)  # enrolment needs one (decision 0020)
    response = login(client, "itaku-hanako", PASSWORD, address=ADDRESS)
    assert response["Location"] == "/login/totp/setup/"
    html = client.get("/login/totp/setup/").content.decode()
    assert re.search(r'<img class="app-auth__qr-image" src="data:image/svg\+xml[^"]+"', html)
    secret = re.search(r'<code class="app-auth__secret-code">([A-Z2-7 ]+)</code>', html).group(1)
    device = TOTPDevice.objects.get(user=operator)
    assert not device.confirmed
    assert b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8)) == device.bin_key
    # Reloading the page keeps the same secret (the app may already have it).
    assert secret in client.get("/login/totp/setup/").content.decode()
    assert post_code(client, wrong_code(device), url="/login/totp/setup/").status_code == 200
    device.throttle_reset()
    response = post_code(client, totp_code(device), url="/login/totp/setup/")
    assert response.status_code == 200 and "回復コードを控えてください" in response.content.decode()  # decision 0053
    device.refresh_from_db()
    assert device.confirmed and is_logged_in(client)
    assert events("totp.device_confirmed", target_id=str(operator.pk)).count() == 1
    invitation.refresh_from_db()
    assert invitation.used_at is not None
    assert client.get("/admin/").status_code == 200


def test_a_user_with_a_device_cannot_enrol_another_with_the_password_alone(client, admin_user):
    login(client, "kanri-taro", PASSWORD, address=ADDRESS)
    assert client.get("/login/totp/setup/")["Location"] == "/login/totp/"
    assert TOTPDevice.objects.filter(user=admin_user).count() == 1


def test_an_unverified_staff_session_cannot_reach_the_admin(client, admin_user):
    client.force_login(admin_user)  # authenticated, but without the TOTP step
    for path in ("/admin/", "/django-admin/", "/admin/pages/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/totp/?next=")
    assert client.get(response["Location"]).status_code == 200  # the code page remembers next
    response = post_code(client, totp_code(device_of(admin_user)))
    assert response.status_code == 302 and response["Location"] == "/admin/pages/"
    assert client.get("/admin/").status_code == 200


def test_the_test_persona_helper_still_gives_a_verified_session(client, admin_user):
    login_staff(client, admin_user)
    assert client.get("/admin/").status_code == 200


def test_wagtails_admin_login_sends_staff_to_our_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/admin/")
    response = client.get("/admin/login/?next=/admin/")
    assert response["Location"] == "/login/?next=%2Fadmin%2F"


def test_a_local_government_logs_in_without_totp(client):
    make_member(CODE_A, password=PASSWORD)
    response = login(client, CODE_A, PASSWORD)
    assert response["Location"] == "/members/" and is_logged_in(client)


def test_a_superuser_also_needs_totp(client, django_user_model):
    root = django_user_model.objects.create_superuser("root-admin", password=PASSWORD)
    assert login(client, "root-admin", PASSWORD)["Location"] == "/login/totp/setup/"
    assert not is_logged_in(client)
    assert two_factor.requires_two_factor(root)
