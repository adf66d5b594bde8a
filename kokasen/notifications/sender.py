"""Delivering the outbox (``manage.py send_outbox``).

Guarantees:
- Only one sender runs at a time (an exclusive lock file), so a message is never sent by
  two processes at once.
- A message is marked SENDING (committed) before the SMTP conversation and SENT (committed)
  right after the server accepted it. If the sender is killed in between, the next run
  finds it still SENDING and sends it again, with the same Message-ID. Nothing is lost; a
  duplicate can only arise if the kill falls in the instant between the server's "250 OK"
  and our commit, and even then both copies carry one Message-ID, which mail clients treat
  as one message.
- Temporary failures (4xx replies, lost connections) are retried with back-off; permanent
  ones (5xx) mark the message FAILED with the server's reply, for staff to see.
- Secrets are filled in here, never stored, by the slot fillers their app registered
  (emails.register_slot_filler; accounts/mail_kinds.py): a credential message's password is
  derived from its ``secret_nonce``, so a re-send after a crash carries the same password; the
  nonce is erased in the same commit that marks the message SENT (or FAILED). A reset link is
  made from the account at send time. A secret that cannot be made (SecretUnavailable) fails
  the message at once, with the filler's Japanese reason for staff.
"""

import fcntl
import smtplib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone

from . import emails
from .delivery import ensure_delivering_backend
from .emails import SecretUnavailable
from .models import OutboxMessage

# Seconds to wait before attempt 2, 3, …; after the last, the message is FAILED.
BACKOFF = (60, 300, 1800, 7200, 21600)
MAX_ATTEMPTS = len(BACKOFF) + 1


class SenderBusy(Exception):
    pass


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


@contextmanager
def single_sender(lock_path: Path):
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SenderBusy(f"{lock_path} is held by another sender") from None
        yield


def _is_temporary(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, (OSError, smtplib.SMTPException))  # connection trouble


def _body(message: OutboxMessage) -> str:
    """The body to deliver: the stored one, with the secret slot of its kind filled in.

    Only a kind registered with a slot has it filled, and only that slot, by the filler its
    app registered (emails.register_slot_filler); every other body goes out exactly as stored
    (a member who types a slot into a 小ネタ post gets the text back, not a secret)."""
    slot = emails.slot_of(message.kind)
    marker = emails.slot_marker(slot) if slot else ""
    if not marker or marker not in message.body:
        return message.body
    return message.body.replace(marker, emails.slot_filler(slot)(message))


def _email(message: OutboxMessage, connection) -> EmailMessage:
    return EmailMessage(
        subject=message.subject,
        body=_body(message),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=message.to,
        bcc=message.bcc,
        headers={"Message-ID": message.message_id},
        connection=connection,
    )


def due_messages(now):
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.QUEUED, next_attempt_at__lte=now)


def send_outbox(*, limit: int | None = None, progress: Callable[[int, int], None] | None = None) -> SendReport:
    """Send every due message (at most ``limit``), one SMTP connection for the batch."""
    ensure_delivering_backend()  # before any row is touched (delivery.py, decision 0021)
    lock = Path(settings.BASE_DIR) / "var" / "send_outbox.lock"
    report = SendReport()
    with single_sender(lock):
        # Left SENDING by a sender that died: it may or may not have reached the server.
        OutboxMessage.objects.filter(status=OutboxMessage.Status.SENDING).update(status=OutboxMessage.Status.QUEUED)
        ids = list(due_messages(timezone.now()).values_list("pk", flat=True)[:limit])
        connection = get_connection(fail_silently=False)
        try:
            for done, pk in enumerate(ids, start=1):
                _send_one(pk, connection, report)
                if progress:
                    progress(done, len(ids))
        finally:
            connection.close()
    return report


def _send_one(pk: int, connection, report: SendReport) -> None:
    claimed = OutboxMessage.objects.filter(pk=pk, status=OutboxMessage.Status.QUEUED).update(
        status=OutboxMessage.Status.SENDING, claimed_at=timezone.now()
    )
    if not claimed:
        return
    message = OutboxMessage.objects.get(pk=pk)
    message.attempts += 1
    try:
        # Opened here, not by send(): EmailMessage.send() on a closed connection opens and
        # closes it around each message (a TLS handshake per message). open() is a no-op
        # while the connection is up; after a failure it starts a fresh one.
        connection.open()
        _email(message, connection).send()
    except Exception as error:  # noqa: BLE001 (every failure is recorded on the message)
        connection.close()  # start the next message on a fresh connection
        message.last_error = f"{type(error).__name__}: {error}"[:2000]
        if not isinstance(error, SecretUnavailable) and _is_temporary(error) and message.attempts < MAX_ATTEMPTS:
            message.status = OutboxMessage.Status.QUEUED
            message.next_attempt_at = timezone.now() + timedelta(seconds=BACKOFF[message.attempts - 1])
            report.retried += 1
        else:
            message.status = OutboxMessage.Status.FAILED
            message.secret_nonce = ""  # undeliverable: staff reissue the password
            report.failed += 1
    else:
        message.status = OutboxMessage.Status.SENT
        message.sent_at = timezone.now()
        message.last_error = ""
        message.secret_nonce = ""  # accepted by the server: the password is gone for good
        report.sent += 1
    message.save(update_fields=["status", "attempts", "next_attempt_at", "sent_at", "last_error", "secret_nonce"])
