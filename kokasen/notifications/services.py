"""Queueing messages. Sending is sender.py's job; nothing here talks to a mail server.

Subjects and bodies come from emails.render().
"""

from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.shortcuts import resolve_url
from django.urls import reverse

from . import emails, message_templates
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
        kind=kind, to=list(to), subject=subject, body=body, local_government=local_government, dedupe_key=dedupe_key,
        secret_nonce=secret_nonce,
    )


def broadcast_queue(*, kind: str, bcc: list[str], subject: str, body: str, dedupe_key: str | None = None) -> OutboxMessage:
    """Queue one message to many recipients, all in Bcc: nobody sees anybody's address."""
    if not bcc:
        raise ValueError("a broadcast needs at least one address")
    return _queue(kind=kind, bcc=list(bcc), subject=subject, body=body, dedupe_key=dedupe_key)


# --- one function per notice to a local government's account --------------------------------


def _links() -> dict[str, str]:
    return {
        "ログインURL": emails.absolute(resolve_url(settings.LOGIN_URL)),
        "アカウントURL": emails.absolute(reverse("accounts:profile")),
        "再設定申込URL": emails.absolute(reverse("accounts:password_reset")),
    }


def _account_values(user, links: dict[str, str] | None = None) -> dict[str, str]:
    return {"団体名": str(user.local_government), "ユーザーID": user.get_username(), **(links or _links())}


def _addresses(user) -> list[str]:
    addresses = [a.address for a in user.registered_addresses.all()]
    if not addresses:
        raise ValueError(f"{user.get_username()} has no registered address")
    return addresses


def _credentials_fields(user, secret_nonce: str, kind: str, template, addresses, links=None) -> dict:
    text = emails.render(kind, _account_values(user, links), template=template)
    return dict(
        kind=kind,
        to=list(addresses) if addresses is not None else _addresses(user),
        subject=text.subject,
        body=text.body,
        local_government=user.local_government,
        secret_nonce=secret_nonce,
    )


def credentials_queue(*, user, secret_nonce: str, reissued: bool = False) -> OutboxMessage:
    """The reissued (or a new account's) password, to the local government's own addresses.

    The password itself is derived from ``secret_nonce`` by the sender at send time.
    """
    kind = message_templates.PASSWORD_REISSUED if reissued else message_templates.CREDENTIALS
    fields = _credentials_fields(user, secret_nonce, kind, None, None)
    return message_queue(dedupe_key=None if reissued else f"credentials:{user.pk}", **fields)


def credentials_queue_new_accounts(*, accounts: list[tuple[object, str, list[str]]]) -> list[OutboxMessage]:
    """One credential message per NEW account, in one INSERT (provisioning 1,788 at once).

    ``accounts`` holds (user, secret_nonce, addresses). The dedupe key credentials:<user pk>
    makes a second message for the same account impossible (the import's transaction fails).
    """
    template = message_templates.current(message_templates.CREDENTIALS)
    domain, links = _domain(), _links()
    rows = []
    for user, nonce, addresses in accounts:
        if not addresses:
            raise ValueError(f"{user.get_username()} has no registered address")
        fields = _credentials_fields(user, nonce, message_templates.CREDENTIALS, template, addresses, links)
        rows.append(
            OutboxMessage(
                dedupe_key=f"credentials:{user.pk}", message_id=make_msgid(idstring="kokasen", domain=domain), **fields
            )
        )
    return OutboxMessage.objects.bulk_create(rows, batch_size=500)


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f"{seconds // 86400 * 24}時間" if seconds <= 86400 * 2 else f"{seconds // 86400}日"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}時間"
    return f"{max(1, seconds // 60)}分"


def password_reset_link_queue(*, user) -> OutboxMessage:
    """A reset link to the local government's own addresses; the link is made at send time."""
    values = {**_account_values(user), "有効期限": _duration(settings.PASSWORD_RESET_TIMEOUT)}
    text = emails.render(message_templates.PASSWORD_RESET, values)
    return message_queue(
        kind=message_templates.PASSWORD_RESET,
        to=_addresses(user),
        subject=text.subject,
        body=text.body,
        local_government=user.local_government,
    )


SECRET_KINDS = (message_templates.CREDENTIALS, message_templates.PASSWORD_REISSUED)


def credentials_cancel_unsent(*, local_government) -> int:
    """Cancel the local government's credential messages not yet sent (a newer password
    replaces them), so that no stale password is ever delivered. Returns how many."""
    return OutboxMessage.objects.filter(
        local_government=local_government,
        kind__in=SECRET_KINDS,
        status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.FAILED],
    ).update(status=OutboxMessage.Status.CANCELLED, secret_nonce="")


# --- staff accounts ------------------------------------------------------------------------

STAFF_ENROLMENT_INVITATION = "staff_enrolment_invitation"


def _staff_enrolment_key_prefix(user) -> str:
    return f"staff-enrolment:{user.pk}:"


def staff_enrolment_invitation_queue(*, user, link: str, expires_at, issued_by: str, invitation_id: int) -> OutboxMessage:
    """The invitation to enrol a first TOTP device, to the staff user's own address only.

    The link is written into the stored body (no send-time slot): the token in it is useless
    without the user's password in the same browser session, single use and expiring
    (docs/decisions/0020-staff-enrolment-invitations.md)."""
    if not user.email:
        raise ValueError(f"{user.get_username()} has no e-mail address")
    context = {
        "name": user.display_name(), "username": user.get_username(), "link": link,
        "expires_at": expires_at, "issued_by": issued_by,
    }
    subject, body = emails.render(STAFF_ENROLMENT_INVITATION, context)
    return message_queue(
        kind=STAFF_ENROLMENT_INVITATION,
        to=[user.email],
        subject=subject,
        body=body,
        dedupe_key=f"{_staff_enrolment_key_prefix(user)}{invitation_id}",
    )


def staff_enrolment_cancel_unsent(*, user) -> int:
    """Cancel the user's enrolment invitations not yet sent (a newer invitation or a device
    reset made their links useless). Returns how many."""
    return OutboxMessage.objects.filter(
        kind=STAFF_ENROLMENT_INVITATION,
        dedupe_key__startswith=_staff_enrolment_key_prefix(user),
        status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.FAILED],
    ).update(status=OutboxMessage.Status.CANCELLED)
