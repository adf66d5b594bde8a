"""Queueing messages. Sending is sender.py's job; nothing here talks to a mail server.

Subjects and bodies come from emails.render(); the functions that queue each app's messages
live in that app (accounts/notices.py, tips/services.py, …).
"""

from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction

from . import emails
from .models import OutboxMessage


def _domain() -> str:
    # DEFAULT_FROM_EMAIL may carry a display name: 「こども家庭庁 運営事務局 <noreply@…>」.
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "kokasen.invalid"


def _checked(fields: dict) -> dict:
    """emails.render()'s rules, again for text that did not come from it: the subject is one
    line and carries no slot; only a kind registered with a slot may carry one in its body
    (made by emails.render); in any other kind a slot-like text is broken before it is stored."""
    fields["subject"] = emails.neutralise(emails.one_line(fields["subject"]))
    if not emails.slot_of(fields["kind"]):
        fields["body"] = emails.neutralise(fields["body"])
    return fields


def _queue(*, dedupe_key: str | None, **fields) -> OutboxMessage:
    """Create the row; a dedupe_key queued before returns the earlier message unchanged."""
    fields = _checked(fields)
    if dedupe_key and (existing := OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()):
        return existing
    try:
        with transaction.atomic():
            return OutboxMessage.objects.create(
                dedupe_key=dedupe_key, message_id=make_msgid(idstring="kokasen", domain=_domain()), **fields
            )
    except IntegrityError:
        if dedupe_key:  # queued by another process at the same moment
            return OutboxMessage.objects.get(dedupe_key=dedupe_key)
        raise


def message_queue(
    *,
    kind: str,
    to: list[str],
    subject: str,
    body: str,
    local_government=None,
    dedupe_key: str | None = None,
    secret_nonce: str = "",
) -> OutboxMessage:
    """Queue one message to ONE recipient's own addresses (never several recipients in To)."""
    if not to:
        raise ValueError("a message needs at least one address")
    return _queue(
        kind=kind,
        to=list(to),
        subject=subject,
        body=body,
        local_government=local_government,
        dedupe_key=dedupe_key,
        secret_nonce=secret_nonce,
    )


def broadcast_queue(
    *, kind: str, bcc: list[str], subject: str, body: str, dedupe_key: str | None = None
) -> OutboxMessage:
    """Queue one message to many recipients, all in Bcc: nobody sees anybody's address."""
    if not bcc:
        raise ValueError("a broadcast needs at least one address")
    return _queue(kind=kind, bcc=list(bcc), subject=subject, body=body, dedupe_key=dedupe_key)


def messages_queue_bulk(messages: list[dict]) -> list[OutboxMessage]:
    """Many one-recipient messages in one INSERT (provisioning 1,788 accounts at once). Each
    item has message_queue()'s arguments; a dedupe key queued before makes the INSERT, and the
    caller's transaction, fail."""
    domain = _domain()
    rows = []
    for fields in messages:
        fields = _checked(dict(fields))
        if not fields.get("to"):
            raise ValueError("a message needs at least one address")
        rows.append(OutboxMessage(message_id=make_msgid(idstring="kokasen", domain=domain), **fields))
    return OutboxMessage.objects.bulk_create(rows, batch_size=500)
