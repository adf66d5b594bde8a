"""The outbox delivers through a real SMTP conversation (aiosmtpd on loopback, STARTTLS)."""

import datetime
import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from kokasen.localgov.models import LocalGovernment
from kokasen.notifications import sender, services
from kokasen.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db

ADDRESSES = {
    "011002": ["kodomo@city.sapporo.example.jp", "center@city.sapporo.example.jp"],
    "012025": ["kosodate@city.hakodate.example.jp"],
    "010006": ["jidou@pref.hokkaido.example.jp"],
}


def queue_all():
    for code, addresses in ADDRESSES.items():
        services.message_queue(
            kind="credentials",
            to=addresses,
            subject="【こども家庭センターポータル】アカウントのお知らせ",
            body=f"団体コード {code} のアカウントを発行しました。\nhttps://kokasen.example.go.jp/login/\n",
            local_government=LocalGovernment.objects.get(code=code),
            dedupe_key=f"credentials:{code}",
        )


def test_each_local_government_gets_one_message_with_only_its_own_addresses(smtp_server):
    queue_all()
    report = sender.send_outbox()
    assert (report.sent, report.retried, report.failed) == (3, 0, 0)
    assert len(smtp_server.received) == 3
    for received in smtp_server.received:
        assert received.tls, "STARTTLS was used"
        owners = [code for code, addresses in ADDRESSES.items() if set(received.rcpt_tos) == set(addresses)]
        assert len(owners) == 1
        headers = " ".join(f"{k}: {v}" for k, v in received.message.items())
        for code, addresses in ADDRESSES.items():
            if code != owners[0]:
                assert not any(a in headers or a in received.message.get_content() for a in addresses)
        assert received.message["Cc"] is None and received.message["Bcc"] is None
        # Django folds the encoded subject onto a continuation line; the parser keeps its space.
        assert received.message["Subject"].strip() == "【こども家庭センターポータル】アカウントのお知らせ"
        assert "https://kokasen.example.go.jp/login/" in received.message.get_content()
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
    ids = {r.message["Message-ID"].strip() for r in smtp_server.received}
    assert ids == set(OutboxMessage.objects.values_list("message_id", flat=True))


def test_a_second_run_sends_nothing_again(smtp_server):
    queue_all()
    sender.send_outbox()
    queue_all()  # the same notices again: deduplicated
    assert sender.send_outbox().sent == 0
    assert len(smtp_server.received) == 3


def test_broadcasts_put_every_recipient_in_bcc(smtp_server):
    everyone = [a for addresses in ADDRESSES.values() for a in addresses]
    services.broadcast_queue(kind="notice", bcc=everyone, subject="メンテナンスのお知らせ", body="本文")
    sender.send_outbox()
    (received,) = smtp_server.received
    assert sorted(received.rcpt_tos) == sorted(everyone)
    headers = " ".join(f"{k}: {v}" for k, v in received.message.items())
    assert not any(address in headers for address in everyone)


def test_a_temporary_refusal_is_retried_later_with_back_off(smtp_server):
    queue_all()
    smtp_server.refuse["kosodate@city.hakodate.example.jp"] = "451 4.3.0 Try again later"
    report = sender.send_outbox()
    assert (report.sent, report.retried) == (2, 1)
    waiting = OutboxMessage.objects.get(local_government__code="012025")
    assert waiting.status == "queued" and waiting.attempts == 1 and "451" in waiting.last_error
    assert waiting.next_attempt_at > timezone.now() + datetime.timedelta(seconds=50)
    del smtp_server.refuse["kosodate@city.hakodate.example.jp"]
    assert sender.send_outbox().sent == 0  # not due yet
    later = timezone.now() + datetime.timedelta(minutes=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert sender.send_outbox().sent == 1
    assert len(smtp_server.received) == 3


def test_a_permanent_refusal_fails_visibly_without_retrying(smtp_server):
    queue_all()
    smtp_server.refuse["jidou@pref.hokkaido.example.jp"] = "550 5.1.1 No such user"
    report = sender.send_outbox()
    assert (report.sent, report.failed) == (2, 1)
    failed = OutboxMessage.objects.get(local_government__code="010006")
    assert failed.status == "failed" and "550" in failed.last_error


def test_a_message_left_sending_by_a_killed_sender_is_sent_on_the_next_run(smtp_server):
    queue_all()
    stuck = OutboxMessage.objects.get(local_government__code="011002")
    OutboxMessage.objects.filter(pk=stuck.pk).update(status="sending", claimed_at=timezone.now())
    sender.send_outbox()
    assert OutboxMessage.objects.get(pk=stuck.pk).status == "sent"
    assert len(smtp_server.received) == 3


def test_an_unreachable_server_keeps_everything_queued(settings, smtp_server):
    queue_all()
    settings.EMAIL_PORT = 1  # nothing listens there
    report = sender.send_outbox()
    assert report.retried == 3 and not smtp_server.received
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"queued"}


def test_the_command_reports_in_japanese(smtp_server):
    queue_all()
    out, err = io.StringIO(), io.StringIO()
    call_command("send_outbox", stdout=out, stderr=err)
    assert "送信 3 件、再送予定 0 件、送信失敗 0 件" in out.getvalue()
    assert "送信中 3/3（100%）" in err.getvalue()


def test_a_message_must_have_a_recipient():
    with pytest.raises(ValueError):
        services.message_queue(kind="x", to=[], subject="s", body="b")
