"""Reads for the 小ネタ board, scoped by who asks. No writes."""

from __future__ import annotations

import statistics
from datetime import timedelta

from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from . import topic_cache
from .models import QUEUE_STATES, VISIBLE_STATES, Post, PostState, Topic


def _open_q(now) -> Q:
    return Q(opens_at__lte=now, closed_at__isnull=True) & (Q(closes_at__isnull=True) | Q(closes_at__gt=now))


def topic_list_open(*, now=None):
    """Topics taking posts right now, newest first (the members home shows these)."""
    now = now or timezone.now()
    return Topic.objects.filter(_open_q(now)).order_by("closes_at", "-opens_at", "-pk")


def topic_list_past(*, now=None):
    """Topics that opened and have closed (their posts stay readable)."""
    now = now or timezone.now()
    return Topic.objects.filter(opens_at__lte=now).exclude(_open_q(now)).order_by("-opens_at", "-pk")


def topic_for_reader(*, pk: int, now=None, cached: bool = False) -> Topic:
    """A topic members may open (it has opened); scheduled topics do not exist for them.
    ``cached``: from ``topic_cache`` (a shared object, for reading only: GET)."""
    now = now or timezone.now()
    if cached:
        topic = topic_cache.topic(pk)
        if topic is not None and topic.opens_at > now:
            topic = None
    else:
        topic = Topic.objects.filter(pk=pk, opens_at__lte=now).first()
    if topic is None:
        raise Http404("お題が見つかりません。")
    return topic


def posts_visible(*, topic: Topic):
    """What every member sees on the topic page, newest first."""
    return (
        Post.objects.filter(topic=topic, state__in=VISIBLE_STATES)
        .select_related("local_government")
        .only(
            "pk",
            "body",
            "state",
            "submitted_at",
            "show_local_government",
            "contact_email",
            "department",
            "person_name",
            "author_id",
            "local_government__prefecture",
            "local_government__name",
            "local_government__kind",
        )
        .order_by("-submitted_at", "-pk")
    )


OWN_POSTS_SHOWN = 20


def posts_own(*, topic: Topic, user):
    """The poster's own posts on the topic that others do not see as final yet: waiting
    (pending, or published and still under review), rejected or hidden, with the reason;
    the newest OWN_POSTS_SHOWN. Approved posts are in the public list like everyone's."""
    if not getattr(user, "is_authenticated", False):
        return Post.objects.none()
    return (
        Post.objects.filter(topic=topic, author=user)
        .exclude(state__in=[PostState.WITHDRAWN, PostState.APPROVED])
        .order_by("-submitted_at", "-pk")[:OWN_POSTS_SHOWN]
    )


def post_own_editable(*, pk: int, user) -> Post:
    post = Post.objects.select_related("topic").filter(pk=pk, author=user).first()
    if post is None:
        raise Http404("投稿が見つかりません。")
    return post


def moderation_queue(*, state: str = "", topic_id: str = "", query: str = ""):
    """Posts for the admin queue: those waiting for a decision first, oldest first within."""
    posts = Post.objects.select_related("topic", "local_government", "decided_by").annotate(
        waiting=Case(When(state__in=QUEUE_STATES, then=Value(0)), default=Value(1), output_field=IntegerField())
    )
    if state == "queue":
        posts = posts.filter(state__in=QUEUE_STATES)
    elif state in PostState.values:
        posts = posts.filter(state=state)
    if topic_id.isdigit():
        posts = posts.filter(topic_id=int(topic_id))
    if query:
        posts = posts.filter(
            Q(body__icontains=query) | Q(local_government__name__contains=query) | Q(local_government__code=query)
        )
    return posts.order_by("waiting", "submitted_at", "pk")


def queue_count() -> int:
    return Post.objects.filter(state__in=QUEUE_STATES).count()


# --- counts for the analytics work ------------------------------------------------------------


def posts_per_topic_per_day(*, topic: Topic | None = None, since=None) -> list[dict]:
    """[{"topic_id", "day" (date in Asia/Tokyo), "posts"}] for every post submitted (any state
    but withdrawn), oldest day first."""
    posts = Post.objects.exclude(state=PostState.WITHDRAWN)
    if topic is not None:
        posts = posts.filter(topic=topic)
    if since is not None:
        posts = posts.filter(submitted_at__gte=since)
    rows = (
        posts.annotate(day=TruncDate("submitted_at", tzinfo=timezone.get_current_timezone()))
        .values("topic_id", "day")
        .annotate(posts=Count("pk"))
        .order_by("day", "topic_id")
    )
    return list(rows)


def posts_per_local_government(*, topic: Topic | None = None) -> list[dict]:
    """[{"local_government__code", "local_government__name", "posts", "visible"}], most first."""
    posts = Post.objects.exclude(state=PostState.WITHDRAWN)
    if topic is not None:
        posts = posts.filter(topic=topic)
    rows = (
        posts.values("local_government__code", "local_government__prefecture", "local_government__name")
        .annotate(posts=Count("pk"), visible=Count("pk", filter=Q(state__in=VISIBLE_STATES)))
        .order_by("-posts", "local_government__code")
    )
    return list(rows)


def time_to_approval(*, topic: Topic | None = None) -> dict:
    """For posts that waited for approval (事前承認) and were approved: how many, and the
    median, mean and longest wait as timedeltas (None without any)."""
    posts = Post.objects.filter(state=PostState.APPROVED, initial_state=PostState.PENDING, decided_at__isnull=False)
    if topic is not None:
        posts = posts.filter(topic=topic)
    waits = [
        (decided - submitted).total_seconds() for submitted, decided in posts.values_list("submitted_at", "decided_at")
    ]
    if not waits:
        return {"approved": 0, "median": None, "mean": None, "max": None}
    return {
        "approved": len(waits),
        "median": timedelta(seconds=statistics.median(waits)),
        "mean": timedelta(seconds=statistics.fmean(waits)),
        "max": timedelta(seconds=max(waits)),
    }


def topics_in_period(*, since, until) -> list[dict]:
    """Per topic with a post submitted in ``since`` <= submitted_at < ``until`` (aware datetimes):
    ``{"topic_id", "title", "posts" (every post submitted, whatever became of it, as the
    participation counts), "visible", "local_governments" (distinct), "approved_after_wait",
    "median_wait" (timedelta or None: 事前承認 posts approved, from submission to approval)}``,
    most posts first. Three queries whatever the number of topics and posts."""
    posts = Post.objects.filter(submitted_at__gte=since, submitted_at__lt=until)
    rows = list(
        posts.values("topic_id", "topic__title")
        .annotate(
            posts=Count("pk"),
            visible=Count("pk", filter=Q(state__in=VISIBLE_STATES)),
            local_governments=Count("local_government_id", distinct=True),
        )
        .order_by("-posts", "topic_id")
    )
    waits: dict[int, list[float]] = {}
    approved = posts.filter(state=PostState.APPROVED, initial_state=PostState.PENDING, decided_at__isnull=False)
    for topic_id, submitted, decided in approved.values_list("topic_id", "submitted_at", "decided_at"):
        waits.setdefault(topic_id, []).append((decided - submitted).total_seconds())
    out = []
    for row in rows:
        topic_waits = waits.get(row["topic_id"], [])
        out.append(
            {
                "topic_id": row["topic_id"],
                "title": row["topic__title"],
                "posts": row["posts"],
                "visible": row["visible"],
                "local_governments": row["local_governments"],
                "approved_after_wait": len(topic_waits),
                "median_wait": timedelta(seconds=statistics.median(topic_waits)) if topic_waits else None,
            }
        )
    return out
