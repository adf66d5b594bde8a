"""Queueing messages. Sending is sender.py's job; nothing here talks to a mail server."""

from email.utils import make_msgid

from django.conf import settings
from django.db import IntegrityError, transaction

from .models import OutboxMessage


def _queue(*, dedupe_key: str | None, **fields) -> OutboxMessage:
    """Create the row; a dedupe_key queued before returns the earlier message unchanged."""
    if dedupe_key and (existing := OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()):
        return existing
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "kokasen.invalid"
    try:
        with transaction.atomic():
            return OutboxMessage.objects.create(
                dedupe_key=dedupe_key, message_id=make_msgid(idstring="kokasen", domain=domain), **fields
            )
    except IntegrityError:
        if dedupe_key:  # queued by another process at the same moment
            return OutboxMessage.objects.get(dedupe_key=dedupe_key)
        raise


def message_queue(
    *, kind: str, to: list[str], subject: str, body: str, local_government=None, dedupe_key: str | None = None
) -> OutboxMessage:
    """Queue one message to ONE recipient's own addresses (never several recipients in To)."""
    if not to:
        raise ValueError("a message needs at least one address")
    return _queue(
        kind=kind, to=list(to), subject=subject, body=body, local_government=local_government, dedupe_key=dedupe_key
    )


def broadcast_queue(*, kind: str, bcc: list[str], subject: str, body: str, dedupe_key: str | None = None) -> OutboxMessage:
    """Queue one message to many recipients, all in Bcc: nobody sees anybody's address."""
    if not bcc:
        raise ValueError("a broadcast needs at least one address")
    return _queue(kind=kind, bcc=list(bcc), subject=subject, body=body, dedupe_key=dedupe_key)
