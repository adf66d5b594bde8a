"""Every write on the 小ネタ board: submissions, the poster's edits, moderation decisions,
settings changes and the staff digest. Each runs in one transaction with its audit record.

Who acts is checked here with ``accounts.access.require``: members (自治体) post, and edit or
withdraw their own posts while they wait for review; 管理者 and 受託者 moderate and manage topics;
only 管理者 change the board settings (docs/security.md).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from kokasen.accounts import access
from kokasen.accounts.selectors import staff_addresses
from kokasen.core import text
from kokasen.core.audit import audit_record
from kokasen.core.refusals import Refused
from kokasen.core.throttle import Limit
from kokasen.notifications import emails
from kokasen.notifications.services import broadcast_queue, message_queue

from . import topic_cache
from .models import (
    CONTACT_FIELDS,
    QUEUE_STATES,
    BoardSettings,
    FieldUse,
    ModerationMode,
    Post,
    PostState,
    Topic,
)


def post_limit() -> Limit:
    """Posts per account per hour (settings.TIPS_POSTS_PER_HOUR), in the shared cache."""
    return Limit("tips-post", getattr(settings, "TIPS_POSTS_PER_HOUR", 10), 3600)


REASON_MAX = 1000


def _touch(topic_id: int) -> None:
    """The topic's visible list may have changed: cached renderings become stale (the cached
    topic rows too, since they carry the version: ``topic_cache``)."""
    Topic.objects.filter(pk=topic_id).update(posts_version=F("posts_version") + 1)
    topic_cache.GENERATION.changed()


def on_post_written(sender, instance, **kwargs) -> None:
    """A post saved or deleted by any path (the admin, a script, a cascade): the services above
    bump the version themselves, this catches the rest, so the topic page's cached list of posts
    (views._render_posts) and the poster's own list never outlive the change."""
    _touch(instance.topic_id)


# --- e-mails (kinds in mail_kinds.py, texts in templates/emails/tips_*/) ----------------------


def _poster_addresses(post: Post) -> list[str]:
    """Where notices about a post go: the local government's registered addresses (from the
    agency's address list), never the contact address typed with the post. That address is
    for other members to read; mailing it would let a member make the portal send an
    official message to anyone (docs/decisions/0017-login-and-mail-defences.md)."""
    return [a.address for a in post.author.registered_addresses.all()]


def _notify_poster(post: Post, kind: str) -> None:
    addresses = _poster_addresses(post)
    if not addresses:
        return
    subject, body = emails.render(
        f"tips_{kind}",
        {"post": post, "topic": post.topic, "topic_url": emails.absolute(reverse("tips:topic", args=[post.topic_id]))},
    )
    message_queue(
        kind=f"tips_{kind}",
        to=addresses,
        subject=subject,
        body=body,
        local_government=post.local_government,
        dedupe_key=f"tips-{kind}:{post.pk}",
    )


# --- settings and topics ----------------------------------------------------------------------


@transaction.atomic
def board_settings_update(*, acting_user, values: dict, request=None) -> BoardSettings:
    """Change the board settings; one audit record lists every changed value, old and new.
    Posts already submitted keep their state whatever the new mode is."""
    access.require(acting_user, access.AGENCY_ADMIN)
    board = BoardSettings.objects.select_for_update().filter(pk=1).first() or BoardSettings.load()
    before = board.snapshot()
    groups = values.pop("exempt_groups", None)
    for name, value in values.items():
        setattr(board, name, value)
    board.full_clean()
    board.save()
    if groups is not None:
        board.exempt_groups.set(groups)
    after = board.snapshot()
    changes = {k: {"old": before[k], "new": after[k]} for k in after if before[k] != after[k]}
    if changes:
        audit_record(
            action="tips.settings_changed",
            acting_user=acting_user,
            target=board,
            detail={"changes": changes},
            request=request,
        )
    return board


@transaction.atomic
def topic_save(*, form, acting_user, request=None) -> Topic:
    """Create or change a topic from the admin's validated ModelForm, audited."""
    access.require(acting_user, access.STAFF)
    created = form.instance.pk is None
    topic = form.save()
    _touch(topic.pk)
    audit_record(
        action="tips.topic_created" if created else "tips.topic_changed",
        acting_user=acting_user,
        target=topic,
        detail={"changed": list(form.changed_data)},
        request=request,
    )
    return topic


@transaction.atomic
def topic_close(*, topic: Topic, acting_user, request=None) -> Topic:
    access.require(acting_user, access.STAFF)
    if topic.closed_at is None:
        topic.closed_at = timezone.now()
        topic.save(update_fields=["closed_at"])
        audit_record(action="tips.topic_closed", acting_user=acting_user, target=topic, request=request)
    return topic


# --- the poster's side ------------------------------------------------------------------------


