"""Staff enrolment of a first TOTP device needs a one-time invitation (issue 10, item 7;
docs/decisions/0020-staff-enrolment-invitations.md).

Before: whoever first logged in with a staff password could enrol their own authenticator
app, so a stolen password of a staff user without a device was a complete login."""

import re
from base64 import b32decode
from datetime import timedelta
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kokasen.accounts import enrolment, roles, services, two_factor
from kokasen.accounts.mail_kinds import STAFF_ENROLMENT_INVITATION
from kokasen.accounts.models import StaffEnrolmentInvitation
from kokasen.core.models import AuditEvent
from kokasen.core.refusals import Refused
from kokasen.notifications import sender
from kokasen.notifications.models import OutboxMessage
from kokasen.testing import CODE_A, CODE_B, login_member, login_staff, make_member, make_staff

from .login_helpers import PASSWORD, clean_cache, events, is_logged_in, login, open_invitation, totp_code  # noqa: F401

pytestmark = pytest.mark.django_db
User = get_user_model()

ADDRESS = "198.51.100.30"
SETUP = "/login/totp/setup/"
NEEDS_INVITATION = "二要素認証の登録には管理者からの招待が必要です"


def new_staff(role=roles.OPERATOR, *, username="itaku-jiro", email="jiro@example.go.jp"):
    """A staff user whose account was just created: a password, no device yet."""
    user = make_staff(role, username=username, password=PASSWORD)
    TOTPDevice.objects.filter(user=user).delete()
    user.email = email
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def agency_admin():
    user = make_staff(roles.AGENCY_ADMIN, username="kanri-taro")
    user.first_name, user.last_name = "太郎", "管理"
    user.save()
    return user


def path_of(link: str) -> str:
    return urlsplit(link).path


