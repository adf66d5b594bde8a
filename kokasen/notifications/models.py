"""The persistent outbox: every e-mail the system sends is a row here first.

One row is one message to ONE recipient (a local government's own addresses in ``to``), or
one broadcast whose recipients are all in ``bcc`` (REQUIREMENTS S1: no recipient ever sees
another's address). ``send_outbox`` delivers the rows; see sender.py for the guarantees.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from . import emails, message_templates


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "送信待ち"
        SENDING = "sending", "送信中"
        SENT = "sent", "送信済み"
        FAILED = "failed", "送信失敗"
        # Superseded before it was sent (e.g. a password reissued while the earlier
        # credential message was still queued): never sent, so no stale password goes out.
        CANCELLED = "cancelled", "取消"

    kind = models.CharField("種類", max_length=40)
    subject = models.CharField("件名", max_length=200)
    body = models.TextField("本文")
    to = models.JSONField("宛先", default=list, blank=True)
    bcc = models.JSONField("BCC", default=list, blank=True)
    local_government = models.ForeignKey(
        "localgov.LocalGovernment", verbose_name="地方公共団体", null=True, blank=True, on_delete=models.PROTECT
    )
    # Set when queued, never changed: a message re-sent after a crash keeps its Message-ID,
    # so the receiving side can recognise it as the same message.
    message_id = models.CharField("Message-ID", max_length=255, unique=True)
    # Queueing the same notice twice (e.g. importing the same list again) is a no-op.
    dedupe_key = models.CharField("重複防止キー", max_length=200, unique=True, null=True, blank=True)
    # Credential messages only: the nonce the password is derived from at send time (by the
    # slot filler the accounts app registers, accounts/mail_kinds.py). The body holds a slot,
    # never the password; the nonce is erased once the SMTP server accepted the message (or it
    # was cancelled).
    secret_nonce = models.CharField("秘密情報の復元値", max_length=100, blank=True, editable=False)
    status = models.CharField("状態", max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField("送信試行回数", default=0)
    next_attempt_at = models.DateTimeField("次の送信予定", default=timezone.now)
    claimed_at = models.DateTimeField("送信開始", null=True, blank=True)
    sent_at = models.DateTimeField("送信完了", null=True, blank=True)
    last_error = models.TextField("直近のエラー", blank=True)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    # Set when the retention period erased subject, body, recipients and error (kokasen/privacy,
    # decision 0033); kind, status, times and local government stay.
    content_erased_at = models.DateTimeField("内容の消去日時", null=True, blank=True, editable=False)

    class Meta:
        ordering = ["pk"]
        verbose_name = "送信メール"
        verbose_name_plural = "送信メール"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(to=[]) | ~models.Q(bcc=[]) | models.Q(content_erased_at__isnull=False),
                name="outbox_has_recipients",
            ),
        ]

    def __str__(self):
        return f"{self.subject}（{self.get_status_display()}）"


class MessageTemplate(models.Model):
    """Subject and body of one kind of notice, edited by staff in the admin (スニペット).

    Without a row the standard text under templates/emails/<kind>/ is used. Placeholders are
    written ``{団体名}``; the kind's registration lists them (emails.Editable) and
    message_templates.problems refuses unknown or missing ones.
    """

    # The registered editable kinds, read when the choices are used (emails.editable_choices).
    kind = models.CharField("種類", max_length=40, unique=True, choices=emails.editable_choices)
    subject = models.CharField("件名", max_length=200, help_text=message_templates.SUBJECT_HELP)
    body = models.TextField("本文", help_text=message_templates.BODY_HELP)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = "メールの文面"
        verbose_name_plural = "メールの文面"

    def __str__(self):
        return self.get_kind_display()

    def clean(self):
        errors = message_templates.problems(self.kind, self.subject or "", self.body or "")
        if errors:
            raise ValidationError(errors)
