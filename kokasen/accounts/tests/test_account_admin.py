"""Reissue, disable and enable (services and the admin screens), the admin import screen and
the outbox listing; who may use them."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kokasen.accounts import roles, services
from kokasen.accounts.models import RegisteredAddress
from kokasen.accounts.tests.test_provisioning import addresses_of, csv_bytes, read, rows_for, sample_governments
from kokasen.core.models import AuditEvent
from kokasen.notifications import message_templates, sender
from kokasen.notifications.models import OutboxMessage
from kokasen.testing import CODE_A, CODE_B, login_staff, make_member, make_staff

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def accounts():
    services.address_list_import(result=read(csv_bytes(rows_for(sample_governments()))))
    return {u.username: u for u in User.objects.filter(local_government__isnull=False)}


@pytest.fixture
def admin_client(client):
    login_staff(client, make_staff(roles.AGENCY_ADMIN))
    return client


def password_in(message):
    return re.search(r"(?:初期|新しい)パスワード：(\S+)", sender._body(message)).group(1)


def session_user(client):
    """The user the client's session resolves to (AnonymousUser when refused)."""
    from django.contrib.auth import get_user
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session = client.session
    return get_user(request)


def login(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


# --- reissue -------------------------------------------------------------------------------


def test_reissue_gives_a_new_working_password_notified_and_audited(accounts, smtp_server, client):
    sender.send_outbox()
    first = OutboxMessage.objects.get(local_government__code=CODE_A)
    old = re.search(
        r"初期パスワード：(\S+)",
        next(r.message.get_content() for r in smtp_server.received if set(r.rcpt_tos) == set(addresses_of(CODE_A))),
    ).group(1)
    user = accounts[CODE_A]
    staff = make_staff(roles.OPERATOR)

    message = services.account_reissue_password(user=user, acting_user=staff)
    user.refresh_from_db()
    assert message.kind == message_templates.PASSWORD_REISSUED and message.to == addresses_of(CODE_A)
    assert message.pk != first.pk and message.status == OutboxMessage.Status.QUEUED
    new = password_in(message)
    assert check_password(new, user.password) and not check_password(old, user.password)
    event = AuditEvent.objects.get(action="account.password_reissued")
    assert event.actor == staff and event.target_id == str(user.pk)

    sender.send_outbox()
    (received,) = [r for r in smtp_server.received if "再発行" in r.message["Subject"]]
    assert set(received.rcpt_tos) == set(addresses_of(CODE_A))
    assert f"新しいパスワード：{new}" in received.message.get_content()
    assert login(client, CODE_A, old).status_code == 200  # the form again: refused
    assert not session_user(client).is_authenticated
    assert login(client, CODE_A, new).status_code == 302
    assert session_user(client) == user


def test_reissue_cancels_an_unsent_older_password(accounts):
    user = accounts[CODE_B]
    services.account_reissue_password(user=user, acting_user=None)
    credentials = OutboxMessage.objects.filter(local_government=user.local_government).order_by("pk")
    assert [(m.kind, m.status) for m in credentials] == [
        (message_templates.CREDENTIALS, OutboxMessage.Status.CANCELLED),
        (message_templates.PASSWORD_REISSUED, OutboxMessage.Status.QUEUED),
    ]
    assert credentials[0].secret_nonce == ""
    # Only the newest password can ever be sent, and it is the one that works.
    user.refresh_from_db()
    assert check_password(password_in(credentials[1]), user.password)


# --- disable and enable --------------------------------------------------------------------


def test_disabling_ends_the_open_session_at_once_and_refuses_login(client):
    member = make_member(CODE_A, password="correct horse battery staple")
    assert login(client, CODE_A, "correct horse battery staple").status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 200

    assert services.account_disable(user=member, acting_user=None) is True
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert not session_user(client).is_authenticated
    assert login(client, CODE_A, "correct horse battery staple").status_code == 200
    assert not session_user(client).is_authenticated
    assert services.account_disable(user=member, acting_user=None) is False  # already disabled

    assert services.account_enable(user=member, acting_user=None) is True
    assert login(client, CODE_A, "correct horse battery staple").status_code == 302
    assert session_user(client) == member
    actions = list(AuditEvent.objects.filter(action__startswith="account.").values_list("action", flat=True))
    assert sorted(actions) == ["account.disabled", "account.enabled"]


def test_staff_accounts_are_not_managed_by_these_services():
    staff = make_staff(roles.AGENCY_ADMIN)
    with pytest.raises(ValueError):
        services.account_disable(user=staff, acting_user=None)


# --- admin screens -------------------------------------------------------------------------


def test_the_screens_are_for_agency_admins_and_operators_only(client, accounts):
    urls = [
        reverse("accounts_admin:index"),
        reverse("accounts_admin:import"),
        reverse("accounts_admin:outbox"),
        reverse("accounts_admin:action", args=[accounts[CODE_A].pk, "disable"]),
    ]
    for url in urls:
        assert client.get(url).status_code == 302  # anonymous: to the login page
    member = accounts[CODE_B]
    client.force_login(member)
    for url in urls:
        assert client.get(url).status_code in (302, 403)
    assert client.post(urls[3]).status_code in (302, 403)
    assert User.objects.get(pk=accounts[CODE_A].pk).is_active
    for role in (roles.AGENCY_ADMIN, roles.OPERATOR):
        login_staff(client, make_staff(role))
        for url in urls:
            assert client.get(url).status_code == 200, (role, url)


def test_listing_and_buttons_post_after_confirmation(admin_client, accounts):
    response = admin_client.get(reverse("accounts_admin:index"), {"q": "札幌"})
    content = response.content.decode()
    assert "北海道札幌市" in content and addresses_of(CODE_A)[1] in content and "千代田区" not in content
    assert "パスワード再発行" in content and "利用停止" in content and "未ログイン" in content

    user = accounts[CODE_A]
    url = reverse("accounts_admin:action", args=[user.pk, "disable"])
    confirm = admin_client.get(url)
    assert "北海道札幌市（011002）のアカウントを利用停止にしますか？" in confirm.content.decode()
    user.refresh_from_db()
    assert user.is_active, "GET only asks"
    assert admin_client.post(url).status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert "利用停止中" in admin_client.get(reverse("accounts_admin:index"), {"active": "0"}).content.decode()

    admin_client.post(reverse("accounts_admin:action", args=[user.pk, "enable"]))
    before = user.password
    admin_client.post(reverse("accounts_admin:action", args=[user.pk, "reissue"]))
    user.refresh_from_db()
    assert user.is_active and user.password != before
    assert [
        e.actor.groups.get().name
        for e in AuditEvent.objects.filter(target_id=str(user.pk)).exclude(action="account.created")
    ] == [roles.AGENCY_ADMIN] * 3
    assert admin_client.get(reverse("accounts_admin:action", args=[user.pk, "delete"])).status_code == 404


def test_import_screen_reports_problems_and_imports_nothing(admin_client):
    data = csv_bytes([["011002", "札幌市", "kodomo@example.lg.jp"], ["131016", "千代田区", "bad-address"]])
    response = admin_client.post(
        reverse("accounts_admin:import"), {"file": SimpleUploadedFile("list.csv", data, "text/csv")}
    )
    content = response.content.decode()
    assert response.status_code == 400  # like every refused upload (was 200 here: decision 0027)
    assert "問題が 1 件あります。何も取り込んでいません。" in content
    assert "3行目" in content and "メールアドレス「bad-address」の形式が正しくありません。" in content
    assert "この内容で取り込む" not in content
    assert User.objects.filter(local_government__isnull=False).count() == 0
    assert OutboxMessage.objects.count() == 0


def test_import_screen_checks_shows_and_imports_after_confirmation(admin_client):
    data = csv_bytes(rows_for(sample_governments()), "cp932")
    response = admin_client.post(
        reverse("accounts_admin:import"), {"file": SimpleUploadedFile("list.csv", data, "text/csv")}
    )
    content = response.content.decode()
    assert "4 団体、メールアドレス 8 件。問題はありません。" in content
    assert "新しく作るアカウント：4 団体" in content
    assert User.objects.filter(local_government__isnull=False).count() == 0, "nothing before confirming"
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', content).group(1)

    assert admin_client.post(reverse("accounts_admin:import_confirm"), {"digest": "0" * 16}).status_code == 302
    assert User.objects.filter(local_government__isnull=False).count() == 0, "a wrong digest imports nothing"
    response = admin_client.post(reverse("accounts_admin:import_confirm"), {"digest": digest})
    assert response.status_code == 302
    assert User.objects.filter(local_government__isnull=False).count() == 4
    assert RegisteredAddress.objects.count() == 8 and OutboxMessage.objects.count() == 4
    summary = AuditEvent.objects.get(action="accounts.address_list_imported")
    assert summary.actor is not None and summary.target_label == "list.csv"
    # The confirmation cannot be replayed.
    admin_client.post(reverse("accounts_admin:import_confirm"), {"digest": digest})
    assert AuditEvent.objects.filter(action="accounts.address_list_imported").count() == 1


def test_a_list_refused_at_confirmation_shows_why_and_imports_nothing(admin_client):
    """Between the check and the confirmation an account took a code's user ID: the list is
    refused with the row, answered 400 like every refused upload (was 200: decision 0027)."""
    data = csv_bytes(rows_for(sample_governments()), "cp932")
    checked = admin_client.post(
        reverse("accounts_admin:import"), {"file": SimpleUploadedFile("list.csv", data, "text/csv")}
    ).content.decode()
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', checked).group(1)
    User.objects.create_user("011002", password="x" * 16)
    response = admin_client.post(reverse("accounts_admin:import_confirm"), {"digest": digest})
    content = response.content.decode()
    assert response.status_code == 400 and "list.csv に問題が 1 件あります。何も取り込んでいません。" in content
    assert "ユーザーID「011002」は、札幌市のアカウントではない別のアカウントが使っています。" in content
    assert User.objects.filter(local_government__isnull=False).count() == 0


def test_outbox_listing_shows_status_counts_and_filters(admin_client, accounts, smtp_server):
    for address in addresses_of(CODE_B):
        smtp_server.refuse[address] = "550 5.1.1 No such user"
    sender.send_outbox()
    response = admin_client.get(reverse("accounts_admin:outbox"))
    content = response.content.decode()
    assert "送信済み：3件" in content and "送信失敗：1件" in content and "送信待ち：0件" in content
    assert "550" in content and "No such user" in content
    assert "[[kokasen:" not in content  # bodies are not shown
    failed = admin_client.get(reverse("accounts_admin:outbox"), {"status": "failed"}).content.decode()
    assert "千代田区" in failed and "札幌市" not in failed
    assert "アカウント発行のお知らせ" in failed


def test_outbox_listing_names_every_kind_in_japanese(admin_client):
    from kokasen.notifications import services as outbox

    outbox.message_queue(kind="meeting_invitation", to=["p1@example.lg.jp"], subject="案内", body="本文")
    outbox.broadcast_queue(kind="tips_digest", bcc=["staff@example.go.jp"], subject="まとめ", body="本文")
    content = admin_client.get(reverse("accounts_admin:outbox")).content.decode()
    assert "情報交換会：参加者への案内" in content and "小ネタ：承認待ち投稿のまとめ" in content
    assert "meeting_invitation" not in content.split("<tbody", 1)[-1].split("</tbody>", 1)[0]
