"""Writes to accounts: provisioning of local-government accounts from the address list,
reissue, disabling, reset and password change; staff two-factor enrolment invitations,
device resets and recovery codes. Every function is one transaction and audited.

Messages go through the outbox (notices.py); generated passwords are never stored in plain
text (kokasen/accounts/credentials.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kokasen.core.audit import audit_record
from kokasen.core.refusals import Problem, Refused
from kokasen.localgov.models import LocalGovernment

from . import access, credentials, enrolment, facts, notices, recovery_codes, roles
from .address_list import AddressListResult
from .models import RegisteredAddress, StaffEnrolmentInvitation


@dataclass
class ImportPlan:
    """What importing an address list would do (and, after the import, did)."""

    create: list[str] = field(default_factory=list)  # codes of new accounts
    update: list[str] = field(default_factory=list)  # codes whose addresses change
    unchanged: list[str] = field(default_factory=list)
    queued: int = 0  # credential messages queued (after the import)


def _members_by_code(codes) -> dict[str, object]:
    User = get_user_model()
    users = User.objects.filter(local_government__code__in=codes).select_related("local_government")
    return {u.local_government.code: u for u in users.prefetch_related("registered_addresses")}


def _conflicts(result: AddressListResult, existing: dict) -> list[Problem]:
    """Codes whose username is taken by an account that is not that local government's."""
    User = get_user_model()
    missing = [e for e in result.entries if e.code not in existing]
    taken = set(User.objects.filter(username__in=[e.code for e in missing]).values_list("username", flat=True))
    return [
        Problem(
            entry.rows[0],
            "団体コード",
            f"ユーザーID「{entry.code}」は、{entry.name}のアカウントではない別のアカウントが使っています。"
            "システム管理者に連絡してください。",
        )
        for entry in missing
        if entry.code in taken
    ]


def address_list_plan(*, result: AddressListResult) -> ImportPlan:
    """What ``address_list_import`` would do with ``result``; Refused (the list's problems, by row)
    when it cannot be imported."""
    if not result.ok:
        raise Refused(*result.errors)
    if not result.entries:
        raise Refused("取り込む行がありません。")
    existing = _members_by_code([e.code for e in result.entries])
    conflicts = _conflicts(result, existing)
    if conflicts:
        raise Refused(*conflicts)
    plan = ImportPlan()
    for entry in result.entries:
        user = existing.get(entry.code)
        if user is None:
            plan.create.append(entry.code)
        elif [a.address for a in user.registered_addresses.all()] != list(entry.addresses):
            plan.update.append(entry.code)
        else:
            plan.unchanged.append(entry.code)
    return plan


@transaction.atomic
def address_list_import(*, result: AddressListResult, acting_user=None, request=None, source: str = "") -> ImportPlan:
    """Create the missing accounts and set every listed account's addresses, all or nothing.

    New accounts get a generated password and ONE credential message in the outbox.
    Existing accounts keep their password (never reset silently) and their active state;
    only their addresses are replaced by the list's. Accounts not in the list are untouched.
    """
    plan = address_list_plan(result=result)
    User = get_user_model()
    member_group = roles.ensure_role_groups()[roles.MEMBER]
    entries = {e.code: e for e in result.entries}
    governments = LocalGovernment.objects.in_bulk([*plan.create, *plan.update], field_name="code")
    existing = _members_by_code(plan.update)

    new_users, nonces = [], {}
    for code in plan.create:
        user = User(username=code, local_government=governments[code])
        nonces[code] = credentials.password_issue(user)
        new_users.append(user)
    User.objects.bulk_create(new_users)  # primary keys are set (SQLite ≥ 3.35, PostgreSQL)
    member_group.user_set.through.objects.bulk_create(
        [member_group.user_set.through(user_id=u.pk, group_id=member_group.pk) for u in new_users]
    )

    changed = [*new_users, *(existing[c] for c in plan.update)]
    RegisteredAddress.objects.filter(user__in=[u for u in changed if u.local_government.code in plan.update]).delete()
    RegisteredAddress.objects.bulk_create(
        [
            RegisteredAddress(user=u, address=address, position=i)
            for u in changed
            for i, address in enumerate(entries[u.local_government.code].addresses)
        ]
    )
    if changed:  # bulk writes send no signals: the cached access facts (facts.py) start again
        facts.all_changed()

    plan.queued = len(
        notices.credentials_queue_new_accounts(
            accounts=[(u, nonces[u.username], list(entries[u.username].addresses)) for u in new_users]
        )
    )
    for user in new_users:
        audit_record(
            action="account.created",
            acting_user=acting_user,
            target=user,
            request=request,
            detail={"addresses": list(entries[user.username].addresses), "credentials_queued": True},
        )
    for code in plan.update:
        user = existing[code]
        audit_record(
            action="account.addresses_updated",
            acting_user=acting_user,
            target=user,
            request=request,
            detail={
                "before": [a.address for a in user.registered_addresses.all()],  # prefetched before the change
                "after": list(entries[code].addresses),
            },
        )
    audit_record(
        action="accounts.address_list_imported",
        acting_user=acting_user,
        request=request,
        target_label=source[:200],
        detail={
            "encoding": result.encoding,
            "created": len(plan.create),
            "updated": len(plan.update),
            "unchanged": len(plan.unchanged),
            "queued": plan.queued,
        },
    )
    return plan


