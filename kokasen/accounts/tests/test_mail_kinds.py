"""The accounts app's e-mails: the kinds it registers with the outbox, and the slot fillers the
sender asks for at send time (decision 0023). A secret that cannot be made fails the message
at once with a reason staff can act on; nothing is sent."""

import pytest

from kokasen.accounts import credentials, mail_kinds, notices, services
from kokasen.accounts.models import RegisteredAddress
from kokasen.notifications import emails, sender
from kokasen.notifications.models import OutboxMessage
from kokasen.testing import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    user = make_member()
    RegisteredAddress.objects.create(user=user, address="kosodate@city.sapporo.example.jp")
    return user


def test_accounts_registers_its_kinds_and_the_fillers_of_their_slots():
    assert emails.slot_of(mail_kinds.CREDENTIALS) == emails.slot_of(mail_kinds.PASSWORD_REISSUED) == "password"
    assert emails.slot_of(mail_kinds.PASSWORD_RESET) == "reset-url"
    assert emails.slot_of(mail_kinds.STAFF_ENROLMENT_INVITATION) == ""
    assert emails.slot_filler("password") is mail_kinds.password
    assert emails.slot_filler("reset-url") is mail_kinds.reset_url


def test_a_password_made_with_another_key_is_never_sent_and_staff_are_told_to_reissue(member, settings, smtp_server):
    message = notices.credentials_queue(user=member, secret_nonce=credentials.new_nonce())
    settings.CREDENTIALS_KEY = "another-key-than-the-one-the-nonce-was-made-with"
    report = sender.send_outbox()
    message.refresh_from_db()
    assert (report.failed, message.status, message.secret_nonce, smtp_server.received) == (
        1,
        OutboxMessage.Status.FAILED,
        "",
        [],
    )
    assert "CREDENTIALS_KEY が変更されたため" in message.last_error and "再発行してください" in message.last_error


def test_a_credential_message_without_its_nonce_fails_at_once(member, smtp_server):
    message = notices.credentials_queue(user=member, secret_nonce="")
    assert sender.send_outbox().failed == 1 and not smtp_server.received
    message.refresh_from_db()
    assert message.attempts == 1 and "パスワードの復元値がありません" in message.last_error


def test_no_reset_link_is_made_for_a_disabled_account(member, smtp_server):
    message = services.password_reset_request(user=member)
    member.is_active = False
    member.save()
    assert sender.send_outbox().failed == 1 and not smtp_server.received
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED and "利用停止中" in message.last_error