def secret_on(html: str) -> bytes:
    secret = re.search(r'<code class="app-auth__secret-code">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")
    return b32decode(secret + "=" * (-len(secret) % 8))


def app_code(key: bytes) -> str:
    """What an authenticator app that scanned the page shows now."""
    return f"{TOTP(key).token():06d}"


def enrolled_then(response) -> str:
    """After a confirmed enrolment the recovery codes are shown once (decision 0053): the page's
    way on, which was the redirect's target before."""
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert html.count("<li><code>") == 10 and "二度と表示されません" in html
    return re.search(r'<a class="app-form__button" href="([^"]+)">控えたので', html).group(1)


def link_in(message: OutboxMessage) -> str:
    return re.search(r"^(http://testserver/login/totp/invitation/[^/\s]+/)$", message.body, re.M).group(1)


# --- the hole, reproduced -------------------------------------------------------------------


def test_a_stolen_staff_password_cannot_enrol_a_device_without_an_invitation(client):
    victim = new_staff(roles.AGENCY_ADMIN, username="kanri-jiro")
    response = login(client, "kanri-jiro", PASSWORD, address=ADDRESS)
    assert response["Location"] == SETUP
    response = client.get(SETUP, REMOTE_ADDR=ADDRESS)
    html = response.content.decode()
    assert response.status_code == 403
    assert NEEDS_INVITATION in html and "管理者に、認証アプリ登録の招待の発行を依頼してください" in html
    assert "app-auth__secret-code" not in html and "data:image/svg" not in html  # no secret shown
    # Posting a code (as the old page took) creates and confirms nothing either.
    assert client.post(SETUP, {"otp_token": "123456"}, REMOTE_ADDR=ADDRESS).status_code == 403
    assert not TOTPDevice.objects.filter(user=victim).exists()
    assert not is_logged_in(client)
    assert client.get("/admin/")["Location"].startswith("/login/")
    refused = events("totp.enrolment_refused", target_id=str(victim.pk))
    assert refused.count() == 2 and {e.detail["reason"] for e in refused} == {enrolment.NO_INVITATION}
    assert refused.first().ip_address == ADDRESS and not events("login.succeeded").exists()


# --- the invitation, end to end -------------------------------------------------------------


def test_an_invited_staff_user_enrols_through_the_mailed_link_and_the_link_is_used_up(client, agency_admin, mailoutbox):
    staff = new_staff()
    issued = services.enrolment_invitation_issue(user=staff, acting_user=agency_admin)
    invitation = issued.invitation
    # Only the hash is stored; the mail goes to the user's own address, link written in full.
    assert invitation.token_hash == enrolment.token_hash(path_of(issued.link).rstrip("/").rpartition("/")[2])
    assert path_of(issued.link).rstrip("/").rpartition("/")[2] not in invitation.token_hash
    message = OutboxMessage.objects.get(kind=STAFF_ENROLMENT_INVITATION)
    assert message.to == ["jiro@example.go.jp"] and message.bcc == []
    assert link_in(message) == issued.link and "[[kokasen:" not in message.body
    assert (
        "管理者の管理 太郎さんが" in message.body
        and "itaku-jiro 様" in message.body
        and "ユーザーID：itaku-jiro" in message.body
    )
    assert "パスワードと組み合わせたときだけ使えます" in message.body
    assert sender.send_outbox().sent == 1
    assert mailoutbox[0].to == ["jiro@example.go.jp"] and issued.link in mailoutbox[0].body
    assert mailoutbox[0].subject == "【こども家庭センターポータル】認証アプリ（二要素認証）登録のご案内"

    response = client.get(path_of(issued.link), REMOTE_ADDR=ADDRESS)
    assert response.status_code == 302 and response["Location"] == "/login/?invited=1"
    assert "認証アプリ登録の招待を確認しました" in client.get(response["Location"]).content.decode()
    assert not is_logged_in(client)
    assert login(client, "itaku-jiro", PASSWORD, address=ADDRESS)["Location"] == SETUP
    html = client.get(SETUP, REMOTE_ADDR=ADDRESS).content.decode()
    assert "認証アプリの登録" in html
    response = client.post(SETUP, {"otp_token": app_code(secret_on(html))}, REMOTE_ADDR=ADDRESS)
    assert enrolled_then(response) == "/admin/"  # the recovery codes first (decision 0053)
    assert is_logged_in(client) and client.get("/admin/").status_code == 200
    invitation.refresh_from_db()
    assert invitation.used_at is not None and invitation.revoked_at is None
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).count() == 1
    assert two_factor.ENROLMENT_INVITATION not in client.session
    issued_event = events("totp.invitation_issued").get()
    assert issued_event.actor == agency_admin and issued_event.target_id == str(staff.pk)
    assert issued_event.detail["to"] == "jiro@example.go.jp" and issued_event.detail["delivery"] == "email"
    assert events("totp.invitation_opened", target_id=str(staff.pk)).get().ip_address == ADDRESS
    used = events("totp.invitation_used").get()
    assert used.detail["invitation"] == invitation.pk and used.ip_address == ADDRESS
    assert events("totp.device_confirmed", target_id=str(staff.pk)).count() == 1
    assert not AuditEvent.objects.filter(detail__icontains=path_of(issued.link).split("/")[-2]).exists()

    # The link is single use: another browser gets a Japanese page, and no second device.
    other = Client()
    response = other.get(path_of(issued.link))
    assert response.status_code == 404 and "すでに認証アプリの登録に使われています" in response.content.decode()
    assert events("totp.enrolment_refused").get().detail["reason"] == enrolment.USED


def test_opening_the_link_after_the_password_step_leads_straight_to_enrolment(client):
    staff = new_staff()
    login(client, "itaku-jiro", PASSWORD, address=ADDRESS)
    assert client.get(SETUP).status_code == 403
    issued = services.enrolment_invitation_issue(user=staff, print_link=True)
    response = client.get(path_of(issued.link))
    assert response.status_code == 302 and response["Location"] == SETUP
    html = client.get(SETUP).content.decode()
    assert enrolled_then(client.post(SETUP, {"otp_token": app_code(secret_on(html))})) == "/admin/"
    assert is_logged_in(client)