def _require_member(user) -> None:
    if user.local_government_id is None:
        raise ValueError("only local-government accounts are managed here")


@transaction.atomic
def account_reissue_password(*, user, acting_user, request=None):
    """A new generated password, notified to the local government's own addresses. The old
    one stops working at once; unsent credential messages with an older password are cancelled."""
    _require_member(user)
    cancelled = notices.credentials_cancel_unsent(local_government=user.local_government)
    nonce = credentials.password_issue(user)
    user.save(update_fields=["password", "password_issued"])
    message = notices.credentials_queue(user=user, secret_nonce=nonce, reissued=True)
    audit_record(
        action="account.password_reissued",
        acting_user=acting_user,
        target=user,
        request=request,
        detail={"outbox_message": message.pk, "cancelled_unsent": cancelled},
    )
    return message


@transaction.atomic
def account_disable(*, user, acting_user, request=None) -> bool:
    """利用停止: the account can no longer log in, and its open sessions stop working at the
    next request (Django's ModelBackend refuses inactive users). Returns False if it already was."""
    _require_member(user)
    if not user.is_active:
        return False
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_record(action="account.disabled", acting_user=acting_user, target=user, request=request)
    return True


@transaction.atomic
def account_enable(*, user, acting_user, request=None) -> bool:
    """利用再開. Returns False if the account was active already."""
    _require_member(user)
    if user.is_active:
        return False
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(action="account.enabled", acting_user=acting_user, target=user, request=request)
    return True


@transaction.atomic
def password_reset_request(*, user, request=None):
    """Queue a reset link to the account's own addresses (the caller checked throttling and
    that the account exists and is active)."""
    message = notices.password_reset_link_queue(user=user)
    audit_record(
        action="account.password_reset_requested",
        acting_user=None,
        target=user,
        request=request,
        detail={"outbox_message": message.pk},
    )
    return message


@transaction.atomic
def account_password_set(*, form, acting_user=None, request=None, action: str):
    """Save a Django SetPasswordForm / PasswordChangeForm (Argon2) and audit it. The account
    no longer has the mailed password (``User.password_issued``)."""
    form.user.password_issued = False
    user = form.save()
    audit_record(action=action, acting_user=acting_user, target=user, request=request)
    return user


# --- staff two-factor enrolment (docs/decisions/0020-staff-enrolment-invitations.md) ----------


@dataclass
class IssuedInvitation:
    invitation: StaffEnrolmentInvitation
    link: str  # carries the token: mailed or shown once, never stored in our tables except the outbox body
    message: object | None = None  # the queued OutboxMessage, or None when the link was printed


