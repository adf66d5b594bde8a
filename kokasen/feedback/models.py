"""The 意見箱: opinions about the site from local-government accounts, read only by the agency
(管理者) and the operator (受託者). docs/decisions/0012-feedback-box.md."""

from django.conf import settings
from django.db import models


class Opinion(models.Model):
    class Category(models.TextChoices):
        CONTENT = "content", "掲載内容について"
        USABILITY = "usability", "使いやすさ・機能について"
        TIPS = "tips", "小ネタについて"
        TROUBLE = "trouble", "不具合の報告"
        OTHER = "other", "その他"

    class Status(models.TextChoices):
        NEW = "new", "未対応"
        IN_PROGRESS = "in_progress", "対応中"
        DONE = "done", "対応済"
        WONT = "wont", "対応しない"

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="送信したアカウント",
        null=True,
        on_delete=models.SET_NULL,
        related_name="opinions",
    )
    local_government = models.ForeignKey(
        "localgov.LocalGovernment",
        verbose_name="地方公共団体",
        null=True,
        on_delete=models.PROTECT,
        related_name="opinions",
    )
    category = models.CharField("分類", max_length=12, choices=Category.choices, blank=True)
    body = models.TextField("ご意見")
    contact_name = models.CharField("連絡先（部署・氏名）", max_length=100, blank=True)
    contact_email = models.EmailField("連絡先メールアドレス", blank=True)
    status = models.CharField("対応状況", max_length=12, choices=Status.choices, default=Status.NEW)
    internal_notes = models.TextField("内部メモ", blank=True, max_length=4000)
    created_at = models.DateTimeField("受付日時", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="最終更新者",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "ご意見"
        verbose_name_plural = "意見箱"
        indexes = [models.Index(fields=["status", "-created_at"], name="feedback_status")]

    def __str__(self):
        return f"ご意見 #{self.pk}（{self.get_status_display()}）"