def initial_state(*, board: BoardSettings, author) -> str:
    """What a new post becomes under the current mode (CLOSED accepts nothing)."""
    if board.mode == ModerationMode.POST:
        return PostState.PUBLISHED
    if board.mode == ModerationMode.PRE:
        exempt = set(board.exempt_groups.values_list("pk", flat=True))
        if exempt and author.groups.filter(pk__in=exempt).exists():
            return PostState.PUBLISHED
        return PostState.PENDING
    raise Refused("現在、小ネタの投稿の受付を停止しています。")


def _clean_fields(*, board: BoardSettings, body: str, contact: dict) -> tuple[str, dict]:
    body = text.clean(body or "")
    if not body:
        raise Refused("本文を入力してください。")
    if text.too_long(body, board.max_length):
        raise Refused(f"本文は{board.max_length}文字以内で入力してください（現在{text.grapheme_count(body)}文字）。")
    cleaned = {
        "show_local_government": board.field_local_government == FieldUse.REQUIRED
        or (board.field_local_government == FieldUse.OPTIONAL and bool(contact.get("show_local_government"))),
        "contact_email": (contact.get("contact_email") or "").strip(),
        "department": text.clean(contact.get("department") or ""),
        "person_name": text.clean(contact.get("person_name") or ""),
    }
    for setting, field in (
        ("field_email", "contact_email"),
        ("field_department", "department"),
        ("field_person_name", "person_name"),
    ):
        use = getattr(board, setting)
        if use == FieldUse.HIDDEN:
            cleaned[field] = ""
        elif use == FieldUse.REQUIRED and not cleaned[field]:
            raise Refused(f"{CONTACT_FIELDS[setting]}を入力してください。")
    return body, cleaned


@transaction.atomic
def post_submit(*, topic: Topic, author, body: str, contact: dict | None = None, request=None) -> Post:
    """A member's new post on an open topic; its state follows the mode at this moment."""
    access.require(author, access.MEMBER)
    topic = Topic.objects.get(pk=topic.pk)
    if not topic.is_open:
        raise Refused(
            "このお題の受付は終了しています。" if topic.is_visible else "このお題はまだ受付を開始していません。"
        )
    board = BoardSettings.load()
    state = initial_state(board=board, author=author)
    if post_limit().exceeded(str(author.pk)):
        raise Refused(
            "短い時間に続けて投稿されたため、受け付けを一時的に止めています。しばらくしてからもう一度お試しください。"
        )
    body, fields = _clean_fields(board=board, body=body, contact=contact or {})
    post = Post.objects.create(
        topic=topic,
        author=author,
        local_government_id=author.local_government_id,
        body=body,
        state=state,
        initial_state=state,
        mode_at_submission=board.mode,
        **fields,
    )
    post_limit().record(str(author.pk))
    _touch(topic.pk)
    audit_record(
        action="tips.post_submitted",
        acting_user=author,
        target=post,
        target_label=audit_label(post),
        detail={"state": state, "mode": board.mode},
        request=request,
    )
    return post


def _own_editable(post: Post, acting_user) -> Post:
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.author_id != getattr(acting_user, "pk", None):
        raise PermissionDenied
    if not post.is_editable:
        raise Refused("確認が済んだ投稿は変更できません。")
    return post


@transaction.atomic
def post_edit(*, post: Post, acting_user, body: str, contact: dict | None = None, request=None) -> Post:
    """The poster changes a post that still waits for review."""
    post = _own_editable(post, acting_user)
    board = BoardSettings.load()
    body, fields = _clean_fields(board=board, body=body, contact=contact or {})
    before = post.body
    post.body = body
    for name, value in fields.items():
        setattr(post, name, value)
    post.edited_at = timezone.now()
    post.save()
    _touch(post.topic_id)
    audit_record(
        action="tips.post_edited",
        acting_user=acting_user,
        target=post,
        target_label=audit_label(post),
        # What happened, never a copy of the text (decision 0033).
        detail={"body_edited": before != body},
        request=request,
    )
    return post


@transaction.atomic
def post_withdraw(*, post: Post, acting_user, request=None) -> Post:
    post = _own_editable(post, acting_user)
    previous = post.transition(PostState.WITHDRAWN)
    post.save(update_fields=["state"])
    _touch(post.topic_id)
    audit_record(
        action="tips.post_withdrawn",
        acting_user=acting_user,
        target=post,
        target_label=audit_label(post),
        detail={"from": previous, "to": post.state},
        request=request,
    )
    return post


def audit_label(post: Post) -> str:
    """How the audit trail names a post: by number, never by its text (decision 0033)."""
    return f"小ネタ #{post.pk}"


# --- moderation -------------------------------------------------------------------------------