def enrolment_refusal(*, user, acting_user, action: str, print_link: bool = False) -> str | None:
    """Why ``acting_user`` may not ``"invite"`` or ``"reset"`` ``user`` (Japanese, for the
    screen), or None. ``acting_user`` None is the server's command line; anyone else must
    be a 管理者 or superuser (PermissionDenied otherwise)."""
    name = user.get_username()
    if acting_user is not None:
        access.require(acting_user, access.AGENCY_ADMIN)
        if acting_user.pk == user.pk:
            return "ご自身の認証アプリの招待やリセットはできません。ほかの管理者に依頼してください。"
        if user.is_superuser and not acting_user.is_superuser:
            return f"「{name}」はスーパーユーザーです。スーパーユーザーの認証アプリは、スーパーユーザーだけが招待・リセットできます。"
    if not user.is_active:
        return f"「{name}」は利用停止中のため、招待やリセットはできません。"
    if not roles.requires_two_factor(user):
        return f"「{name}」は職員のアカウントではないため、認証アプリを使いません。"
    if action == "invite":
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            return (
                f"「{name}」は認証アプリを登録済みです。スマートフォンの紛失や機種変更のときは、"
                "認証アプリをリセットしてから招待してください。"
            )
        if not print_link and not user.email:
            return (
                f"「{name}」にはメールアドレスが登録されていないため、招待を送れません。"
                "先にユーザーの設定でメールアドレスを登録してください。"
            )
    return None


def _enrolment_check(user, acting_user, action: str, print_link: bool = False) -> None:
    refusal = enrolment_refusal(user=user, acting_user=acting_user, action=action, print_link=print_link)
    if refusal:
        raise Refused(refusal)


def _issuer_label(acting_user, issued_by_label: str) -> str:
    if issued_by_label:
        return issued_by_label[:200]
    return acting_user.get_username() if acting_user is not None else "コマンドライン"


def _revoke_open_invitations(user, now) -> int:
    return StaffEnrolmentInvitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )


def _locked_user(user):
    # One invitation, reset or enrolment at a time per user (PostgreSQL; SQLite serialises writes).
    return get_user_model().objects.select_for_update().get(pk=user.pk)


@transaction.atomic
def enrolment_invitation_issue(
    *,
    user,
    acting_user=None,
    request=None,
    print_link: bool = False,
    issued_by_label: str = "",
    after_reset: bool = False,
) -> IssuedInvitation:
    """A new one-time invitation for ``user`` to enrol a first TOTP device; earlier open
    invitations are revoked and their unsent e-mails cancelled. Mailed to the user's own
    address through the outbox, or (``print_link``, command line only) returned to be shown.

    ``acting_user`` is a 管理者 or superuser (checked here by role; the views also require a
    verified TOTP session), or None for ``manage.py invite_staff_enrolment``."""
    user = _locked_user(user)
    _enrolment_check(user, acting_user, "invite", print_link)
    now = timezone.now()
    revoked = _revoke_open_invitations(user, now)
    cancelled = notices.staff_enrolment_cancel_unsent(user=user)
    token = enrolment.new_token()
    label = _issuer_label(acting_user, issued_by_label)
    invitation = StaffEnrolmentInvitation.objects.create(
        user=user,
        token_hash=enrolment.token_hash(token),
        created_at=now,
        expires_at=now + timedelta(hours=settings.STAFF_ENROLMENT_INVITATION_HOURS),
        issued_by=acting_user if getattr(acting_user, "pk", None) else None,
        issued_by_label=label,
        delivery=StaffEnrolmentInvitation.Delivery.PRINTED if print_link else StaffEnrolmentInvitation.Delivery.EMAIL,
    )
    link = enrolment.link(token)
    message = None
    if not print_link:
        issuer = "システム管理者" if acting_user is None else f"管理者の{acting_user.display_name()}さん"
        message = notices.staff_enrolment_invitation_queue(
            user=user,
            link=link,
            expires_at=invitation.expires_at,
            issued_by=issuer,
            invitation_id=invitation.pk,
            after_reset=after_reset,
        )
    audit_record(
        action="totp.invitation_issued",
        acting_user=acting_user,
        target=user,
        request=request,
        target_label=user.get_username(),
        detail={
            "username": user.get_username(),
            "invitation": invitation.pk,
            "issued_by": label,
            "delivery": invitation.delivery,
            "to": user.email if message else "",
            "outbox_message": message.pk if message else None,
            "expires_at": invitation.expires_at.isoformat(),
            "revoked_earlier": revoked,
            "cancelled_unsent": cancelled,
        },
    )
    return IssuedInvitation(invitation=invitation, link=link, message=message)


