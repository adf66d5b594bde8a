"""Two-factor login for staff (統一基準): who needs it, the pending half-login, enrolment.

After a correct password a staff user is *not* logged in: the session only remembers who
passed the first step (``PENDING_*`` keys) for ``LOGIN_TOTP_PENDING_SECONDS``. The TOTP
step then calls ``django.contrib.auth.login`` and ``django_otp.login`` together.
"""

import time
from base64 import b32encode

import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import roles

PENDING_USER = "kokasen_login_pending_user"
PENDING_BACKEND = "kokasen_login_pending_backend"
PENDING_SINCE = "kokasen_login_pending_since"
PENDING_NEXT = "kokasen_login_pending_next"
SETUP_DEVICE = "kokasen_login_setup_device"
# The invitation whose link was opened in this session (enrolment.py; decision 0020).
ENROLMENT_INVITATION = "kokasen_login_enrolment_invitation"
_PENDING_KEYS = (PENDING_USER, PENDING_BACKEND, PENDING_SINCE, PENDING_NEXT, SETUP_DEVICE, ENROLMENT_INVITATION)

DEVICE_NAME = "認証アプリ"


requires_two_factor = roles.requires_two_factor


def confirmed_devices(user):
    return TOTPDevice.objects.devices_for_user(user, confirmed=True)


# --- the pending half-login -------------------------------------------------------------------


def start_pending(request, user, *, next_url: str) -> None:
    request.session.cycle_key()  # a new session id once the password was right
    request.session[PENDING_USER] = user.pk
    request.session[PENDING_BACKEND] = user.backend
    request.session[PENDING_SINCE] = int(time.time())
    request.session[PENDING_NEXT] = next_url


def pending_user(request):
    """The user who passed the password step and has not yet passed TOTP, or None (also
    once the pending time is over). An authenticated staff session that is not verified
    (e.g. sent here by the middleware) counts as pending too."""
    session = request.session
    user_id = session.get(PENDING_USER)
    if user_id is not None:
        if time.time() - session.get(PENDING_SINCE, 0) > settings.LOGIN_TOTP_PENDING_SECONDS:
            clear_pending(request)
            return None
        return get_user_model().objects.filter(pk=user_id, is_active=True).first()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and requires_two_factor(user) and not user.is_verified():
        return user
    return None


def password_step_passed(request, user) -> bool:
    """This session typed ``user``'s password within the pending time (an authenticated but
    unverified session does not count: enrolment needs a fresh password step; decision 0020).
    Call after ``pending_user``, which drops an expired pending state."""
    return request.session.get(PENDING_USER) == user.pk


def pending_backend(request, user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY

    return (
        request.session.get(PENDING_BACKEND)
        or request.session.get(BACKEND_SESSION_KEY)
        or settings.AUTHENTICATION_BACKENDS[0]
    )


def pending_next(request) -> str:
    from django.urls import reverse

    return request.session.get(PENDING_NEXT) or reverse("wagtailadmin_home")  # staff only get here


def clear_pending(request) -> None:
    for key in _PENDING_KEYS:
        request.session.pop(key, None)


# --- enrolment --------------------------------------------------------------------------------


def setup_device(request, user) -> TOTPDevice:
    """The unconfirmed device being enrolled in this session; a fresh secret otherwise.
    The caller checked that the session holds a usable invitation (enrolment.in_session).
    Older unconfirmed devices of the user are removed (their secret was never confirmed)."""
    device_id = request.session.get(SETUP_DEVICE)
    device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first() if device_id else None
    if device is None:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
        request.session[SETUP_DEVICE] = device.pk
    return device


def secret_for_display(device: TOTPDevice) -> str:
    """The base32 secret in groups of four for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URI (the CSP allows img data:)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=4)
