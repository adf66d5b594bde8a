"""Writes to local-government accounts: provisioning from the address list, reissue,
disabling, reset and password change. Every function is one transaction and audited.

Messages go through the outbox (kokasen.notifications.services); generated passwords are
never stored in plain text (kokasen/accounts/credentials.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from kokasen.core.audit import audit_record
from kokasen.localgov.models import LocalGovernment
from kokasen.notifications import services as notifications

from . import credentials, roles
from .address_list import AddressListResult, Problem
from .models import RegisteredAddress


class AddressListRejected(ValueError):
    """The address list has problems; nothing was imported. ``problems`` says which."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


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
            entry.rows[0], "団体コード",
            f"ユーザーID「{entry.code}」は、{entry.name}のアカウントではない別のアカウントが使っています。"
            "システム管理者に連絡してください。",
        )
        for entry in missing
        if entry.code in taken
    ]


def address_list_plan(*, result: AddressListResult) -> ImportPlan:
    """What ``address_list_import`` would do with ``result``; raises AddressListRejected."""
    if not result.ok:
        raise AddressListRejected(result.errors)
    if not result.entries:
        raise AddressListRejected([Problem(None, None, "取り込む行がありません。")])
    existing = _members_by_code([e.code for e in result.entries])
    conflicts = _conflicts(result, existing)
    if conflicts:
        raise AddressListRejected(conflicts)
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

    plan.queued = len(
        notifications.credentials_queue_new_accounts(
            accounts=[(u, nonces[u.username], list(entries[u.username].addresses)) for u in new_users]
        )
    )
    for user in new_users:
        audit_record(
            action="account.created", acting_user=acting_user, target=user, request=request,
            detail={"addresses": list(entries[user.username].addresses), "credentials_queued": True},
        )
    for code in plan.update:
        user = existing[code]
        audit_record(
            action="account.addresses_updated", acting_user=acting_user, target=user, request=request,
            detail={
                "before": [a.address for a in user.registered_addresses.all()],  # prefetched before the change
                "after": list(entries[code].addresses),
            },
        )
    audit_record(
        action="accounts.address_list_imported", acting_user=acting_user, request=request,
        target_label=source[:200],
        detail={
            "encoding": result.encoding, "created": len(plan.create), "updated": len(plan.update),
            "unchanged": len(plan.unchanged), "queued": plan.queued,
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
    cancelled = notifications.credentials_cancel_unsent(local_government=user.local_government)
    nonce = credentials.password_issue(user)
    user.save(update_fields=["password"])
    message = notifications.credentials_queue(user=user, secret_nonce=nonce, reissued=True)
    audit_record(
        action="account.password_reissued", acting_user=acting_user, target=user, request=request,
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
    message = notifications.password_reset_link_queue(user=user)
    audit_record(
        action="account.password_reset_requested", acting_user=None, target=user, request=request,
        detail={"outbox_message": message.pk},
    )
    return message


@transaction.atomic
def account_password_set(*, form, acting_user=None, request=None, action: str):
    """Save a Django SetPasswordForm / PasswordChangeForm (Argon2) and audit it."""
    user = form.save()
    audit_record(action=action, acting_user=acting_user, target=user, request=request)
    return user
