"""Lockout of accounts and throttling of addresses (docs/decisions/0007-login-security.md).

- The ACCOUNT (username) is locked by django-axes (AccessAttempt rows in the database) after
  ``AXES_FAILURE_LIMIT`` failures in a row, for ``AXES_COOLOFF_TIME`` or until staff release it.
- The ADDRESS is throttled by ``kokasen.core.throttle.Limit`` in the shared cache (Redis in
  production): after ``LOGIN_ADDRESS_FAILURE_LIMIT`` failed attempts within
  ``LOGIN_ADDRESS_WINDOW_SECONDS`` every login from it is refused until the window ends. It is
  a short slow-down, never a ban, because many municipalities share one gateway address.

This module holds the checks the login views make, the reads the admin screen shows, and the
two audited releases staff can do.
"""

from dataclasses import dataclass, field
from datetime import datetime

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kokasen.core.audit import audit_record
from kokasen.core.models import AuditEvent
from kokasen.core.throttle import Limit

# Audit actions of attempts that count against the address (see login_audit.py).
FAILED_ATTEMPT_ACTIONS = ("login.failed", "login.locked_out", "login.totp_failed")
LOGIN_ACTIONS = (
    "login.succeeded", "login.password_accepted", *FAILED_ATTEMPT_ACTIONS, "login.throttled",
    "lockout.started", "lockout.released", "throttle.released", "totp.device_confirmed", "logout",
)


def address_limit() -> Limit:
    return Limit("login-address", settings.LOGIN_ADDRESS_FAILURE_LIMIT, settings.LOGIN_ADDRESS_WINDOW_SECONDS)


def address_throttled(address: str | None) -> bool:
    return bool(address) and address_limit().exceeded(address)


def record_address_failure(address: str | None) -> None:
    if address:
        address_limit().record(address)


def account_locked(request, username: str) -> bool:
    """True while django-axes refuses logins for ``username`` (whether or not it exists)."""
    return AxesProxyHandler.is_locked(request, get_credentials(username))


def cool_off_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def address_window_minutes() -> int:
    return max(1, settings.LOGIN_ADDRESS_WINDOW_SECONDS // 60)


# --- reads for the admin screen ---------------------------------------------------------------


@dataclass
class AccountFailures:
    username: str
    failures: int
    last_attempt: datetime
    locked: bool
    unlocks_at: datetime
    addresses: list[str] = field(default_factory=list)
    user: object | None = None


@dataclass
class AddressFailures:
    address: str
    failures: int  # failed attempts recorded in the audit log within the window
    counted: int  # the throttle's own count (the one that decides)
    throttled: bool
    last_attempt: datetime


def accounts_with_failures() -> list[AccountFailures]:
    """Accounts with failed attempts still inside the cool-off, locked ones first."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    attempts = AccessAttempt.objects.filter(attempt_time__gte=since)
    rows = attempts.values("username").annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    addresses: dict[str, list[str]] = {}
    for username, address in attempts.values_list("username", "ip_address").distinct().order_by("ip_address"):
        if address:
            addresses.setdefault(username, []).append(address)
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[r["username"] for r in rows])}
    result = [
        AccountFailures(
            username=row["username"] or "",
            failures=row["failures"],
            last_attempt=row["last"],
            locked=row["failures"] >= settings.AXES_FAILURE_LIMIT,
            unlocks_at=row["last"] + settings.AXES_COOLOFF_TIME,
            addresses=addresses.get(row["username"], []),
            user=users.get(row["username"]),
        )
        for row in rows
    ]
    return sorted(result, key=lambda r: (not r.locked, -r.last_attempt.timestamp()))


def addresses_with_failures() -> list[AddressFailures]:
    """Addresses with failed attempts inside the current throttle window, throttled first."""
    since = timezone.now() - timezone.timedelta(seconds=settings.LOGIN_ADDRESS_WINDOW_SECONDS)
    rows = (
        AuditEvent.objects.filter(created_at__gte=since, action__in=FAILED_ATTEMPT_ACTIONS, ip_address__isnull=False)
        .values("ip_address")
        .annotate(failures=Count("id"), last=Max("created_at"))
    )
    limit = address_limit()
    result = []
    for row in rows:
        counted = limit.count(row["ip_address"])
        result.append(
            AddressFailures(
                address=row["ip_address"],
                failures=row["failures"],
                counted=counted,
                throttled=counted >= limit.limit,
                last_attempt=row["last"],
            )
        )
    return sorted(result, key=lambda r: (not r.throttled, -r.last_attempt.timestamp()))


# --- releases (audited) -----------------------------------------------------------------------


def lockout_release(*, username: str, acting_user, request=None) -> int:
    """Unlock ``username``: forget its failed attempts (and its TOTP devices' back-off)."""
    user = get_user_model().objects.filter(username=username).first()
    with transaction.atomic():
        removed = axes_reset(username=username)
        if user is not None:
            TOTPDevice.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)
        audit_record(
            action="lockout.released",
            acting_user=acting_user,
            target=user,
            target_label=username,
            detail={"username": username, "attempt_records_removed": removed},
            request=request,
        )
    return removed


def throttle_release(*, address: str, acting_user, request=None) -> None:
    """End the slow-down of ``address`` now (e.g. a prefecture's shared gateway)."""
    with transaction.atomic():
        audit_record(
            action="throttle.released",
            acting_user=acting_user,
            target_label=address,
            detail={"address": address, "count_before": address_limit().count(address)},
            request=request,
        )
        address_limit().clear(address)
