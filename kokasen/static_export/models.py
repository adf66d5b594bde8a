"""The static export's builds started from the admin (decision 0054): one row per build, the
lock that keeps one build at a time, its progress and the ZIP it left."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from kokasen.pages.models import PortalSettings


class ExportBuild(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "順番待ち"
        RUNNING = "running", "作成中"
        DONE = "done", "完了"
        FAILED = "failed", "失敗"

    structure = models.CharField("メニュー構成", max_length=10, choices=PortalSettings.Structure.choices)
    design = models.CharField("デザイン", max_length=10, choices=PortalSettings.Design.choices)
    status = models.CharField("状態", max_length=10, choices=Status.choices, default=Status.QUEUED)
    # The lock: True while the build is queued or running, NULL afterwards. NULLs never clash in
    # a unique column, so the database itself refuses a second build in progress.
    active = models.BooleanField(null=True, unique=True, default=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="作成した人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("依頼日時", default=timezone.now)
    started_at = models.DateTimeField("開始日時", null=True, blank=True)
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)
    heartbeat_at = models.DateTimeField("最後の進捗", default=timezone.now)
    phase = models.CharField("段階", max_length=60, blank=True)
    done_count = models.PositiveIntegerField("描画済みのページ", default=0)
    total_count = models.PositiveIntegerField("ページ数", default=0)
    zip_file = models.CharField("ZIPファイル", max_length=200, blank=True)
    size = models.BigIntegerField("サイズ（バイト）", default=0)
    files = models.PositiveIntegerField("ファイル数", default=0)
    error = models.TextField("失敗の理由", blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "静的サイトの書き出し"
        verbose_name_plural = "静的サイトの書き出し"

    def __str__(self):
        return f"{self.variant_label}（{self.get_status_display()}）"

    @property
    def variant_label(self) -> str:
        return variant_label(self.structure, self.design)

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    def is_stale(self, now=None) -> bool:
        """Queued or running, and no progress for STATIC_EXPORT_STALE_MINUTES: its worker died."""
        limit = timedelta(minutes=settings.STATIC_EXPORT_STALE_MINUTES)
        return self.in_progress and (now or timezone.now()) - self.heartbeat_at > limit

    @property
    def percent(self) -> int:
        return int(100 * self.done_count / self.total_count) if self.total_count else 0


def short_label(value: str, choices) -> str:
    """「パターンA」 of 「パターンA：11メニューを並べる」."""
    return str(dict(choices)[value]).split("：")[0]


def variant_label(structure: str, design: str) -> str:
    return (
        f"{short_label(structure, PortalSettings.Structure.choices)} × "
        f"{short_label(design, PortalSettings.Design.choices)}"
    )