def test_the_link_alone_logs_nobody_in_and_enrols_nothing(client):
    staff = new_staff()
    issued = services.enrolment_invitation_issue(user=staff, print_link=True)
    assert client.get(path_of(issued.link)).status_code == 302
    response = client.get(SETUP)
    assert response.status_code == 302 and response["Location"] == "/login/?expired=1"
    assert client.post(SETUP, {"otp_token": "123456"})["Location"] == "/login/?expired=1"
    assert client.get("/admin/")["Location"].startswith("/login/")
    assert not is_logged_in(client) and not TOTPDevice.objects.filter(user=staff).exists()
    # Wrong password with the invitation in the session: still nothing.
    assert login(client, "itaku-jiro", "wrong-password-123", address=ADDRESS).status_code == 200
    assert client.get(SETUP)["Location"] == "/login/?expired=1"
    assert StaffEnrolmentInvitation.objects.get().used_at is None


def test_a_logged_in_but_unverified_session_must_type_the_password_to_enrol(client):
    """E.g. a stolen session cookie of a user whose device was reset, plus the mailed token."""
    staff = new_staff()
    client.force_login(staff)  # authenticated, TOTP not passed, no password typed in this session
    invitation = services.enrolment_invitation_issue(user=staff, print_link=True).invitation
    session = client.session
    session[two_factor.ENROLMENT_INVITATION] = invitation.pk
    session.save()
    response = client.get(SETUP)
    assert response.status_code == 403 and "パスワードを入力した直後にだけ" in response.content.decode()
    assert client.post(SETUP, {"otp_token": "123456"}).status_code == 403
    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert events("totp.enrolment_refused").first().detail["reason"] == enrolment.NO_PASSWORD_STEP


def test_an_invitation_for_another_staff_user_does_not_enrol_this_one(client):
    """An insider with an invitation of their own and a colleague's password."""
    insider = new_staff(username="itaku-saburo", email="saburo@example.go.jp")
    victim = new_staff(roles.AGENCY_ADMIN, username="kanri-jiro", email="kanri-jiro@example.go.jp")
    invitation = open_invitation(client, insider, address=ADDRESS)
    login(client, "kanri-jiro", PASSWORD, address=ADDRESS)
    response = client.get(SETUP)
    assert response.status_code == 403 and "別のユーザーIDあてのもの" in response.content.decode()
    assert client.post(SETUP, {"otp_token": "123456"}).status_code == 403
    assert not TOTPDevice.objects.filter(user=victim).exists() and not is_logged_in(client)
    invitation.refresh_from_db()
    assert invitation.used_at is None
    assert events("totp.enrolment_refused", target_id=str(victim.pk)).first().detail["reason"] == enrolment.OTHER_USER


def test_an_expired_invitation_is_refused_at_the_link_and_at_the_enrolment_page(client, settings):
    staff = new_staff()
    issued = services.enrolment_invitation_issue(user=staff, print_link=True)
    assert issued.invitation.expires_at - issued.invitation.created_at == timedelta(hours=72)
    assert client.get(path_of(issued.link)).status_code == 302
    StaffEnrolmentInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    login(client, "itaku-jiro", PASSWORD)
    response = client.get(SETUP)
    assert response.status_code == 403 and "有効期限が過ぎたか" in response.content.decode()
    response = Client().get(path_of(issued.link))
    assert response.status_code == 404 and "有効期限（発行から72時間）が過ぎています" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=staff).exists()
    settings.STAFF_ENROLMENT_INVITATION_HOURS = 2
    fresh = services.enrolment_invitation_issue(user=staff, print_link=True).invitation
    assert fresh.expires_at - fresh.created_at == timedelta(hours=2)


def test_an_unknown_or_malformed_token_gets_the_same_japanese_page(client):
    for token in ("x" * 43, "abc", "x" * 200):
        response = client.get(f"/login/totp/invitation/{token}/")
        assert response.status_code == 404 and "URLが正しくありません" in response.content.decode()
    assert client.post("/login/totp/invitation/abc/").status_code == 405