def _decide(*, post: Post, acting_user, wanted: str, reason: str = "", body: str | None = None, request=None) -> Post:
    access.require(acting_user, access.STAFF)
    post = Post.objects.select_for_update().select_related("topic", "author").get(pk=post.pk)
    previous = post.transition(wanted)  # Refused: a move the state machine does not allow
    detail = {"from": previous, "to": wanted}
    if reason:
        post.reason = reason
        detail["reason_given"] = True
    if body is not None:
        new_body = text.clean(body)
        board = BoardSettings.load()
        if not new_body or text.too_long(new_body, board.max_length):
            raise Refused(f"本文は1文字以上{board.max_length}文字以内にしてください。")
        if new_body != post.body:
            detail["body_edited"] = True
            post.body = new_body
    post.decided_at = timezone.now()
    post.decided_by = acting_user
    post.save()
    _touch(post.topic_id)
    audit_record(
        action=f"tips.post_{wanted}",
        acting_user=acting_user,
        target=post,
        target_label=audit_label(post),
        detail=detail,
        request=request,
    )
    return post


def _reason(reason: str, *, required: bool) -> str:
    reason = text.clean(reason or "")
    if required and not reason:
        raise Refused("不承認の理由を入力してください。投稿者に伝わります。")
    if len(reason) > REASON_MAX:
        raise Refused(f"理由は{REASON_MAX}文字以内で入力してください。")
    return reason


@transaction.atomic
def post_approve(*, post: Post, acting_user, body: str | None = None, request=None) -> Post:
    """Approve (pre-moderation) or confirm (post-moderation), optionally after editing the text."""
    was_pending = Post.objects.filter(pk=post.pk, state=PostState.PENDING).exists()
    post = _decide(post=post, acting_user=acting_user, wanted=PostState.APPROVED, body=body, request=request)
    if was_pending:  # a post already shown (事後確認) needs no "now published" notice
        _notify_poster(post, "approved")
    return post


@transaction.atomic
def post_reject(*, post: Post, acting_user, reason: str, request=None) -> Post:
    reason = _reason(reason, required=True)
    post = _decide(post=post, acting_user=acting_user, wanted=PostState.REJECTED, reason=reason, request=request)
    _notify_poster(post, "rejected")
    return post


@transaction.atomic
def post_hide(*, post: Post, acting_user, reason: str = "", request=None) -> Post:
    reason = _reason(reason, required=False)
    post = _decide(post=post, acting_user=acting_user, wanted=PostState.HIDDEN, reason=reason, request=request)
    _notify_poster(post, "hidden")
    return post


def posts_bulk_decide(*, post_ids: list[int], decision: str, acting_user, reason: str = "", request=None):
    """Approve or reject several posts; each is its own transaction and audit record.
    Returns (decided, skipped) lists of ids: posts no longer waiting are skipped, also when one
    was withdrawn or decided by someone else while the earlier ones were being decided."""
    access.require(acting_user, access.STAFF)
    if decision == "reject":
        reason = _reason(reason, required=True)
    decided, skipped = [], []
    for post in Post.objects.filter(pk__in=post_ids).order_by("pk"):
        if post.state not in QUEUE_STATES:
            skipped.append(post.pk)
            continue
        if decision not in ("approve", "reject"):
            raise ValueError(decision)
        try:
            if decision == "approve":
                post_approve(post=post, acting_user=acting_user, request=request)
            else:
                post_reject(post=post, acting_user=acting_user, reason=reason, request=request)
        except Refused:  # its state changed since the list was read: the move is not allowed any more
            skipped.append(post.pk)
            continue
        decided.append(post.pk)
    return decided, skipped


# --- the digest to staff ----------------------------------------------------------------------


@transaction.atomic
def digest_queue(*, now=None):
    """One Bcc message to every active 管理者 and 受託者 listing posts that entered the queue
    since the last digest; the posts are marked in the same transaction. Running it again
    queues nothing new (and the dedupe key makes a retry after a crash a no-op)."""
    now = now or timezone.now()
    posts = list(
        Post.objects.select_for_update()
        .filter(state__in=QUEUE_STATES, digested_at__isnull=True)
        .select_related("topic", "local_government")
        .order_by("pk")
    )
    if not posts:
        return None
    recipients = staff_addresses()
    if not recipients:  # nobody to tell yet: the posts wait for the next run
        return None
    ids = ",".join(str(p.pk) for p in posts)
    subject, body = emails.render(
        "tips_digest",
        {"posts": posts, "count": len(posts), "queue_url": emails.absolute(reverse("tips_admin:queue"))},
    )
    message = broadcast_queue(
        kind="tips_digest",
        bcc=recipients,
        subject=subject,
        body=body,
        dedupe_key="tips-digest:" + hashlib.sha256(ids.encode()).hexdigest()[:32],
    )
    Post.objects.filter(pk__in=[p.pk for p in posts]).update(digested_at=now)
    return message
