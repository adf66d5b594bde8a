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
        settings.AUTH_USER_MODEL, verbose_name="操作者", null=True, blank=True, on_delete=models.SET_NULL,
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