def test_a_new_invitation_revokes_the_earlier_one_and_cancels_its_unsent_mail(client, agency_admin):
    staff = new_staff()
    first = services.enrolment_invitation_issue(user=staff, acting_user=agency_admin)
    second = services.enrolment_invitation_issue(user=staff, acting_user=agency_admin)
    assert first.link != second.link
    first.invitation.refresh_from_db()
    assert first.invitation.revoked_at is not None
    assert OutboxMessage.objects.get(pk=first.message.pk).status == OutboxMessage.Status.CANCELLED
    assert OutboxMessage.objects.get(pk=second.message.pk).status == OutboxMessage.Status.QUEUED
    response = client.get(path_of(first.link))
    assert response.status_code == 404 and "新しい招待の発行" in response.content.decode()
    assert events("totp.invitation_issued").order_by("pk").last().detail["revoked_earlier"] == 1
    assert client.get(path_of(second.link)).status_code == 302


def test_an_invitation_revoked_while_the_qr_code_is_shown_cannot_confirm_the_device(client, agency_admin):
    staff = new_staff()
    open_invitation(client, staff)
    login(client, "itaku-jiro", PASSWORD)
    key = secret_on(client.get(SETUP).content.decode())
    services.enrolment_invitation_issue(user=staff, acting_user=agency_admin)  # e.g. sent again by a 管理者
    response = client.post(SETUP, {"otp_token": app_code(key)})
    assert response.status_code == 403 and NEEDS_INVITATION in response.content.decode()
    assert not TOTPDevice.objects.filter(user=staff).exists() and not is_logged_in(client)


