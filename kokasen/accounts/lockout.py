"""Login defences: throttles that slow guessing down and cannot be turned against the people
who know their password (docs/decisions/0017-login-and-mail-defences.md, §4).

The user IDs are the public 6-digit 団体コード, and many local governments share one address (a
prefecture's 自治体情報セキュリティクラウド gateway). So nothing here locks an account for
everyone, and nothing bans an address for everyone behind it. Three counters in the shared
cache (Redis in production), each in a fixed window, decide before the password is checked:

1. **Account and place** (``PAIR``): failures of one user ID from one place, where the place is
   this browser (its device cookie, once the account has logged in with it) or else the client
   address. After ``LOGIN_PAIR_FAILURE_LIMIT`` the pair waits for its window to end. Typos never
   get there; a guesser at one place gets a handful per window.
2. **Account from unknown places** (``ACCOUNT``): failures of one user ID from places it has never
   logged in from. After ``LOGIN_ACCOUNT_FAILURE_LIMIT`` in the window the account is *protected*:
   unknown places are refused without a password check, while a known place (a device cookie
   of the account, or an address the account logged in from in the last
   ``LOGIN_KNOWN_PLACE_DAYS``) is still checked. Attackers spread over many addresses stop at
   that limit; the local government at its usual desk or gateway logs in.
3. **Address across accounts** (``ADDRESS``): per address, the user IDs with failures not yet
   followed by a success from it, and those failures. A success forgives that account's
   failures (the gateway's 60 local governments clear their own typos as they log in), and each
   account that logged in from the address in the last day raises its limits. Above
   ``LOGIN_ADDRESS_ACCOUNT_LIMIT`` accounts or ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures, attempts
   from the address are refused unless the browser has a device cookie of the account, until the
   window ends; every window in which the address was over its limit halves the base limits for
   the next day (a sprayer is slowed to a crawl, a gateway with real users keeps its credit).

Refused attempts cost no password check and do not count, so they cannot extend anything. Staff
end a protection early from 「ログインとロック」 (audited); the cache keys hold hashes, not IDs or
addresses, and the audit trail is the durable record of every attempt.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from kokasen.core.audit import audit_record
from kokasen.core.client_address import client_ip, throttle_key
from kokasen.core.models import AuditEvent
from kokasen.core.throttle import Limit

# Audit actions of attempts (see login_audit.py).
FAILED_ATTEMPT_ACTIONS = ("login.failed", "login.totp_failed")
REFUSED_ATTEMPT_ACTIONS = ("login.locked_out", "login.throttled")
LOGIN_ACTIONS = (
    "login.succeeded",
    "login.password_accepted",
    *FAILED_ATTEMPT_ACTIONS,
    *REFUSED_ATTEMPT_ACTIONS,
    "lockout.started",
    "address.slowed",
    "lockout.released",
    "throttle.released",
    "totp.device_confirmed",
    "logout",
)

DEVICE_COOKIE = "kokasen_device"
_DEVICE_SALT = "kokasen.accounts.device"
_DEVICE_ACCOUNTS = 5  # user IDs remembered per browser (a shared PC of one office)
_FOREVER = None


class Refusal(enum.Enum):
    PAIR = "pair"  # this user ID from this place: too many failures
    ACCOUNT = "account"  # the user ID is protected; this place is unknown to it
    ADDRESS = "address"  # this address tried too many user IDs without success


def normalise_username(raw: str) -> str:
    """The user ID as the login form checks it (NFKC: full-width digits work), for counting. A NUL
    (no user ID has one; PostgreSQL cannot even compare text with it) becomes U+FFFD, so that a
    refused attempt with one is looked up and audited like any other unknown ID."""
    return unicodedata.normalize("NFKC", raw or "").replace("\x00", "\ufffd").strip()[:150]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _generation(kind: str, value: str) -> str:
    """Bumped by a staff release: every counter keyed under the old generation is forgotten."""
    return str(cache.get(f"login:gen:{kind}:{_digest(value)}", 0))


def _bump_generation(kind: str, value: str) -> None:
    key = f"login:gen:{kind}:{_digest(value)}"
    if not cache.add(key, 1, timeout=_FOREVER):
        cache.incr(key)


# --- the counters ------------------------------------------------------------------------------


def pair_limit() -> Limit:
    return Limit("login-pair", settings.LOGIN_PAIR_FAILURE_LIMIT, settings.LOGIN_PAIR_WINDOW_SECONDS)


def account_limit() -> Limit:
    return Limit("login-account", settings.LOGIN_ACCOUNT_FAILURE_LIMIT, settings.LOGIN_ACCOUNT_WINDOW_SECONDS)


def _address_failures() -> Limit:
    return Limit("login-address-failures", settings.LOGIN_ADDRESS_FAILURE_LIMIT, settings.LOGIN_ADDRESS_WINDOW_SECONDS)


def _address_accounts() -> Limit:
    return Limit("login-address-accounts", settings.LOGIN_ADDRESS_ACCOUNT_LIMIT, settings.LOGIN_ADDRESS_WINDOW_SECONDS)


def _address_account_failures() -> Limit:
    return Limit("login-address-account", 0, settings.LOGIN_ADDRESS_WINDOW_SECONDS)


def _address_successes() -> Limit:
    return Limit("login-address-successes", 0, 24 * 3600)


def _address_strikes() -> Limit:
    return Limit("login-address-strikes", 0, 24 * 3600)


# --- one attempt -------------------------------------------------------------------------------


@dataclass
class Attempt:
    """Who is tried from where. ``known`` is looked up once, only when a rule needs it."""

    username: str
    address: str | None  # the throttle key of the client address (an IPv6 address's /64)
    device: str | None  # this browser's device id, if its cookie names this user ID
    _known: bool | None = field(default=None, repr=False)

    @property
    def user_key(self) -> str:
        return f"{_generation('u', self.username)}:{_digest(self.username)}"

    @property
    def address_key(self) -> str:
        return f"{_generation('a', self.address or '')}:{_digest(self.address or '')}"

    @property
    def place_key(self) -> str:
        place = f"d:{self.device}" if self.device else f"a:{self.address or ''}"
        return f"{self.user_key}:{_digest(place)}"

    @property
    def known(self) -> bool:
        """A device cookie of this account, or an address it logged in from recently."""
        if self._known is None:
            self._known = self.device is not None or bool(
                self.address and cache.get(_known_address_key(self.username, self.address))
            )
        return self._known


def _known_address_key(username: str, address: str) -> str:
    return f"login:known:{_digest(username, address)}"


def _device_id(request, username: str) -> str | None:
    value = _read_device_cookie(request)
    if value and username in value.get("u", []):
        return value.get("d")
    return None


def _read_device_cookie(request) -> dict | None:
    raw = request.COOKIES.get(DEVICE_COOKIE) if request is not None else None
    if not raw:
        return None
    try:
        value = signing.loads(raw, salt=_DEVICE_SALT, max_age=settings.LOGIN_KNOWN_PLACE_DAYS * 86400)
    except signing.BadSignature:
        return None
    return value if isinstance(value, dict) and isinstance(value.get("u"), list) else None


def attempt_for(request, username: str) -> Attempt:
    username = normalise_username(username)
    return Attempt(username=username, address=throttle_key(client_ip(request)), device=_device_id(request, username))


def _address_limits(attempt: Attempt) -> tuple[int, int]:
    """(accounts, failures) the address may have outstanding, after its strikes and credit."""
    strikes = min(_address_strikes().count(attempt.address_key), 8)
    credit = min(_address_successes().count(_digest(attempt.address or "")), settings.LOGIN_ADDRESS_CREDIT_CAP)
    accounts = max(1, settings.LOGIN_ADDRESS_ACCOUNT_LIMIT >> strikes) + credit
    failures = max(2, settings.LOGIN_ADDRESS_FAILURE_LIMIT >> strikes) + 2 * credit
    return accounts, failures


def address_slowed(attempt: Attempt) -> bool:
    if not attempt.address:
        return False
    accounts, failures = _address_limits(attempt)
    return (
        _address_accounts().count(attempt.address_key) >= accounts
        or _address_failures().count(attempt.address_key) >= failures
    )


def refusal(attempt: Attempt, request=None) -> Refusal | None:
    """Why this attempt must not even be checked, or None. Costs a few cache reads."""
    if attempt.device is None and address_slowed(attempt):
        _strike(attempt, request)
        return Refusal.ADDRESS
    if pair_limit().exceeded(attempt.place_key):
        return Refusal.PAIR
    if account_limit().exceeded(attempt.user_key) and not attempt.known:
        return Refusal.ACCOUNT
    return None


def _strike(attempt: Attempt, request) -> None:
    """Once per window in which the address went over its limit: halve its base limits for a day."""
    window = settings.LOGIN_ADDRESS_WINDOW_SECONDS
    if cache.add(f"login:struck:{attempt.address_key}", 1, timeout=window):
        strikes = _address_strikes().record(attempt.address_key)
        audit_record(
            action="address.slowed",
            target_label=attempt.address or "",
            request=request,
            detail={"address": attempt.address, "strikes": strikes, "window_minutes": window // 60},
        )


def record_failure(attempt: Attempt, request=None) -> None:
    """A wrong password or TOTP code (or an unknown user ID): count it everywhere it counts."""
    pair_limit().record(attempt.place_key)
    if not attempt.known:
        accounts = account_limit()
        if accounts.record(attempt.user_key) == accounts.limit:
            audit_record(
                action="lockout.started",
                target_label=attempt.username,
                request=request,
                detail={
                    "username": attempt.username,
                    "failures": accounts.limit,
                    "scope": "unknown_places",
                    "window_minutes": accounts.window // 60,
                },
            )
    if attempt.address:
        _address_failures().record(attempt.address_key)
        if _address_account_failures().record(f"{attempt.address_key}:{_digest(attempt.username)}") == 1:
            _address_accounts().record(attempt.address_key)


def record_success(attempt: Attempt) -> None:
    """Logged in: this place is known to the account, its typos here are forgiven."""
    pair_limit().clear(attempt.place_key)
    pair_limit().clear(Attempt(attempt.username, attempt.address, None).place_key)
    if not attempt.address:
        return
    days = settings.LOGIN_KNOWN_PLACE_DAYS
    cache.set(_known_address_key(attempt.username, attempt.address), 1, timeout=days * 86400)
    per_account = _address_account_failures()
    identity = f"{attempt.address_key}:{_digest(attempt.username)}"
    forgiven = per_account.count(identity)
    if forgiven:
        per_account.clear(identity)
        _address_failures().forgive(attempt.address_key, forgiven)
        _address_accounts().forgive(attempt.address_key, 1)
    if cache.add(f"login:address-success:{_digest(attempt.username, attempt.address)}", 1, timeout=24 * 3600):
        _address_successes().record(_digest(attempt.address))


def remember_device(request, response, username: str) -> None:
    """After a complete login: this browser is a known place of ``username`` (signed cookie)."""
    value = _read_device_cookie(request) or {}
    device = value.get("d") or secrets.token_urlsafe(16)
    accounts = [u for u in value.get("u", []) if u != username][-(_DEVICE_ACCOUNTS - 1) :] + [username]
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps({"d": device, "u": accounts}, salt=_DEVICE_SALT),
        max_age=settings.LOGIN_KNOWN_PLACE_DAYS * 86400,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def window_minutes(refused: Refusal) -> int:
    seconds = {
        Refusal.PAIR: settings.LOGIN_PAIR_WINDOW_SECONDS,
        Refusal.ACCOUNT: settings.LOGIN_ACCOUNT_WINDOW_SECONDS,
        Refusal.ADDRESS: settings.LOGIN_ADDRESS_WINDOW_SECONDS,
    }[refused]
    return max(1, seconds // 60)


# --- reads for the admin screen ------------------------------------------------------------------


@dataclass
class AccountFailures:
    username: str
    failures: int  # failed attempts in the audit trail within the account window
    last_attempt: datetime
    protected: bool  # unknown places are refused
    counted: int  # the counter that decides (failures from unknown places)
    addresses: list[str] = field(default_factory=list)
    user: object | None = None


@dataclass
class AddressFailures:
    address: str
    failures: int  # failed attempts in the audit trail within the window
    accounts: int  # user IDs with failures not yet followed by a success (the counter)
    accounts_limit: int
    outstanding: int  # their failures (the counter)
    failures_limit: int
    slowed: bool
    last_attempt: datetime


def accounts_with_failures() -> list[AccountFailures]:
    """User IDs with failed attempts inside the account window, protected ones first."""
    from django.contrib.auth import get_user_model

    since = timezone.now() - timedelta(seconds=settings.LOGIN_ACCOUNT_WINDOW_SECONDS)
    failed = AuditEvent.objects.filter(created_at__gte=since, action__in=FAILED_ATTEMPT_ACTIONS)
    rows = failed.values("target_label").annotate(failures=Count("id"), last=Max("created_at"))
    addresses: dict[str, list[str]] = {}
    for username, address in failed.values_list("target_label", "ip_address").distinct().order_by("ip_address"):
        if address:
            addresses.setdefault(username, []).append(address)
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[r["target_label"] for r in rows])}
    limit = account_limit()
    result = []
    for row in rows:
        counted = limit.count(Attempt(row["target_label"], None, None).user_key)
        result.append(
            AccountFailures(
                username=row["target_label"],
                failures=row["failures"],
                last_attempt=row["last"],
                protected=counted >= limit.limit,
                counted=counted,
                addresses=addresses.get(row["target_label"], []),
                user=users.get(row["target_label"]),
            )
        )
    return sorted(result, key=lambda r: (not r.protected, -r.last_attempt.timestamp()))


def addresses_with_failures() -> list[AddressFailures]:
    """Addresses with failed attempts inside the address window, slowed ones first."""
    since = timezone.now() - timedelta(seconds=settings.LOGIN_ADDRESS_WINDOW_SECONDS)
    rows = (
        AuditEvent.objects.filter(created_at__gte=since, action__in=FAILED_ATTEMPT_ACTIONS, ip_address__isnull=False)
        .values("ip_address")
        .annotate(failures=Count("id"), last=Max("created_at"))
    )
    result = []
    for row in rows:
        attempt = Attempt("", throttle_key(row["ip_address"]), None)
        accounts_limit, failures_limit = _address_limits(attempt)
        result.append(
            AddressFailures(
                address=row["ip_address"],
                failures=row["failures"],
                accounts=_address_accounts().count(attempt.address_key),
                accounts_limit=accounts_limit,
                outstanding=_address_failures().count(attempt.address_key),
                failures_limit=failures_limit,
                slowed=address_slowed(attempt),
                last_attempt=row["last"],
            )
        )
    return sorted(result, key=lambda r: (not r.slowed, -r.last_attempt.timestamp()))


# --- releases (audited) --------------------------------------------------------------------------


def lockout_release(*, username: str, acting_user, request=None) -> None:
    """End every throttle of ``username`` now (and its TOTP devices' back-off)."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    username = normalise_username(username)
    user = get_user_model().objects.filter(username=username).first()
    with transaction.atomic():
        counted = account_limit().count(Attempt(username, None, None).user_key)
        if user is not None:
            TOTPDevice.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)
        audit_record(
            action="lockout.released",
            acting_user=acting_user,
            target=user,
            target_label=username,
            detail={"username": username, "count_before": counted},
            request=request,
        )
    _bump_generation("u", username)


def throttle_release(*, address: str, acting_user, request=None) -> None:
    """End the slow-down of ``address`` now (e.g. a prefecture's shared gateway), strikes included."""
    key = throttle_key(address) or address
    attempt = Attempt("", key, None)
    with transaction.atomic():
        audit_record(
            action="throttle.released",
            acting_user=acting_user,
            target_label=address,
            detail={
                "address": address,
                "accounts_before": _address_accounts().count(attempt.address_key),
                "failures_before": _address_failures().count(attempt.address_key),
            },
            request=request,
        )
    _bump_generation("a", key)
