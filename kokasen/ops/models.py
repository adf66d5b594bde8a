"""Alerts of ops_scan and its runs (decision 0030).

One ``Alert`` per incident: a rule and what it is about (an address, a path group, a file …).
While it is unresolved, every new occurrence updates it (last seen, count, severity, evidence)
instead of making another; an incident about one address is one alert whichever address rules
fire (``detection.ADDRESS_RULES``, the others listed in ``related_rules``). Evidence holds counts,
paths (tokens and secret query values masked) and known user IDs, never request bodies or what
someone typed.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .detection import RULES, SEVERITIES, SEVERITY_LABELS


class Alert(models.Model):
    class Severity(models.TextChoices):
        INFO = "info", SEVERITY_LABELS["info"]
        WARNING = "warning", SEVERITY_LABELS["warning"]
        CRITICAL = "critical", SEVERITY_LABELS["critical"]

    rule = models.CharField("検知ルール", max_length=40, choices=list(RULES.items()))
    key = models.CharField("対象", max_length=300)
    severity = models.CharField("重大度", max_length=10, choices=Severity.choices)
    summary = models.CharField("概要", max_length=400)
    first_seen = models.DateTimeField("最初の発生")
    last_seen = models.DateTimeField("最後の発生", db_index=True)
    count = models.BigIntegerField("件数", default=0)
    evidence = models.JSONField("根拠", default=dict, blank=True)
    related_rules = models.JSONField("同じ事案の他のルール", default=list, blank=True)
    opened_at = models.DateTimeField("検知した日時", auto_now_add=True)
    notified_at = models.DateTimeField("通知した日時", null=True, blank=True)
    notified_severity = models.CharField(max_length=10, blank=True)
    acknowledged_at = models.DateTimeField("確認した日時", null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="確認した職員",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_by_label = models.CharField("確認した職員（記録時）", max_length=150, blank=True)
    acknowledgement_note = models.TextField("対応の記録", blank=True)
    resolved_at = models.DateTimeField("解消した日時", null=True, blank=True, db_index=True)
    resolution = models.CharField("解消の理由", max_length=200, blank=True)
    recovery_notified_at = models.DateTimeField("解消を通知した日時", null=True, blank=True)

    class Meta:
        verbose_name = "アラート"
        verbose_name_plural = "アラート"
        ordering = ["-last_seen", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "key"],
                condition=Q(resolved_at__isnull=True),
                name="ops_alert_one_unresolved_per_incident",
            ),
            models.CheckConstraint(condition=Q(severity__in=SEVERITIES), name="ops_alert_severity"),
        ]

    def __str__(self):
        return f"{self.get_severity_display()} {self.get_rule_display()} {self.key}"

    @property
    def status_label(self) -> str:
        if self.resolved_at:
            return "解消"
        return "確認済み" if self.acknowledged_at else "未確認"


class ScanRun(models.Model):
    """One run of ops_scan: what it read and did, the open windows handed to the next run
    (``carry``) and how far it read the audit trail (``audit_last_id``)."""

    started_at = models.DateTimeField("開始")
    finished_at = models.DateTimeField("終了", null=True, blank=True)
    lines = models.BigIntegerField("読んだ行数", default=0)
    bad_lines = models.BigIntegerField("読めなかった行数", default=0)
    audit_events = models.IntegerField("読んだ監査ログ", default=0)
    audit_last_id = models.BigIntegerField(default=0)
    findings = models.IntegerField("検知", default=0)
    opened = models.IntegerField("新しいアラート", default=0)
    resolved = models.IntegerField("解消したアラート", default=0)
    mails = models.IntegerField("送信待ちにしたメール", default=0)
    problems = models.JSONField("問題", default=list, blank=True)
    carry = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "検知の実行"
        verbose_name_plural = "検知の実行"
        ordering = ["-pk"]

    def __str__(self):
        return f"ops_scan {self.started_at:%Y-%m-%d %H:%M}"
