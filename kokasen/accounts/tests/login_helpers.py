"""Shared by the login tests: a clean cache per test, posting the login forms, TOTP codes,
enrolment invitations."""

import time
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kokasen.core.models import AuditEvent

PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()  # the address throttle lives in the cache
    yield
    cache.clear()


NGINX = "127.0.0.1"  # the proxy in front of the app: a trusted peer (settings.TRUSTED_PROXIES)


def login(client, username, password, *, address="198.51.100.1", **extra):
    """POST the login form as nginx passes it on: the peer is the proxy, the client's address
    is in X-Forwarded-For."""
    return client.post(
        "/login/",
        {"username": username, "password": password, **extra},
        REMOTE_ADDR=NGINX,
        HTTP_X_FORWARDED_FOR=address,
    )


def open_invitation(client, user, *, address="198.51.100.1"):
    """What an invited staff user does first: a one-time enrolment invitation is issued for
    ``user`` (as by ``manage.py invite_staff_enrolment --print``) and its link is opened in
    ``client``'s browser session. Returns the invitation (docs/decisions/0020)."""
    from kokasen.accounts import services

    issued = services.enrolment_invitation_issue(user=user, print_link=True, issued_by_label="テスト")
    response = client.get(urlsplit(issued.link).path, REMOTE_ADDR=address)
    assert response.status_code == 302, response.status_code
    return issued.invitation


def totp_code(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    """The code an authenticator app shows now (or ``offset_steps`` later)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    right = {totp_code(device, offset_steps=n) for n in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def events(action=None, **filters):
    qs = AuditEvent.objects.all()
    if action:
        qs = qs.filter(action=action)
    return qs.filter(**filters)


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session