def test_one_invitation_confirms_at_most_one_device(client):
    staff = new_staff()
    invitation = services.enrolment_invitation_issue(user=staff, print_link=True).invitation
    first = TOTPDevice.objects.create(user=staff, name="1", confirmed=False)
    second = TOTPDevice.objects.create(user=staff, name="2", confirmed=False)
    assert services.totp_device_enrol(device=first, invitation=invitation)
    assert not services.totp_device_enrol(device=second, invitation=invitation)
    assert list(TOTPDevice.objects.filter(user=staff, confirmed=True)) == [first]
    assert events("totp.invitation_used").count() == 1
    # A device that went away before its code was confirmed leaves the invitation unused.
    other = new_staff(username="itaku-saburo", email="saburo@example.go.jp")
    invitation = services.enrolment_invitation_issue(user=other, print_link=True).invitation
    gone = TOTPDevice.objects.create(user=other, name="3", confirmed=False)
    TOTPDevice.objects.filter(pk=gone.pk).delete()
    assert not services.totp_device_enrol(device=gone, invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.used_at is None and events("totp.invitation_used").count() == 1


def test_a_user_with_a_device_never_gets_a_second_one_even_with_an_invitation(client):
    user = make_staff(roles.AGENCY_ADMIN, username="kanri-taro", password=PASSWORD)
    with pytest.raises(Refused, match="認証アプリを登録済み"):
        services.enrolment_invitation_issue(user=user, print_link=True)
    # Even an invitation row left over from before the device existed does not help.
    token = enrolment.new_token()
    StaffEnrolmentInvitation.objects.create(
        user=user,
        token_hash=enrolment.token_hash(token),
        expires_at=timezone.now() + timedelta(hours=1),
        delivery="printed",
    )
    client.get(f"/login/totp/invitation/{token}/")
    login(client, "kanri-taro", PASSWORD)
    assert client.get(SETUP)["Location"] == "/login/totp/"
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_only_staff_accounts_are_invited(agency_admin):
    member = make_member(CODE_A)
    with pytest.raises(Refused, match="職員のアカウントではない"):
        services.enrolment_invitation_issue(user=member, acting_user=agency_admin)
    no_mail = new_staff(email="")
    with pytest.raises(Refused, match="メールアドレスが登録されていない"):
        services.enrolment_invitation_issue(user=no_mail, acting_user=agency_admin)
    operator = make_staff(roles.OPERATOR)
    with pytest.raises(PermissionDenied):
        services.enrolment_invitation_issue(user=no_mail, acting_user=operator)
    assert not StaffEnrolmentInvitation.objects.exists() and not events("totp.invitation_issued").exists()


# --- the admin screen 「職員の二要素認証」 ----------------------------------------------------


def verified_superuser(username="root-admin"):
    user = User.objects.create_superuser(username, email=f"{username}@example.go.jp", password=PASSWORD)
    TOTPDevice.objects.create(user=user, name="テスト用", confirmed=True)
    return user


def persona_clients():
    """anonymous, 自治体, a staff session without TOTP, 受託者, 管理者, superuser."""
    clients = {"anonymous": Client()}
    clients["member"] = Client()
    login_member(clients["member"], make_member(CODE_A))
    clients["unverified"] = Client()
    clients["unverified"].force_login(make_staff(roles.AGENCY_ADMIN))
    for name, user in (
        ("operator", make_staff(roles.OPERATOR)),
        ("admin", make_staff(roles.AGENCY_ADMIN)),
        ("superuser", verified_superuser()),
    ):
        clients[name] = Client()
        login_staff(clients[name], user)
    return clients


# (status, where a redirect goes) per persona. Visitors and members: Wagtail's login redirect;
# a staff session without TOTP: the TOTP step; 受託者: refused (Wagtail turns PermissionDenied
# into a redirect to the admin home with its 「権限がありません」 message).
EXPECTED = {
    "anonymous": (302, "/login/?next="),
    "member": (302, "/login/?next="),
    "unverified": (302, "/login/totp/?next="),
    "operator": (302, "/admin/"),
    "admin": (200, None),
    "superuser": (200, None),
}


def answer(response):
    location = response.get("Location")
    if location is not None and not location.startswith("/login/"):
        assert location == "/admin/", location  # exactly the admin home, not a screen of ours
    return response.status_code, location


def test_every_enrolment_screen_answers_each_persona_with_the_right_status():
    clients = persona_clients()
    target = new_staff(username="itaku-target", email="target@example.go.jp")
    with_device = make_staff(roles.OPERATOR, username="itaku-device")
    User.objects.filter(pk=with_device.pk).update(email="device@example.go.jp")
    index = reverse("accounts_enrolment:index")
    invite = reverse("accounts_enrolment:action", args=[target.pk, "invite"])
    reset = reverse("accounts_enrolment:action", args=[with_device.pk, "reset"])
    for name, client in clients.items():
        status, prefix = EXPECTED[name]
        for url in (index, invite, reset):
            got_status, location = answer(client.get(url))
            assert got_status == status and (prefix is None or location.startswith(prefix)), (name, url, location)
        if prefix is not None:  # refused: POSTs change nothing
            for url in (invite, reset):
                response = client.post(url)
                if name in ("anonymous", "member"):  # refused before the body is read (decision 0021)
                    assert response.status_code == 403 and "送信を受け付けませんでした" in response.content.decode()
                    continue
                got_status, location = answer(response)
                assert got_status == 302 and location.startswith(prefix), (name, url, location)
    refused = clients["operator"].get(index, follow=True).content.decode()
    assert "itaku-target" not in refused
    assert not StaffEnrolmentInvitation.objects.exists()
    assert TOTPDevice.objects.filter(user=with_device, confirmed=True).exists()
    assert not events(action__startswith="totp.").exists()
    # 管理者 and superusers: each action is a POST after its confirmation page.
    assert clients["admin"].post(index).status_code == 405
    assert clients["admin"].post(invite)["Location"] == index
    assert StaffEnrolmentInvitation.objects.filter(user=target, revoked_at__isnull=True).count() == 1
    assert clients["superuser"].post(reset)["Location"] == index
    assert not TOTPDevice.objects.filter(user=with_device).exists()
    assert StaffEnrolmentInvitation.objects.filter(user=with_device).count() == 1
    assert clients["admin"].get(reverse("accounts_enrolment:action", args=[target.pk, "delete"])).status_code == 404
    member = make_member(CODE_B)  # not a staff account: not on this screen
    assert clients["admin"].get(reverse("accounts_enrolment:action", args=[member.pk, "invite"])).status_code == 404


def test_every_invitation_link_answers_each_persona_with_the_right_status():
    clients = persona_clients()
    staff = new_staff()
    for name, client in clients.items():
        issued = services.enrolment_invitation_issue(user=staff, print_link=True)
        response = client.get(path_of(issued.link))
        assert response.status_code == 302 and response["Location"] == "/login/?invited=1", name
        assert client.get("/login/totp/invitation/not-a-token/").status_code == 404, name
        assert client.post(path_of(issued.link)).status_code == 405, name
    assert not TOTPDevice.objects.filter(user=staff).exists()


def test_the_menu_item_is_shown_to_agency_admins_only():
    clients = persona_clients()
    url = reverse("accounts_enrolment:index")
    assert url in clients["admin"].get("/admin/").content.decode()  # the menu item (sidebar JSON)
    assert url in clients["superuser"].get("/admin/").content.decode()
    assert url not in clients["operator"].get("/admin/").content.decode()


def test_the_screen_lists_staff_with_their_state_and_invites_after_confirmation(agency_admin):
    client = Client()
    login_staff(client, agency_admin)
    staff = new_staff()
    make_member(CODE_A)
    html = client.get(reverse("accounts_enrolment:index")).content.decode()
    assert "itaku-jiro" in html and "jiro@example.go.jp" in html and "未登録" in html
    assert CODE_A not in html  # local governments do not use TOTP
    assert "kanri-taro（ご自身）" in html and "ご自身の認証アプリの招待やリセットはできません" in html
    url = reverse("accounts_enrolment:action", args=[staff.pk, "invite"])
    confirm = client.get(url).content.decode()
    assert "「itaku-jiro」に、認証アプリ登録の招待を送りますか？" in confirm
    assert "jiro@example.go.jp に送ります" in confirm and "72時間有効" in confirm
    assert not StaffEnrolmentInvitation.objects.exists(), "GET only asks"
    response = client.post(url, follow=True)
    assert (
        "「itaku-jiro」に認証アプリ登録の招待を送信待ちにしました（送信先：jiro@example.go.jp"
        in response.content.decode()
    )
    assert OutboxMessage.objects.filter(kind=STAFF_ENROLMENT_INVITATION, to=["jiro@example.go.jp"]).count() == 1
    html = client.get(reverse("accounts_enrolment:index")).content.decode()
    assert "有効（" in html and "招待を送り直す" in html
    assert "招待を発行" in html and "送信先：jiro@example.go.jp" in html  # the latest events


def test_a_lost_phone_is_reset_by_an_agency_admin_and_the_user_enrols_again(agency_admin):
    staff = make_staff(roles.OPERATOR, username="itaku-jiro", password=PASSWORD)
    staff.email, staff.last_name, staff.first_name = "jiro@example.go.jp", "委託", "次郎"
    staff.save()
    staff_browser = Client()
    login_staff(staff_browser, staff)
    assert staff_browser.get("/admin/").status_code == 200
    admin = Client()
    login_staff(admin, agency_admin)
    url = reverse("accounts_enrolment:action", args=[staff.pk, "reset"])
    assert (
        "委託 次郎さん（itaku-jiro）の認証アプリの登録を削除し、新しい招待を送りますか？"
        in admin.get(url).content.decode()
    )
    response = admin.post(url, follow=True)
    assert "の認証アプリをリセットし、新しい招待を送信待ちにしました" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=staff).exists()
    # The session verified with the lost phone is no longer verified.
    assert staff_browser.get("/admin/")["Location"].startswith("/login/totp/")
    reset = events("totp.device_reset").get()
    assert reset.actor == agency_admin and reset.detail["devices"] == ["テスト用"]
    assert staff_browser.get(SETUP).status_code == 403  # no invitation in this session yet
    # The new invitation, from the mail, in the same browser: the unverified session is ended,
    # and the password is typed again before the QR code appears.
    message = OutboxMessage.objects.get(kind=STAFF_ENROLMENT_INVITATION)
    assert message.body.startswith("委託 次郎 様\n")
    assert staff_browser.get(path_of(link_in(message)))["Location"] == "/login/?invited=1"
    assert not is_logged_in(staff_browser)
    assert login(staff_browser, "itaku-jiro", PASSWORD)["Location"] == SETUP
    html = staff_browser.get(SETUP).content.decode()
    assert enrolled_then(staff_browser.post(SETUP, {"otp_token": app_code(secret_on(html))})) == "/admin/"
    assert staff_browser.get("/admin/").status_code == 200


