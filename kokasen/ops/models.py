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


class EmergencyContact(models.Model):
    """One person of the emergency contact chain (decision 0034). An unacknowledged critical
    alert is mailed to the contacts one after another, in ``position`` order, every
    ``OPS_ESCALATION_MINUTES``. Phone and e-mail are personal data: shown on the screen to
    管理者 and 受託者, never written to logs or the audit trail."""

    position = models.PositiveSmallIntegerField("順番", help_text="1 が最初に連絡する人です。")
    role = models.CharField("役割", max_length=100, help_text="例：受託者 運用責任者、こども家庭庁 担当者")
    name = models.CharField("氏名", max_length=100)
    phone = models.CharField("電話番号", max_length=40, blank=True)
    email = models.EmailField("メールアドレス", blank=True, help_text="エスカレーションのメールの宛先です。")
    hours = models.CharField("連絡できる時間", max_length=100, blank=True, help_text="例：平日 9:00〜18:00、24時間")
    active = models.BooleanField("連絡先として使う", default=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = "緊急連絡先"
        verbose_name_plural = "緊急連絡先"
        ordering = ["position", "pk"]

    def __str__(self):
        return f"{self.position}. {self.role}"


class Escalation(models.Model):
    """One step of an alert's escalation: the contact it was mailed to (as recorded then)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="escalations")
    step = models.PositiveSmallIntegerField("段階")
    contact = models.ForeignKey(EmergencyContact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contact_label = models.CharField("連絡先（記録時）", max_length=220)
    at = models.DateTimeField("日時")

    class Meta:
        verbose_name = "エスカレーション"
        verbose_name_plural = "エスカレーション"
        ordering = ["alert", "step"]
        constraints = [models.UniqueConstraint(fields=["alert", "step"], name="ops_escalation_one_per_step")]


class Incident(models.Model):
    """An incident (事故) and its handling, from detection to closing (decision 0034), from which
    the written 事故報告書 is made (incident_report.py)."""

    class Kind(models.TextChoices):
        TAMPERING = "tampering", "改ざん"
        LEAK = "leak", "情報漏えい"
        DOS = "dos", "サービス妨害（DoS）"
        OUTAGE = "outage", "障害・停止"
        INTRUSION = "intrusion", "不正アクセス"
        ACCOUNT = "account", "アカウント・認証"
        OTHER = "other", "その他"

    title = models.CharField("件名", max_length=200)
    kind = models.CharField("種類", max_length=20, choices=Kind.choices)
    detected_at = models.DateTimeField("検知した日時")
    summary = models.TextField("概要・影響", blank=True, help_text="何が起き、誰（どの団体・何件）に影響したか。")
    oral_reported_at = models.DateTimeField("こども家庭庁への第一報（口頭）", null=True, blank=True)
    oral_reported_to = models.CharField("第一報の相手", max_length=200, blank=True)
    written_reported_at = models.DateTimeField("書面での報告", null=True, blank=True)
    cause = models.TextField("原因", blank=True)
    measures = models.TextField("対策（応急・再発防止）", blank=True)
    closed_at = models.DateTimeField("終結した日時", null=True, blank=True)
    alerts = models.ManyToManyField(Alert, verbose_name="関連するアラート", blank=True, related_name="incidents")
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = "事故"
        verbose_name_plural = "事故"
        ordering = ["-detected_at", "-pk"]

    def __str__(self):
        return f"事故 #{self.pk} {self.title}"

    @property
    def status_label(self) -> str:
        if self.closed_at:
            return "終結"
        if self.written_reported_at:
            return "報告済み・対応中"
        if self.oral_reported_at:
            return "第一報済み・対応中"
        return "対応中（未報告）"


class IncidentEntry(models.Model):
    """One line of an incident's timeline (経過): when, what happened or was done, by whom."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="entries")
    at = models.DateTimeField("日時")
    text = models.TextField("内容")
    author_label = models.CharField("記録した職員", max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "経過"
        verbose_name_plural = "経過"
        ordering = ["at", "pk"]
