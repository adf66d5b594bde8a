"""Each store loses exactly what its retention period says, and nothing else (injected clock)."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from kokasen.analytics.models import ZeroResultSearchDay
from kokasen.core.models import AuditEvent
from kokasen.feedback.models import Opinion
from kokasen.notifications.models import OutboxMessage
from kokasen.notifications.services import message_queue
from kokasen.privacy.retention import apply_retention
from kokasen.tips.models import ModerationMode, Post, PostState, Topic

pytestmark = pytest.mark.django_db
NOW = timezone.now().replace(microsecond=0)
PERIODS = {
    "outbox_content": 30,
    "opinion_contacts": 100,
    "post_contacts": 200,
    "login_attempts": 300,
    "audit": 1000,
    "sessions": 0,
    "search_queries": 50,
}


def _ago(days, seconds=0):
    return NOW - timedelta(days=days, seconds=seconds)


def _outbox(key, status, sent_days_ago):
    message = message_queue(kind="k", to=[f"{key}@example.jp"], subject=f"件名{key}", body=f"本文{key}")
    OutboxMessage.objects.filter(pk=message.pk).update(status=status, sent_at=_ago(sent_days_ago), created_at=_ago(400))
    return message.pk


def _event(action, days):
    event = AuditEvent.objects.create(action=action, detail={"x": 1}, ip_address="192.0.2.1")
    AuditEvent.objects.filter(pk=event.pk).update(created_at=_ago(days))
    return event.pk


@override_settings(PRIVACY_RETENTION_DAYS=PERIODS)
def test_each_store_loses_exactly_its_period(member_a):
    S = OutboxMessage.Status
    old_sent = _outbox("old", S.SENT, 30 + 1)
    young_sent = _outbox("young", S.SENT, 30 - 1)
    queued = _outbox("queued", S.QUEUED, 100)  # never erased while it is still to be sent
    old_opinion = Opinion.objects.create(
        author=member_a, body="本文", contact_name="氏名", contact_email="a@example.jp"
    )
    young_opinion = Opinion.objects.create(
        author=member_a, body="本文", contact_name="氏名", contact_email="b@example.jp"
    )
    Opinion.objects.filter(pk=old_opinion.pk).update(created_at=_ago(100, 1))
    Opinion.objects.filter(pk=young_opinion.pk).update(created_at=_ago(99))
    topic = Topic.objects.create(title="お題", opens_at=_ago(500))
    posts = {
        days: Post.objects.create(
            topic=topic,
            author=member_a,
            local_government=member_a.local_government,
            body="本文は残る",
            contact_email="c@example.jp",
            person_name="氏名",
            submitted_at=_ago(days),
            mode_at_submission=ModerationMode.PRE,
            initial_state=PostState.PENDING,
        ).pk
        for days in (201, 199)
    }
    events = {
        "old_login": _event("login.succeeded", 301),
        "young_login": _event("login.failed", 299),
        "old_other": _event("tips.post_approved", 1001),
        "young_other": _event("tips.post_approved", 999),
        "login_older_than_audit_keeps_nothing": _event("login.succeeded", 1001),
    }
    Session.objects.create(session_key="a" * 32, session_data="x", expire_date=_ago(0, 1))
    Session.objects.create(session_key="b" * 32, session_data="x", expire_date=NOW + timedelta(hours=1))
    audit_before = AuditEvent.objects.exclude(pk__in=events.values()).count()
    today = timezone.localdate(NOW)
    for days, query in ((51, "山田花子"), (50, "山田太郎"), (0, "今日の検索語")):  # local days
        ZeroResultSearchDay.objects.create(day=today - timedelta(days=days), query=query, count=2)

    done = apply_retention(now=NOW)

    assert done == {
        "outbox_content": 1,
        "opinion_contacts": 1,
        "post_contacts": 1,
        "login_attempts": 2,
        "audit": 1,
        "sessions": 1,
        "search_queries": 1,
    }
    erased = OutboxMessage.objects.get(pk=old_sent)
    assert (erased.subject, erased.body, erased.to, erased.bcc) == ("", "", [], [])
    assert (
        erased.kind == "k"
        and erased.status == S.SENT
        and erased.sent_at == _ago(31)
        and erased.content_erased_at == NOW
    )
    for pk in (young_sent, queued):
        assert OutboxMessage.objects.get(pk=pk).body.startswith("本文")
    old_opinion.refresh_from_db(), young_opinion.refresh_from_db()
    assert (old_opinion.contact_name, old_opinion.contact_email, old_opinion.body) == ("", "", "本文")
    assert young_opinion.contact_email == "b@example.jp"
    assert Post.objects.get(pk=posts[201]).person_name == "" and Post.objects.get(pk=posts[201]).body == "本文は残る"
    assert Post.objects.get(pk=posts[199]).person_name == "氏名"
    left = set(AuditEvent.objects.filter(pk__in=events.values()).values_list("pk", flat=True))
    assert left == {events["young_login"], events["young_other"]}
    assert AuditEvent.objects.exclude(pk__in=events.values()).count() == audit_before
    assert list(Session.objects.values_list("session_key", flat=True)) == ["b" * 32]
    assert sorted(ZeroResultSearchDay.objects.values_list("query", flat=True)) == ["今日の検索語", "山田太郎"]
    # A second run finds nothing more.
    assert set(apply_retention(now=NOW).values()) == {0}


def test_the_command_reports_and_audits_without_personal_data(capsys):
    call_command("apply_retention")
    assert "送信メールの件名・本文・宛先" in capsys.readouterr().out
