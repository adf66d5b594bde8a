"""Reads for the account screens and the import (no writes)."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q

from kokasen.localgov.models import LocalGovernment
from kokasen.notifications.models import OutboxMessage

from . import roles
from .address_list import AddressListResult, parse_address_list
from .models import RegisteredAddress


def staff_addresses() -> list[str]:
    """The e-mail addresses of every active 管理者 and 受託者 (notices to staff: the 小ネタ
    digest, a new opinion in the 意見箱), sorted, each once."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=roles.STAFF_GROUPS)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    return sorted(set(users))


def agency_admin_addresses() -> list[str]:
    """The e-mail addresses of every active 管理者 (the agency's: notices of its reports, the
    monthly 運用・セキュリティ報告 and the 効果分析報告書), sorted, each once."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.AGENCY_ADMIN)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    return sorted(set(users))


def address_list_read(*, data: bytes, filename: str) -> AddressListResult:
    """Parse and validate an address list against the master data (nothing is written)."""
    known, prefecture_of = {}, {}
    for code, name, prefecture in LocalGovernment.objects.values_list("code", "name", "prefecture"):
        known[code], prefecture_of[code] = name, prefecture
    return parse_address_list(data, filename, known=known, prefecture_of=prefecture_of)


def member_accounts(*, query: str = "", active: str = ""):
    """Local-government accounts with their addresses, for the staff listing."""
    users = (
        get_user_model()
        .objects.filter(local_government__isnull=False)
        .select_related("local_government")
        .prefetch_related(Prefetch("registered_addresses", queryset=RegisteredAddress.objects.order_by("position")))
        .order_by("local_government__code")
    )
    if query:
        users = users.filter(
            Q(local_government__code__startswith=query)
            | Q(local_government__name__contains=query)
            | Q(local_government__prefecture__contains=query)
            | Q(registered_addresses__address__icontains=query)
        ).distinct()
    if active in ("1", "0"):
        users = users.filter(is_active=active == "1")
    return users


def outbox_messages(*, status: str = "", kind: str = ""):
    messages = OutboxMessage.objects.select_related("local_government").order_by("-pk")
    if status in OutboxMessage.Status.values:
        messages = messages.filter(status=status)
    if kind:
        messages = messages.filter(kind=kind)
    return messages


def outbox_counts() -> dict[str, int]:
    counts = dict(OutboxMessage.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return {value: counts.get(value, 0) for value in OutboxMessage.Status.values}


def staff_accounts():
    """Active staff accounts (anyone who logs in with TOTP: roles.requires_two_factor) with
    ``has_device`` and their open enrolment invitations (``open_invitations``), for
    「職員の二要素認証」 (docs/decisions/0020-staff-enrolment-invitations.md)."""
    from django.db.models import Exists, OuterRef
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from . import roles
    from .models import StaffEnrolmentInvitation

    admin_access = {"codename": "access_admin", "content_type__app_label": "wagtailadmin"}
    User = get_user_model()
    staff_ids = User.objects.filter(
        Q(is_superuser=True)
        | Q(is_staff=True)
        | Q(groups__name__in=roles.STAFF_GROUPS)
        | Q(**{f"user_permissions__{k}": v for k, v in admin_access.items()})
        | Q(**{f"groups__permissions__{k}": v for k, v in admin_access.items()})
    ).values("pk")
    open_invitations = StaffEnrolmentInvitation.objects.filter(used_at__isnull=True, revoked_at__isnull=True)
    return (
        User.objects.filter(pk__in=staff_ids, is_active=True)
        .annotate(has_device=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
        .prefetch_related(
            "groups", Prefetch("enrolment_invitations", queryset=open_invitations, to_attr="open_invitations")
        )
        .order_by("username")
    )


def enrolment_events(*, limit: int = 30):
    """The latest two-factor enrolment events (totp.*) of the audit trail."""
    from kokasen.core.models import AuditEvent

    return AuditEvent.objects.filter(action__startswith="totp.").order_by("-created_at", "-pk")[:limit]
