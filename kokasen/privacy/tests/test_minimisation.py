"""The audit trail keeps no copy of user text (decision 0033), and the migration rewrites the
events written before."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from kokasen.core.models import AuditEvent
from kokasen.tips import services as tips
from kokasen.tips.models import Post, Topic

pytestmark = pytest.mark.django_db
TEXT = "個人が特定できる本文テキスト"


def test_post_texts_and_reasons_stay_out_of_the_audit_trail(member_a, operator):
    topic = Topic.objects.create(title="お題", opens_at=timezone.now() - timedelta(days=1))
    post = tips.post_submit(topic=topic, author=member_a, body=TEXT)
    tips.post_edit(post=post, acting_user=member_a, body=TEXT + "（追記）")
    tips.post_reject(post=Post.objects.get(pk=post.pk), acting_user=operator, reason=f"理由{TEXT}")
    events = AuditEvent.objects.filter(target_type="tips.post", target_id=str(post.pk))
    assert events.count() == 3
    for event in events:
        assert TEXT not in str(event.detail) and TEXT not in event.target_label, event.action
        assert event.target_label == f"小ネタ #{post.pk}"
    assert events.get(action="tips.post_edited").detail == {"body_edited": True}
    assert events.get(action="tips.post_rejected").detail["reason_given"] is True


def test_the_migration_rewrites_earlier_events():
    old = [
        AuditEvent.objects.create(
            action="tips.post_approved",
            target_type="tips.post",
            target_id="7",
            target_label=f"お題：{TEXT}",
            detail={"from": "pending", "to": "approved", "body_before": TEXT, "body_after": TEXT + "!"},
        ),
        AuditEvent.objects.create(
            action="tips.post_rejected", target_type="tips.post", target_id="8", detail={"reason": TEXT}
        ),
        AuditEvent.objects.create(
            action="feedback.opinion_updated", detail={"internal_notes": {"old": "", "new": TEXT}}
        ),
    ]
    other = AuditEvent.objects.create(action="account.created", detail={"note": "keep"})
    migration = importlib.import_module("kokasen.privacy.migrations.0001_minimise_audit_details")
    migration.minimise(apps, None)
    for event in old:
        event.refresh_from_db()
        assert TEXT not in str(event.detail) + event.target_label
    assert old[0].detail == {"from": "pending", "to": "approved", "body_edited": True}
    assert old[0].target_label == "小ネタ #7"
    assert old[1].detail == {"reason_given": True}
    assert old[2].detail == {"internal_notes": "changed"}
    other.refresh_from_db()
    assert other.detail == {"note": "keep"}
