"""Personas for tests: the people REQUIREMENTS.md names, one helper each.

- ``make_member("011002")``: the shared account of one local government (group 自治体).
- ``make_staff(roles.AGENCY_ADMIN)`` / ``make_staff(roles.OPERATOR)``: a personal staff
  account with a confirmed TOTP device.
- ``login_member(client, user)`` and ``login_staff(client, user)``: a session as the login
  page would leave it (for staff: password *and* TOTP step passed).

Passwords are random unless given; tests that type a password pass one.
"""

import secrets

from django.contrib.auth import get_user_model
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from kokasen.accounts import roles
from kokasen.localgov.models import LocalGovernment

# Two real local governments used throughout the tests: 北海道札幌市 and 東京都千代田区.
CODE_A = "011002"
CODE_B = "131016"


def make_member(code: str = CODE_A, *, password: str | None = None):
    user = get_user_model().objects.create_user(
        code, password=password or secrets.token_urlsafe(16), local_government=LocalGovernment.objects.get(code=code)
    )
    user.groups.add(roles.ensure_role_groups()[roles.MEMBER])
    return user


def make_staff(role: str, *, username: str | None = None, password: str | None = None):
    user = get_user_model().objects.create_user(
        username or f"staff-{role}-{secrets.token_hex(3)}", password=password or secrets.token_urlsafe(16)
    )
    user.groups.add(roles.ensure_role_groups()[role])
    TOTPDevice.objects.create(user=user, name="テスト用", confirmed=True)
    return user


def login_member(client, user):
    client.force_login(user)


def login_staff(client, user):
    """Log a staff user in with the TOTP step already passed."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    session.save()