@transaction.atomic
def totp_device_reset(
    *, user, acting_user=None, request=None, print_link: bool = False, issued_by_label: str = ""
) -> IssuedInvitation | None:
    """A lost or replaced phone: delete all of the user's TOTP devices (their sessions fall
    back to the TOTP step at once: django-otp no longer finds the device), revoke open
    invitations, and issue a new invitation when it can be delivered (an e-mail address, or
    ``print_link``). Returns the new invitation, or None if none could be sent."""
    user = _locked_user(user)
    _enrolment_check(user, acting_user, "reset")
    devices = list(TOTPDevice.objects.filter(user=user).values_list("name", "confirmed"))
    TOTPDevice.objects.filter(user=user).delete()
    recovery_removed = recovery_codes.delete_all(user)
    now = timezone.now()
    revoked = _revoke_open_invitations(user, now)
    cancelled = notices.staff_enrolment_cancel_unsent(user=user)
    audit_record(
        action="totp.device_reset",
        acting_user=acting_user,
        target=user,
        request=request,
        target_label=user.get_username(),
        detail={
            "username": user.get_username(),
            "by": _issuer_label(acting_user, issued_by_label),
            "devices": [name for name, confirmed in devices if confirmed],
            "unconfirmed_devices": sum(1 for _, confirmed in devices if not confirmed),
            "recovery_codes_removed": recovery_removed,
            "revoked_invitations": revoked,
            "cancelled_unsent": cancelled,
        },
    )
    if not print_link and not user.email:
        return None
    return enrolment_invitation_issue(
        user=user,
        acting_user=acting_user,
        request=request,
        print_link=print_link,
        issued_by_label=issued_by_label,
        after_reset=True,
    )


@transaction.atomic
def totp_device_enrol(*, device, invitation, request=None) -> bool:
    """Confirm ``device`` (its code was checked) by using ``invitation``, which must still be
    open and belong to the device's user; the use is a conditional UPDATE, so one invitation
    confirms at most one device even under concurrent requests. Any other open invitation of
    the user is revoked. False (nothing changed) if the invitation is no longer usable or the
    user has a confirmed device already (never a second one)."""
    user = _locked_user(device.user)
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return False
    now = timezone.now()
    used = StaffEnrolmentInvitation.objects.filter(
        pk=invitation.pk, user=user, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if not used:
        return False
    if not TOTPDevice.objects.filter(pk=device.pk, user=user, confirmed=False).update(confirmed=True):
        transaction.set_rollback(True)  # the device went away meanwhile: the invitation stays unused
        return False
    device.confirmed = True
    revoked = _revoke_open_invitations(user, now)
    audit_record(
        action="totp.invitation_used",
        acting_user=None,
        target=user,
        request=request,
        target_label=user.get_username(),
        detail={
            "username": user.get_username(),
            "invitation": invitation.pk,
            "issued_by": invitation.issued_by_label,
            "issued_at": invitation.created_at.isoformat(),
            "revoked_others": revoked,
        },
    )
    audit_record(
        action="totp.device_confirmed",
        acting_user=None,
        target=user,
        request=request,
        detail={"username": user.get_username(), "device": device.name, "invitation": invitation.pk},
    )
    return True


@transaction.atomic
def recovery_codes_issue(*, user, request=None, reason: str) -> list[str]:
    """New one-time recovery codes for ``user`` (a staff user with a confirmed authenticator
    app), replacing any earlier ones; ``reason`` is ``"enrolment"`` or ``"regenerated"``.
    Returns the codes, to be shown once (decision 0053)."""
    user = _locked_user(user)
    if not roles.requires_two_factor(user) or not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise Refused("回復コードは、認証アプリを登録した職員のアカウントだけが作成できます。")
    replaced = recovery_codes.remaining(user)
    codes = recovery_codes.replace(user)
    audit_record(
        action="totp.recovery_codes_issued",
        acting_user=user if reason == "regenerated" else None,
        target=user,
        request=request,
        target_label=user.get_username(),
        detail={"username": user.get_username(), "reason": reason, "count": len(codes), "replaced_unused": replaced},
    )
    return codes


@transaction.atomic
def recovery_code_use(*, user, typed: str, request=None) -> int | None:
    """Use one recovery code of ``user``: the number of codes left, or None if the code is not
    (or no longer) valid. The caller counts a failure like a wrong TOTP code (lockout)."""
    device = recovery_codes.device_for(user)
    if device is None or not recovery_codes.use(device, typed):
        return None
    left = recovery_codes.remaining(user)
    audit_record(
        action="totp.recovery_code_used",
        acting_user=None,
        target=user,
        request=request,
        target_label=user.get_username(),
        detail={"username": user.get_username(), "remaining": left},
    )
    return left
