"""The 小ネタ board: topics set by the agency, short posts by local governments, and the
board's settings (moderation mode, length, contact fields) that the agency edits in the admin.

docs/decisions/0011-tips-moderation.md explains the states and the modes.
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from kokasen.core import request_cache
from kokasen.core.refusals import Refused


class ModerationMode(models.TextChoices):
    PRE = "pre", "事前承認（承認後に公開）"
    POST = "post", "事後確認（すぐに公開し、あとで確認）"
    CLOSED = "closed", "受付停止"


class FieldUse(models.TextChoices):
    REQUIRED = "required", "必須"
    OPTIONAL = "optional", "任意"
    HIDDEN = "hidden", "表示しない"


CONTACT_FIELDS = {
    # setting attribute -> label shown to users
    "field_local_government": "自治体名",
    "field_email": "メールアドレス",
    "field_department": "部署",
    "field_person_name": "氏名",
}


SETTINGS_CACHE_KEY = "tips:board-settings"


class BoardSettings(models.Model):
    """One row (pk=1), edited in the admin under 小ネタ > 設定; every change is audited
    (services.board_settings_update)."""

    mode = models.CharField("受付の方式", max_length=10, choices=ModerationMode.choices, default=ModerationMode.PRE)
    exempt_groups = models.ManyToManyField(
        Group,
        verbose_name="事前承認を省くグループ",
        blank=True,
        related_name="+",
        help_text="事前承認のとき、これらのグループのアカウントの投稿はすぐに公開され、事後確認の対象になります。",
    )
    max_length = models.PositiveSmallIntegerField(
        "投稿の最大文字数",
        default=400,
        validators=[MinValueValidator(20), MaxValueValidator(2000)],
        help_text="画面に見える文字の数で数えます（絵文字や濁点の付いた文字も1文字）。",
    )
    field_local_government = models.CharField(
        "自治体名の表示", max_length=10, choices=FieldUse.choices, default=FieldUse.REQUIRED
    )
    field_email = models.CharField("メールアドレス", max_length=10, choices=FieldUse.choices, default=FieldUse.OPTIONAL)
    field_department = models.CharField("部署", max_length=10, choices=FieldUse.choices, default=FieldUse.OPTIONAL)
    field_person_name = models.CharField("氏名", max_length=10, choices=FieldUse.choices, default=FieldUse.HIDDEN)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = "小ネタの設定"
        verbose_name_plural = "小ネタの設定"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="tips_settings_singleton")]

    def __str__(self):
        return "小ネタの設定"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)
        cache.delete(SETTINGS_CACHE_KEY)
        request_cache.forget(SETTINGS_CACHE_KEY)

    @classmethod
    def load(cls) -> "BoardSettings":
        """The settings as they are now: for every decision (posting, moderating)."""
        return cls.objects.get_or_create(pk=1)[0]

    @classmethod
    def load_for_display(cls) -> "BoardSettings":
        """For showing a page only (mode notice, form fields): from the cache, dropped on
        every save and after a minute at most. Decisions use load()."""
        board = request_cache.get(SETTINGS_CACHE_KEY)  # prefetched with the request's other keys
        if board is None:
            board = cls.load()
            cache.set(SETTINGS_CACHE_KEY, board, 60)
        return board

    def snapshot(self) -> dict:
        """Every value, as the audit trail records it."""
        values = {f: getattr(self, f) for f in ("mode", "max_length", *CONTACT_FIELDS)}
        values["exempt_groups"] = sorted(self.exempt_groups.values_list("name", flat=True)) if self.pk else []
        return values


class Topic(models.Model):
    class Origin(models.TextChoices):
        ROUNDTABLE = "roundtable", "座談会での質問"
        SURVEY = "survey", "アンケート"
        OTHER = "other", "その他"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "公開前"
        OPEN = "open", "受付中"
        CLOSED = "closed", "受付終了"

    title = models.CharField("お題", max_length=120)
    description = models.TextField("説明", blank=True, max_length=2000)
    origin = models.CharField("お題の出どころ", max_length=12, choices=Origin.choices, default=Origin.OTHER)
    opens_at = models.DateTimeField(
        "受付開始", default=timezone.now, help_text="この日時から一覧に表示され、投稿を受け付けます。"
    )
    closes_at = models.DateTimeField(
        "受付終了", null=True, blank=True, help_text="空欄なら、手動で終了するまで受け付けます。"
    )
    closed_at = models.DateTimeField("手動で終了した日時", null=True, blank=True)
    # Bumped by every service that writes one of the topic's posts (or the topic): the
    # rendered list of visible posts is cached under it (views.topic_detail).
    posts_version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)

    class Meta:
        ordering = ["-opens_at", "-pk"]
        verbose_name = "お題"
        verbose_name_plural = "お題"
        indexes = [models.Index(fields=["opens_at", "closes_at"], name="tips_topic_schedule")]

    def __str__(self):
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("tips:topic", args=[self.pk])

    @property
    def url(self) -> str:
        return self.get_absolute_url()

    def clean(self):
        if self.closes_at and self.opens_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": "受付終了は受付開始より後の日時にしてください。"})

    def status_at(self, now=None) -> str:
        now = now or timezone.now()
        if self.opens_at > now:
            return self.Status.SCHEDULED
        if self.closed_at or (self.closes_at and self.closes_at <= now):
            return self.Status.CLOSED
        return self.Status.OPEN

    @property
    def status(self) -> str:
        return self.status_at()

    def get_status_display(self) -> str:
        return self.Status(self.status).label

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_visible(self) -> bool:
        """Members see a topic once it opened (open or past)."""
        return self.status != self.Status.SCHEDULED


class PostState(models.TextChoices):
    PENDING = "pending", "承認待ち"
    PUBLISHED = "published", "公開中（確認待ち）"
    APPROVED = "approved", "公開中"
    REJECTED = "rejected", "不承認"
    HIDDEN = "hidden", "非表示"
    WITHDRAWN = "withdrawn", "取り下げ"


# Every allowed move, and nothing else (services go through Post.transition).
TRANSITIONS = {
    PostState.PENDING: {PostState.APPROVED, PostState.REJECTED, PostState.HIDDEN, PostState.WITHDRAWN},
    PostState.PUBLISHED: {PostState.APPROVED, PostState.REJECTED, PostState.HIDDEN, PostState.WITHDRAWN},
    PostState.APPROVED: {PostState.HIDDEN},
    PostState.REJECTED: set(),
    PostState.HIDDEN: set(),
    PostState.WITHDRAWN: set(),
}
# Shown to every member on the topic page.
VISIBLE_STATES = (PostState.PUBLISHED, PostState.APPROVED)
# Waiting in the moderation queue.
QUEUE_STATES = (PostState.PENDING, PostState.PUBLISHED)
# The poster may still edit or withdraw.
EDITABLE_STATES = (PostState.PENDING, PostState.PUBLISHED)


class Post(models.Model):
    topic = models.ForeignKey(Topic, verbose_name="お題", on_delete=models.PROTECT, related_name="posts")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="投稿したアカウント", on_delete=models.PROTECT, related_name="tips_posts"
    )
    # From the account at submission, never typed by the user.
    local_government = models.ForeignKey(
        "localgov.LocalGovernment", verbose_name="地方公共団体", on_delete=models.PROTECT, related_name="tips_posts"
    )
    body = models.TextField("本文")
    show_local_government = models.BooleanField("自治体名を表示", default=True)
    contact_email = models.EmailField("連絡先メールアドレス", blank=True)
    department = models.CharField("部署", max_length=100, blank=True)
    person_name = models.CharField("氏名", max_length=60, blank=True)
    state = models.CharField("状態", max_length=10, choices=PostState.choices, default=PostState.PENDING)
    mode_at_submission = models.CharField("投稿時の受付方式", max_length=10, choices=ModerationMode.choices)
    initial_state = models.CharField("投稿時の状態", max_length=10, choices=PostState.choices, editable=False)
    reason = models.TextField("理由（不承認・非表示）", blank=True, max_length=1000)
    submitted_at = models.DateTimeField("投稿日時", default=timezone.now)
    edited_at = models.DateTimeField("編集日時", null=True, blank=True)
    decided_at = models.DateTimeField("判断日時", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="判断した職員",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set when a digest to staff mentioned the post (send_tips_digest).
    digested_at = models.DateTimeField("通知日時", null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = "小ネタの投稿"
        verbose_name_plural = "小ネタの投稿"
        indexes = [
            models.Index(fields=["topic", "state", "-submitted_at"], name="tips_post_topic_state"),
            models.Index(fields=["state", "submitted_at"], name="tips_post_queue"),
            models.Index(fields=["author", "topic"], name="tips_post_author"),
        ]

    def __str__(self):
        return f"{self.topic}：{self.body[:20]}"

    @property
    def is_visible(self) -> bool:
        return self.state in VISIBLE_STATES

    @property
    def in_queue(self) -> bool:
        return self.state in QUEUE_STATES

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    def can_transition(self, wanted: str) -> bool:
        return wanted in TRANSITIONS[PostState(self.state)]

    def transition(self, wanted: str) -> str:
        """Move to ``wanted`` and return the previous state; Refused for a move the state machine
        does not allow (approving a post withdrawn or decided meanwhile, say)."""
        if not self.can_transition(wanted):
            raise Refused(
                f"「{PostState(self.state).label}」の投稿を「{PostState(wanted).label}」にすることはできません。"
            )
        previous, self.state = self.state, wanted
        return previous
