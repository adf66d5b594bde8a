"""The e-mails the accounts app sends, through the outbox: a new account's credentials, a
reissued password, a reset link, a staff enrolment invitation; and the cancelling of unsent
ones that a newer message replaced. The kinds, and how their secrets are written at send
time, are declared in mail_kinds.py; the texts are templates/emails/<kind>/.
"""

from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse

from kokasen.notifications import emails, message_templates
from kokasen.notifications import services as outbox
from kokasen.notifications.models import OutboxMessage

from .mail_kinds import CREDENTIALS, PASSWORD_REISSUED, PASSWORD_RESET, STAFF_ENROLMENT_INVITATION
from .selectors import agency_admin_addresses

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
    kind = PASSWORD_REISSUED if reissued else CREDENTIALS
    fields = _credentials_fields(user, secret_nonce, kind, None, None)
    return outbox.message_queue(dedupe_key=None if reissued else f"credentials:{user.pk}", **fields)


def credentials_queue_new_accounts(*, accounts: list[tuple[object, str, list[str]]]) -> list[OutboxMessage]:
    """One credential message per NEW account, in one INSERT (provisioning 1,788 at once).

    ``accounts`` holds (user, secret_nonce, addresses). The dedupe key credentials:<user pk>
    makes a second message for the same account impossible (the import's transaction fails).
    """
    template = message_templates.current(CREDENTIALS)
    links = _links()
    messages = []
    for user, nonce, addresses in accounts:
        if not addresses:
            raise ValueError(f"{user.get_username()} has no registered address")
        fields = _credentials_fields(user, nonce, CREDENTIALS, template, addresses, links)
        messages.append({**fields, "dedupe_key": f"credentials:{user.pk}"})
    return outbox.messages_queue_bulk(messages)


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f"{seconds // 86400 * 24}時間" if seconds <= 86400 * 2 else f"{seconds // 86400}日"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}時間"
    return f"{max(1, seconds // 60)}分"


def password_reset_link_queue(*, user) -> OutboxMessage:
    """A reset link to the local government's own addresses; the link is made at send time."""
    values = {**_account_values(user), "有効期限": _duration(settings.PASSWORD_RESET_TIMEOUT)}
    text = emails.render(PASSWORD_RESET, values)
    return outbox.message_queue(
        kind=PASSWORD_RESET,
        to=_addresses(user),
        subject=text.subject,
        body=text.body,
        local_government=user.local_government,
    )


SECRET_KINDS = (CREDENTIALS, PASSWORD_REISSUED)


def credentials_cancel_unsent(*, local_government) -> int:
    """Cancel the local government's credential messages not yet sent (a newer password
    replaces them), so that no stale password is ever delivered. Returns how many."""
    return OutboxMessage.objects.filter(
        local_government=local_government,
        kind__in=SECRET_KINDS,
        status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.FAILED],
    ).update(status=OutboxMessage.Status.CANCELLED, secret_nonce="")


# --- staff accounts ------------------------------------------------------------------------


def _staff_enrolment_key_prefix(user) -> str:
    return f"staff-enrolment:{user.pk}:"


def staff_enrolment_invitation_queue(
    *, user, link: str, expires_at, issued_by: str, invitation_id: int, after_reset: bool = False
) -> OutboxMessage:
    """The invitation to enrol a first TOTP device, to the staff user's own address only.

    The link is written into the stored body (no send-time slot): the token in it is useless
    without the user's password in the same browser session, single use and expiring
    (docs/decisions/0020-staff-enrolment-invitations.md)."""
    if not user.email:
        raise ValueError(f"{user.get_username()} has no e-mail address")
    context = {
        "name": user.display_name(),
        "username": user.get_username(),
        "link": link,
        "expires_at": expires_at,
        "issued_by": issued_by,
        "after_reset": after_reset,
    }
    subject, body = emails.render(STAFF_ENROLMENT_INVITATION, context)
    return outbox.message_queue(
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


# --- a report's notice to the agency -------------------------------------------------------------


def agency_admins_notify(*, kind: str, context: dict, dedupe_key: str) -> int:
    """Queue one message of ``kind`` in Bcc to every active 管理者 with an address (the monthly
    運用・セキュリティ報告, the 効果分析報告書), once per ``dedupe_key``. Returns the number of
    recipients (0: nobody with an address, nothing queued)."""
    recipients = agency_admin_addresses()
    if not recipients:
        return 0
    subject, body = emails.render(kind, context)
    outbox.broadcast_queue(kind=kind, bcc=recipients, subject=subject, body=body, dedupe_key=dedupe_key)
    return len(recipients)
