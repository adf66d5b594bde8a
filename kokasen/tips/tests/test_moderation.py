"""The moderation modes as a state machine (services + models), the mode switch in the
middle of a topic, the poster's edits, the admin decisions with their audit trail and
notices, the digest to staff, the schedule of topics, and the counts for analytics."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone

from kokasen.core.models import AuditEvent
from kokasen.core.refusals import Refused
from kokasen.notifications.models import OutboxMessage
from kokasen.tips import selectors, services
from kokasen.tips.models import ModerationMode, Post, PostState, Topic

from .conftest import set_mode

pytestmark = pytest.mark.django_db


def submit(topic, author, body="自己紹介では「お子さんの成長を一緒に見守る係です」と伝えています。", **contact):
    return services.post_submit(topic=topic, author=author, body=body, contact=contact)


def visible_bodies(topic):
    return [p.body for p in selectors.posts_visible(topic=topic)]


# --- each mode ------------------------------------------------------------------------------


def test_pre_moderation_post_waits_until_approved(topic, member_a, agency_admin):
    post = submit(topic, member_a, body="事前承認の投稿")
    assert post.state == PostState.PENDING and post.mode_at_submission == ModerationMode.PRE
    assert visible_bodies(topic) == []
    services.post_approve(post=post, acting_user=agency_admin)
    post.refresh_from_db()
    assert post.state == PostState.APPROVED and post.decided_by == agency_admin and post.decided_at
    assert visible_bodies(topic) == ["事前承認の投稿"]


def test_post_moderation_shows_at_once_and_stays_in_the_queue(topic, member_a, operator):
    set_mode(ModerationMode.POST)
    post = submit(topic, member_a, body="事後確認の投稿")
    assert post.state == PostState.PUBLISHED
    assert visible_bodies(topic) == ["事後確認の投稿"]
    assert post.pk in [p.pk for p in selectors.moderation_queue(state="queue")]
    services.post_hide(post=post, acting_user=operator, reason="個人が特定される記述があるため")
    assert visible_bodies(topic) == []
    post.refresh_from_db()
    assert post.state == PostState.HIDDEN and post.reason == "個人が特定される記述があるため"


def test_closed_mode_accepts_nothing(topic, member_a):
    set_mode(ModerationMode.CLOSED)
    with pytest.raises(Refused, match="受付を停止"):
        submit(topic, member_a)
    assert not Post.objects.exists()


def test_mode_switch_mid_topic_changes_no_existing_post(topic, member_a, member_b, agency_admin):
    approved = submit(topic, member_a, body="A")
    services.post_approve(post=approved, acting_user=agency_admin)
    rejected = submit(topic, member_b, body="B")
    services.post_reject(post=rejected, acting_user=agency_admin, reason="お題と関係がないため")
    waiting = submit(topic, member_a, body="C")

    services.board_settings_update(acting_user=agency_admin, values={"mode": ModerationMode.POST})
    published = submit(topic, member_b, body="D")
    states = dict(Post.objects.values_list("body", "state"))
    assert states == {"A": "approved", "B": "rejected", "C": "pending", "D": "published"}

    services.board_settings_update(acting_user=agency_admin, values={"mode": ModerationMode.CLOSED})
    with pytest.raises(Refused):
        submit(topic, member_a, body="E")
    assert dict(Post.objects.values_list("body", "state")) == states
    assert sorted(visible_bodies(topic)) == ["A", "D"]

    services.board_settings_update(acting_user=agency_admin, values={"mode": ModerationMode.PRE})
    assert submit(topic, member_b, body="F").state == PostState.PENDING
    assert Post.objects.get(pk=published.pk).state == PostState.PUBLISHED
    assert Post.objects.get(pk=waiting.pk).state == PostState.PENDING
    # Every decided post keeps its decision and its mode at submission.
    assert Post.objects.get(pk=approved.pk).mode_at_submission == ModerationMode.PRE
    assert Post.objects.get(pk=published.pk).mode_at_submission == ModerationMode.POST


def test_pre_moderation_except_for_a_group(topic, member_a, member_b, agency_admin):
    trusted = Group.objects.create(name="先行自治体")
    member_a.groups.add(trusted)
    services.board_settings_update(acting_user=agency_admin, values={"exempt_groups": [trusted]})
    assert submit(topic, member_a).state == PostState.PUBLISHED
    assert submit(topic, member_b).state == PostState.PENDING


# --- the state machine ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "allowed"),
    [
        (PostState.PENDING, {"approved", "rejected", "hidden", "withdrawn"}),
        (PostState.PUBLISHED, {"approved", "rejected", "hidden", "withdrawn"}),
        (PostState.APPROVED, {"hidden"}),
        (PostState.REJECTED, set()),
        (PostState.HIDDEN, set()),
        (PostState.WITHDRAWN, set()),
    ],
)
def test_transitions(start, allowed):
    for wanted in PostState.values:
        post = Post(state=start)
        if wanted in allowed:
            assert post.transition(wanted) == start and post.state == wanted
        else:
            with pytest.raises(Refused, match="にすることはできません"):
                post.transition(wanted)
            assert post.state == start


def test_a_decided_post_cannot_be_decided_again(topic, member_a, agency_admin):
    post = submit(topic, member_a)
    services.post_reject(post=post, acting_user=agency_admin, reason="重複")
    with pytest.raises(Refused, match="にすることはできません"):
        services.post_approve(post=post, acting_user=agency_admin)
    assert Post.objects.get(pk=post.pk).state == PostState.REJECTED


def test_rejection_needs_a_reason(topic, member_a, agency_admin):
    post = submit(topic, member_a)
    with pytest.raises(Refused, match="理由"):
        services.post_reject(post=post, acting_user=agency_admin, reason="  ")
    assert Post.objects.get(pk=post.pk).state == PostState.PENDING


def test_members_cannot_moderate(topic, member_a, member_b):
    post = submit(topic, member_a)
    with pytest.raises(PermissionDenied):
        services.post_approve(post=post, acting_user=member_b)
    with pytest.raises(PermissionDenied):
        services.post_approve(post=post, acting_user=member_a)


def test_staff_cannot_post(topic, agency_admin):
    with pytest.raises(PermissionDenied):
        submit(topic, agency_admin)


# --- the poster's side ------------------------------------------------------------------------


def test_poster_edits_and_withdraws_only_while_pending(topic, member_a, member_b, agency_admin):
    post = submit(topic, member_a, body="最初の文")
    services.post_edit(post=post, acting_user=member_a, body="直した文")
    post.refresh_from_db()
    assert post.body == "直した文" and post.edited_at
    with pytest.raises(PermissionDenied):
        services.post_edit(post=post, acting_user=member_b, body="他人が直す")
    services.post_approve(post=post, acting_user=agency_admin)
    with pytest.raises(Refused):
        services.post_edit(post=post, acting_user=member_a, body="承認後に直す")
    with pytest.raises(Refused):
        services.post_withdraw(post=post, acting_user=member_a)
    other = submit(topic, member_a, body="取り下げる投稿")
    services.post_withdraw(post=other, acting_user=member_a)
    assert Post.objects.get(pk=other.pk).state == PostState.WITHDRAWN
    assert Post.objects.get(pk=post.pk).body == "直した文"


def test_topic_opens_and_closes_on_schedule(member_a, freezer=None):
    now = timezone.now()
    topic = Topic.objects.create(
        title="来週のお題", opens_at=now + timedelta(hours=1), closes_at=now + timedelta(hours=2)
    )
    assert topic.status == Topic.Status.SCHEDULED
    assert topic not in selectors.topic_list_open() and topic not in selectors.topic_list_past()
    with pytest.raises(Refused, match="まだ受付を開始"):
        submit(topic, member_a)
    assert topic.status_at(now + timedelta(minutes=90)) == Topic.Status.OPEN
    assert list(selectors.topic_list_open(now=now + timedelta(minutes=90))) == [topic]
    assert topic.status_at(now + timedelta(hours=3)) == Topic.Status.CLOSED
    assert list(selectors.topic_list_past(now=now + timedelta(hours=3))) == [topic]
    Topic.objects.filter(pk=topic.pk).update(opens_at=now - timedelta(hours=2), closes_at=now - timedelta(hours=1))
    topic.refresh_from_db()
    with pytest.raises(Refused, match="受付は終了"):
        submit(topic, member_a)


def test_manual_close(topic, member_a, agency_admin):
    services.topic_close(topic=topic, acting_user=agency_admin)
    assert topic.status == Topic.Status.CLOSED
    with pytest.raises(Refused):
        submit(topic, member_a)


def test_rate_limit_per_account(topic, member_a, member_b, settings):
    limit = services.post_limit().limit
    for i in range(limit):
        submit(topic, member_a, body=f"投稿{i}")
    with pytest.raises(Refused, match="しばらくしてから"):
        submit(topic, member_a, body="多すぎる投稿")
    assert Post.objects.filter(author=member_a).count() == limit
    submit(topic, member_b, body="別の自治体は影響を受けない")


# --- audit and notices ------------------------------------------------------------------------


def test_every_decision_is_audited_with_who_and_what(topic, member_a, agency_admin, operator):
    first, second, third = (submit(topic, member_a, body=b) for b in ("一", "二", "三"))
    services.post_approve(post=first, acting_user=agency_admin, body="一（修正）")
    services.post_reject(post=second, acting_user=operator, reason="お題と関係がないため")
    services.post_hide(post=third, acting_user=agency_admin)
    events = {
        e.target_id: e
        for e in AuditEvent.objects.filter(action__startswith="tips.post_", target_type="tips.post").exclude(
            action="tips.post_submitted"
        )
    }
    assert events[str(first.pk)].actor == agency_admin
    assert events[str(first.pk)].detail == {
        "from": "pending",
        "to": "approved",
        "body_edited": True,
    }
    assert "一" not in str(events[str(first.pk)].detail) + events[str(first.pk)].target_label
    assert events[str(second.pk)].actor == operator
    assert events[str(second.pk)].detail["reason_given"] is True
    assert "お題と関係がない" not in str(events[str(second.pk)].detail)
    assert events[str(third.pk)].action == "tips.post_hidden"


def test_settings_change_is_audited_with_old_and_new(agency_admin, operator, board):
    services.board_settings_update(
        acting_user=agency_admin, values={"mode": ModerationMode.POST, "max_length": 300, "field_email": "required"}
    )
    event = AuditEvent.objects.get(action="tips.settings_changed")
    assert event.actor == agency_admin
    assert event.detail["changes"] == {
        "mode": {"old": "pre", "new": "post"},
        "max_length": {"old": 400, "new": 300},
        "field_email": {"old": "optional", "new": "required"},
    }
    with pytest.raises(PermissionDenied):  # operators run the site; the agency sets the rules
        services.board_settings_update(acting_user=operator, values={"mode": ModerationMode.CLOSED})


def test_notices_to_the_poster(topic, member_a, agency_admin):
    with_address = submit(topic, member_a, body="連絡先あり", contact_email="tanaka@city.sapporo.example.jp")
    without = submit(topic, member_a, body="連絡先なし")
    services.post_approve(post=with_address, acting_user=agency_admin)
    services.post_reject(post=without, acting_user=agency_admin, reason="既に同じ内容の投稿があるため")
    approved = OutboxMessage.objects.get(kind="tips_approved")
    # Notices go to the registered address, never to the contact address typed with the post
    # (issue 10: that made the portal an open relay), and do not quote the member's text.
    assert approved.to == ["kosodate@city.sapporo.example.jp"] and approved.bcc == []
    assert "連絡先あり" not in approved.body and "公開" in approved.subject
    assert topic.title in approved.body
    rejected = OutboxMessage.objects.get(kind="tips_rejected")
    assert rejected.to == ["kosodate@city.sapporo.example.jp"]  # the account's registered address
    assert "既に同じ内容の投稿があるため" in rejected.body
    assert "http://testserver/members/tips/" in rejected.body


def test_bulk_approve_and_reject(topic, member_a, member_b, agency_admin):
    posts = [submit(topic, m, body=f"まとめて{i}") for i, m in enumerate([member_a, member_b, member_a])]
    services.post_withdraw(post=posts[2], acting_user=member_a)
    decided, skipped = services.posts_bulk_decide(
        post_ids=[p.pk for p in posts], decision="approve", acting_user=agency_admin
    )
    assert decided == [posts[0].pk, posts[1].pk] and skipped == [posts[2].pk]
    more = [submit(topic, member_b, body=f"不承認{i}") for i in range(2)]
    with pytest.raises(Refused):
        services.posts_bulk_decide(post_ids=[p.pk for p in more], decision="reject", acting_user=agency_admin)
    services.posts_bulk_decide(
        post_ids=[p.pk for p in more], decision="reject", acting_user=agency_admin, reason="重複"
    )
    assert set(Post.objects.filter(pk__in=[p.pk for p in more]).values_list("state", flat=True)) == {"rejected"}
    assert AuditEvent.objects.filter(action="tips.post_rejected").count() == 2


def test_digest_to_staff_is_idempotent(topic, member_a, member_b, agency_admin, operator):
    submit(topic, member_a, body="一件目")
    submit(topic, member_b, body="二件目")
    call_command("send_tips_digest", verbosity=0)
    digest = OutboxMessage.objects.get(kind="tips_digest")
    assert digest.to == [] and sorted(digest.bcc) == ["admin@cfa.example.go.jp", "ops@contractor.example.jp"]
    assert "2件" in digest.subject and "一件目" not in digest.body  # no post text in e-mail
    call_command("send_tips_digest", verbosity=0)
    assert OutboxMessage.objects.filter(kind="tips_digest").count() == 1
    submit(topic, member_a, body="三件目")
    call_command("send_tips_digest", verbosity=0)
    assert OutboxMessage.objects.filter(kind="tips_digest").count() == 2


# --- counts -----------------------------------------------------------------------------------


def test_counts_for_analytics(topic, member_a, member_b, agency_admin):
    a1, a2, b1 = submit(topic, member_a, body="1"), submit(topic, member_a, body="2"), submit(topic, member_b, body="3")
    Post.objects.filter(pk=a1.pk).update(submitted_at=timezone.now() - timedelta(days=1, hours=2))
    a1.refresh_from_db()
    services.post_approve(post=a1, acting_user=agency_admin)
    services.post_approve(post=b1, acting_user=agency_admin)
    services.post_withdraw(post=a2, acting_user=member_a)

    per_day = selectors.posts_per_topic_per_day(topic=topic)
    assert sum(r["posts"] for r in per_day) == 2 and all(r["topic_id"] == topic.pk for r in per_day)
    per_lg = {r["local_government__code"]: (r["posts"], r["visible"]) for r in selectors.posts_per_local_government()}
    assert per_lg == {"011002": (1, 1), "131016": (1, 1)}
    waits = selectors.time_to_approval(topic=topic)
    assert waits["approved"] == 2
    assert waits["max"] >= timedelta(days=1, hours=2) and waits["median"] > timedelta(hours=13)
