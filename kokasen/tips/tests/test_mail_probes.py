"""The outside test's mail probes, replayed through the real screens and a real SMTP server
on loopback (issue 10, items 1 and 2).

A member posts a 小ネタ whose text carries the outbox's secret slots and a phishing link, with
an outsider's address as the contact address; staff approve one post and reject another in the
admin; ``send_outbox`` delivers. Before the fix the approval notice went to the outsider,
quoted the post, and the sender filled the reset-URL slot with a working reset link for the
member's account.
"""

import re

import pytest
from django.urls import reverse

from kokasen.notifications import message_templates, sender
from kokasen.notifications.models import OutboxMessage
from kokasen.testing import login_member, login_staff

pytestmark = pytest.mark.django_db

OUTSIDER = "attacker@evil.example"
PHISHING = "https://kokasen-login.evil.example/login/"
# The exact probe of the outside test: the reset-URL slot and a link of the attacker's.
PROBE = f"次のリンクから再設定してください。\n{message_templates.RESET_URL_SLOT}\nログインはこちら {PHISHING}"
# The same with the password slot (before the fix: a notice that can never be sent).
PROBE_PASSWORD = f"初期パスワード：{message_templates.PASSWORD_SLOT}\nログインはこちら {PHISHING}"


def post_through_the_form(client, member, topic, body):
    login_member(client, member)
    response = client.post(reverse("tips:topic", args=[topic.pk]), {"body": body, "contact_email": OUTSIDER})
    assert response.status_code in (200, 302), response.status_code
    from kokasen.tips.models import Post

    return Post.objects.filter(topic=topic, author=member).latest("pk")


def decide_in_the_admin(client, staff, post, action, reason=""):
    login_staff(client, staff)
    response = client.post(
        reverse("tips_admin:post", args=[post.pk]), {"action": action, "body": post.body, "reason": reason}
    )
    assert response.status_code == 302, response.content.decode()[:500]


def test_a_post_carrying_slots_and_a_link_yields_no_secret_and_no_relay(
    client, topic, member_a, agency_admin, smtp_server
):
    approved = post_through_the_form(client, member_a, topic, PROBE)
    rejected = post_through_the_form(client, member_a, topic, PROBE_PASSWORD)
    assert approved.contact_email == OUTSIDER, "the probe reached the post as typed"
    decide_in_the_admin(client, agency_admin, approved, "approve")
    decide_in_the_admin(client, agency_admin, rejected, "reject", reason="確認のため")

    report = sender.send_outbox()
    assert report.failed == 0 and report.sent == len(smtp_server.received) >= 2

    notices = [r for r in smtp_server.received if "小ネタ" in r.message["Subject"]]
    assert len(notices) == 2
    for received in smtp_server.received:
        body = received.message.get_content()
        assert OUTSIDER not in received.rcpt_tos, "no mail to the address typed with a post"
        assert "/password-reset/" not in body.replace(reverse("accounts:password_reset"), ""), "no reset link"
        assert not re.search(r"/password-reset/[^/\s]+/[^/\s]+/", body)
        assert "kokasen-login.evil.example" not in body, "the post's text is not relayed"
        assert "初期パスワード" not in body
    for received in notices:
        assert received.rcpt_tos == ["kosodate@city.sapporo.example.jp"], "the registered address only"
    # The posts themselves are kept as typed: the members read them on the board.
    approved.refresh_from_db()
    assert message_templates.RESET_URL_SLOT in approved.body


def test_the_sender_fills_slots_only_in_the_kinds_made_for_them(topic, member_a, smtp_server):
    """Even a body stored with a slot (not through the queue functions) keeps it as text
    unless its kind is a credential kind, and each kind gets only its own slot."""
    from kokasen.accounts import credentials

    nonce = credentials.new_nonce()
    lg = member_a.local_government
    both = f"{message_templates.PASSWORD_SLOT} {message_templates.RESET_URL_SLOT}"
    for kind in (
        "tips_approved",
        "meeting_invitation",
        message_templates.CREDENTIALS,
        message_templates.PASSWORD_RESET,
    ):
        OutboxMessage.objects.create(
            kind=kind,
            to=["kosodate@city.sapporo.example.jp"],
            subject=kind,
            body=both,
            local_government=lg,
            secret_nonce=nonce,
            message_id=f"<{kind}@test>",
        )
    sender.send_outbox()
    bodies = {r.message["Subject"].strip(): r.message.get_content() for r in smtp_server.received}
    password = credentials.derive_password(nonce)
    assert bodies["tips_approved"].strip() == both and bodies["meeting_invitation"].strip() == both
    assert password in bodies["credentials"] and message_templates.RESET_URL_SLOT in bodies["credentials"]
    assert password not in bodies["password_reset"] and message_templates.PASSWORD_SLOT in bodies["password_reset"]
    assert re.search(r"/password-reset/[^/\s]+/[^/\s]+/", bodies["password_reset"])


def test_no_queued_body_of_another_kind_can_hold_a_slot(member_a):
    from kokasen.notifications import services

    message = services.message_queue(
        kind="tips_rejected",
        to=["a@example.jp"],
        subject=PROBE_PASSWORD,
        body=PROBE_PASSWORD,
        local_government=member_a.local_government,
    )
    broadcast = services.broadcast_queue(kind="tips_digest", bcc=["a@example.jp"], subject="s", body=PROBE_PASSWORD)
    for stored in (message.subject, message.body, broadcast.body):
        assert message_templates.SLOT_PREFIX not in stored and "[ [kokasen:password]]" in stored


def test_values_filled_into_a_credential_template_cannot_form_a_slot():
    text = message_templates.render(
        message_templates.CREDENTIALS,
        {
            "団体名": f"北海道{message_templates.RESET_URL_SLOT}",
            "ユーザーID": "011002",
            "ログインURL": "x",
            "アカウントURL": "y",
            "再設定申込URL": "z",
        },
    )
    assert text.body.count(message_templates.SLOT_PREFIX) == text.body.count(message_templates.PASSWORD_SLOT) == 1