def test_a_reset_without_an_email_address_only_resets(agency_admin):
    staff = make_staff(roles.OPERATOR, username="itaku-jiro")
    admin = Client()
    login_staff(admin, agency_admin)
    response = admin.post(reverse("accounts_enrolment:action", args=[staff.pk, "reset"]), follow=True)
    assert "メールアドレスが登録されていないため、招待は送っていません" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=staff).exists() and not StaffEnrolmentInvitation.objects.exists()


def test_an_agency_admin_cannot_reset_their_own_device_or_a_superusers(agency_admin):
    root = verified_superuser()
    admin = Client()
    login_staff(admin, agency_admin)
    for target in (agency_admin, root):
        url = reverse("accounts_enrolment:action", args=[target.pk, "reset"])
        assert (
            f'action="{url}"' not in admin.get(url).content.decode()
        )  # no reset form (the page's other forms may be there)
        response = admin.post(url, follow=True)
        assert "ご自身の" in response.content.decode() or "スーパーユーザーだけが" in response.content.decode()
        assert TOTPDevice.objects.filter(user=target, confirmed=True).exists()
    assert not events(action__startswith="totp.").exists()
    # A superuser may reset another superuser's device.
    other_root = verified_superuser("root-2")
    superuser = Client()
    login_staff(superuser, root)
    superuser.post(reverse("accounts_enrolment:action", args=[other_root.pk, "reset"]))
    assert not TOTPDevice.objects.filter(user=other_root).exists()
    assert StaffEnrolmentInvitation.objects.get(user=other_root).issued_by == root


