"""Password reset by e-mail (never revealing whether a code exists) and the account page."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from kokasen.accounts import services
from kokasen.accounts.tests.test_provisioning import addresses_of, csv_bytes, read, rows_for, sample_governments
from kokasen.accounts.views_self_service import RESET_PER_ADDRESS, RESET_PER_CODE
from kokasen.core.models import AuditEvent
from kokasen.notifications import message_templates, sender
from kokasen.notifications.models import OutboxMessage
from kokasen.testing import CODE_A, CODE_B, login_member, make_member

pytestmark = pytest.mark.django_db
User = get_user_model()
DONE = "登録されたアドレスに送信しました（登録がある場合）。"


@pytest.fixture(autouse=True)
def clear_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def accounts():
    services.address_list_import(result=read(csv_bytes(rows_for(sample_governments([CODE_A, CODE_B])))))
    OutboxMessage.objects.all().delete()  # the credential messages are not what these tests look at
    return {u.username: u for u in User.objects.filter(local_government__isnull=False)}


def request_reset(client, code, **extra):
    return client.post(reverse("accounts:password_reset"), {"code": code}, follow=True, **extra)


def test_existing_and_unknown_codes_get_the_same_answer_and_only_the_existing_one_a_message(client, accounts):
    answers = []
    for code in (CODE_A, "012025", "999997"):  # existing; valid code without account; invalid code
        response = request_reset(client, code)
        assert response.status_code == 200
        assert response.redirect_chain == [(reverse("accounts:password_reset_done"), 302)]
        answers.append(response.content.decode().replace(response.wsgi_request.META.get("CSRF_COOKIE", ""), ""))
    assert DONE in answers[0]
    assert answers[0] == answers[1] == answers[2]

    (message,) = OutboxMessage.objects.all()
    assert message.kind == message_templates.PASSWORD_RESET
    assert message.to == addresses_of(CODE_A) and message.bcc == []
    assert message_templates.RESET_URL_SLOT in message.body, "the link is made at send time, not stored"
    assert set(AuditEvent.objects.filter(action__contains="reset").values_list("action", flat=True)) == {
        "account.password_reset_requested",
        "account.password_reset_not_sent",
    }


def test_disabled_accounts_and_staff_get_no_message(client, accounts):
    services.account_disable(user=accounts[CODE_B], acting_user=None)
    assert DONE in request_reset(client, CODE_B).content.decode()
    assert OutboxMessage.objects.count() == 0


def test_a_malformed_code_is_explained_in_japanese(client):
    response = client.post(reverse("accounts:password_reset"), {"code": "札幌"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "団体コードは6桁の半角数字で入力してください（例：011002）。" in content
    assert 'aria-invalid="true"' in content and "入力内容を確認してください" in content
    # Full-width digits are accepted.
    assert request_reset(client, "０１１００２").redirect_chain[-1][0] == reverse("accounts:password_reset_done")


def test_reset_link_sets_a_new_password_once(client, accounts, smtp_server):
    request_reset(client, CODE_A)
    sender.send_outbox()
    (received,) = smtp_server.received
    assert set(received.rcpt_tos) == set(addresses_of(CODE_A)) and received.message["Cc"] is None
    body = received.message.get_content()
    link = re.search(r"^(http://testserver/password-reset/[^/\s]+/[^/\s]+/)\r?$", body, re.M).group(1)
    assert "24時間" in body
    assert OutboxMessage.objects.get().body.count(message_templates.RESET_URL_SLOT) == 1, "the stored body has no link"

    form = client.get(link, follow=True)
    assert "新しいパスワードの設定" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    assert "set-password" in set_url
    weak = client.post(set_url, {"new_password1": "011002", "new_password2": "011002"})
    assert "このパスワードは短すぎます" in weak.content.decode() or "短すぎ" in weak.content.decode()
    done = client.post(set_url, {"new_password1": "sapporo-kodomo-2026!", "new_password2": "sapporo-kodomo-2026!"})
    assert done.status_code == 302 and done["Location"] == reverse("accounts:password_reset_complete")
    user = User.objects.get(username=CODE_A)
    assert user.check_password("sapporo-kodomo-2026!")
    assert AuditEvent.objects.filter(action="account.password_reset_completed", target_id=str(user.pk)).exists()
    again = client.get(link, follow=True).content.decode()
    assert "このリンク（URL）は使えません" in again


def test_reset_requests_are_throttled_per_code_and_per_address(client, accounts):
    for _ in range(RESET_PER_CODE.limit + 2):
        assert DONE in request_reset(client, CODE_A).content.decode()
    assert OutboxMessage.objects.count() == RESET_PER_CODE.limit
    assert AuditEvent.objects.filter(action="account.password_reset_not_sent", detail__throttled=True).count() == 2

    other = {"REMOTE_ADDR": "192.0.2.7"}
    for i in range(RESET_PER_ADDRESS.limit - RESET_PER_CODE.limit - 2):
        request_reset(client, CODE_B if i == 0 else "012025", **other)
    # The address above used part of its allowance; this one is fresh.
    cache.delete(RESET_PER_ADDRESS._key("127.0.0.1"))
    for _ in range(RESET_PER_ADDRESS.limit):
        request_reset(client, "012025")
    response = request_reset(client, CODE_B)
    assert response.status_code == 429 and "しばらく時間をおいて" in response.content.decode()
    # The throttled request queued nothing for 131016; the other address's one did.
    assert OutboxMessage.objects.filter(local_government__code=CODE_B).count() == 1


def test_account_page_shows_own_data_and_changes_the_password(client, accounts):
    user = accounts[CODE_A]
    user.set_password("old-password-for-sapporo")
    user.save()
    login_member(client, user)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "北海道札幌市" in page and "011002" in page
    assert all(a in page for a in addresses_of(CODE_A))
    assert not any(a in page for a in addresses_of(CODE_B))
    assert 'autocomplete="current-password"' in page

    wrong = client.post(
        reverse("accounts:profile"),
        {
            "old_password": "nope",
            "new_password1": "new-password-sapporo-1",
            "new_password2": "new-password-sapporo-1",
        },
    )
    assert wrong.status_code == 200 and "入力内容を確認してください" in wrong.content.decode()
    ok = client.post(
        reverse("accounts:profile"),
        {
            "old_password": "old-password-for-sapporo",
            "new_password1": "new-password-sapporo-1",
            "new_password2": "new-password-sapporo-1",
        },
        follow=True,
    )
    assert "パスワードを変更しました" in ok.content.decode()
    user.refresh_from_db()
    assert user.check_password("new-password-sapporo-1")
    assert client.get(reverse("accounts:profile")).status_code == 200, "the session survives its own change"
    assert AuditEvent.objects.filter(action="account.password_changed", actor=user).count() == 1


def test_account_page_needs_a_local_government_login(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    staff = User.objects.create_user("staff-person", password="x" * 16)
    client.force_login(staff)
    assert client.get(reverse("accounts:profile")).status_code == 403
    login_member(client, make_member("012025"))
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_account_page_is_refused_once_the_local_government_role_is_removed(client):
    """Defect fixed with decision 0026: /account/ asked only for a local government on the
    account, so an account whose 自治体 role was taken away still saw its code, name and
    registered addresses and could change its password. Removing a role takes effect on the
    next request, here as everywhere (docs/security.md)."""
    member = make_member("012025")
    login_member(client, member)
    assert client.get(reverse("accounts:profile")).status_code == 200
    member.groups.clear()
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 403 and "012025" not in response.content.decode()
    assert (
        client.post(
            reverse("accounts:profile"),
            {
                "old_password": "x",
                "new_password1": "new-password-sapporo-1",
                "new_password2": "new-password-sapporo-1",
            },
        ).status_code
        == 403
    )


def test_the_mailed_password_is_marked_until_the_local_government_chooses_one(client, accounts, agency_admin):
    """User.password_issued drives the members' prompt (decision 0043): set by the import and
    by a reissue, cleared by a change on the account page."""
    user = accounts[CODE_A]
    assert user.password_issued
    user.set_password("mailed-password-sapporo-1")
    user.save()
    login_member(client, user)
    assert (
        "メールでお届けしたパスワードを、貴団体で決めたものに変更してください"
        in client.get("/members/tips/").content.decode()
    )
    response = client.post(
        reverse("accounts:profile"),
        {
            "old_password": "mailed-password-sapporo-1",
            "new_password1": "chosen-password-sapporo-2",
            "new_password2": "chosen-password-sapporo-2",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.password_issued
    assert "メールでお届けしたパスワード" not in client.get("/members/tips/").content.decode()
    services.account_reissue_password(user=user, acting_user=agency_admin)
    user.refresh_from_db()
    assert user.password_issued
