"""The audit trail (REQUIREMENTS S6, 統一基準): who did what to what, when, from where.

Append-only: nothing in the application updates or deletes an AuditEvent; the admin shows
them read-only. Write them with ``kokasen.core.audit.audit_record`` inside the transaction
of the change they describe, so that a change and its record land together or not at all.
"""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    created_at = models.DateTimeField("日時", auto_now_add=True, db_index=True)
    # Kept as text too: the record must outlive the account that acted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作者",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField("操作者（記録時）", max_length=150, blank=True)
    action = models.CharField("操作", max_length=60, db_index=True)
    target_type = models.CharField("対象の種類", max_length=60, blank=True)
    target_id = models.CharField("対象のID", max_length=64, blank=True, db_index=True)
    target_label = models.CharField("対象", max_length=200, blank=True)
    ip_address = models.GenericIPAddressField("IPアドレス", null=True, blank=True)
    detail = models.JSONField("詳細", default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "監査ログ"
        verbose_name_plural = "監査ログ"
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_label}"


class AccessLogPosition(models.Model):
    """How far one consumer has read one file of an access log (kokasen/core/access_log.py).

    A file is known by the hash of its first line (``fingerprint``), which survives logrotate's
    renaming, copying and compressing; ``offset`` is the number of bytes of its content consumed,
    always at the end of a whole line. Written by the consumer in the transaction that stores what
    it made of those lines, so that no line is counted twice or lost."""

    consumer = models.CharField("読み手", max_length=40)
    stream = models.CharField("ログ", max_length=500)
    fingerprint = models.CharField("先頭行のハッシュ", max_length=64)
    path = models.CharField("最後に見たファイル", max_length=500, blank=True)
    inode = models.BigIntegerField(default=0)
    device = models.BigIntegerField(default=0)
    size = models.BigIntegerField(default=0)
    mtime_ns = models.BigIntegerField(default=0)
    offset = models.BigIntegerField("読んだバイト数", default=0)
    lines = models.BigIntegerField("読んだ行数", default=0)
    bad_lines = models.BigIntegerField("読めなかった行数", default=0)
    last_seen = models.DateTimeField("最後に見た日時", null=True, blank=True)

    class Meta:
        verbose_name = "アクセスログの読み取り位置"
        verbose_name_plural = "アクセスログの読み取り位置"
        constraints = [
            models.UniqueConstraint(fields=["consumer", "stream", "fingerprint"], name="access_log_position_unique"),
        ]

    def __str__(self):
        return f"{self.consumer} {self.path or self.stream} {self.offset}"