# --- the command line (the first 管理者 of a fresh installation) ------------------------------


def run_command(*args) -> str:
    out = StringIO()
    call_command("invite_staff_enrolment", *args, stdout=out)
    return out.getvalue()


def test_the_first_superuser_is_bootstrapped_from_the_command_line(client):
    User.objects.create_superuser("root-admin", password=PASSWORD)  # manage.py createsuperuser
    assert login(client, "root-admin", PASSWORD)["Location"] == SETUP
    assert client.get(SETUP).status_code == 403
    text = run_command("root-admin", "--print")
    link = re.search(r"^(http://testserver/login/totp/invitation/\S+/)$", text, re.M).group(1)
    assert "ご本人に直接渡してください" in text
    assert not OutboxMessage.objects.exists()
    assert client.get(path_of(link))["Location"] == SETUP
    html = client.get(SETUP).content.decode()
    assert enrolled_then(client.post(SETUP, {"otp_token": app_code(secret_on(html))})) == "/admin/"
    assert client.get("/admin/").status_code == 200
    issued = events("totp.invitation_issued").get()
    assert issued.actor is None and issued.detail["issued_by"].startswith("コマンドライン（")
    assert issued.detail["delivery"] == "printed"


def test_the_command_mails_by_default_and_refuses_what_it_cannot_do():
    staff = new_staff()
    text = run_command("itaku-jiro")
    assert "jiro@example.go.jp あてに送信待ちにしました" in text and "http" not in text
    assert OutboxMessage.objects.get(kind=STAFF_ENROLMENT_INVITATION).to == ["jiro@example.go.jp"]
    with pytest.raises(CommandError, match="見つかりません"):
        run_command("nobody")
    make_member(CODE_A)
    with pytest.raises(CommandError, match="職員のアカウントではない"):
        run_command(CODE_A)
    TOTPDevice.objects.create(user=staff, name="認証アプリ", confirmed=True)
    with pytest.raises(CommandError, match="認証アプリを登録済み"):
        run_command("itaku-jiro")
    text = run_command("itaku-jiro", "--reset")
    assert "登録を削除しました" in text and not TOTPDevice.objects.filter(user=staff).exists()
    no_mail = new_staff(username="itaku-saburo", email="")
    with pytest.raises(CommandError, match="--print"):
        run_command("itaku-saburo")
    assert not StaffEnrolmentInvitation.objects.filter(user=no_mail).exists()
