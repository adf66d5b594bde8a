"""Invitations to enrol a staff user's first TOTP device (docs/decisions/0020-staff-enrolment-invitations.md).

A staff user without a confirmed device may enrol one only with a one-time invitation issued
for them (services.enrolment_invitation_issue). The token is 32 random bytes (43 URL-safe
characters); only its SHA-256 is stored. Opening the link ``/login/totp/invitation/<token>/``
puts the invitation's id into the browser session; the enrolment page then accepts a session
only if it holds a usable invitation for the very user who passed the password step in that
session. The token alone logs nobody in, and the password alone enrols nothing.
"""

import hashlib
import secrets

from django.urls import reverse
from django.utils import timezone

from kokasen.notifications import emails

from . import two_factor
from .models import StaffEnrolmentInvitation

TOKEN_BYTES = 32
_TOKEN_MAX_LENGTH = 64  # token_urlsafe(32) is 43 characters; anything longer is not ours

# Why an enrolment or an invitation link was refused (detail.reason of totp.enrolment_refused).
NO_INVITATION = "no_invitation"
OTHER_USER = "invitation_for_another_user"
UNKNOWN = "invitation_unknown"
USED = "invitation_used"
REVOKED = "invitation_revoked"
EXPIRED = "invitation_expired"
CONFLICT = "enrolment_conflict"  # the device went away or another one was confirmed meanwhile
NO_PASSWORD_STEP = "password_step_missing"  # an authenticated but unverified session, no fresh password


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    # A 256-bit random token needs no salt or stretching: nobody can guess one to match.
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def link(token: str) -> str:
    """The full URL for the e-mail or the terminal (the only place the token ever appears)."""
    return emails.absolute(reverse("accounts:enrolment_invitation", args=[token]))


def by_token(token: str) -> StaffEnrolmentInvitation | None:
    if not token or len(token) > _TOKEN_MAX_LENGTH:
        return None
    return StaffEnrolmentInvitation.objects.select_related("user").filter(token_hash=token_hash(token)).first()


def problem(invitation: StaffEnrolmentInvitation | None, now=None) -> str | None:
    """None if the invitation can still be used, else the reason code."""
    if invitation is None:
        return UNKNOWN
    if invitation.used_at is not None:
        return USED
    if invitation.revoked_at is not None:
        return REVOKED
    if invitation.expires_at <= (now or timezone.now()):
        return EXPIRED
    return None


def problem_now(invitation: StaffEnrolmentInvitation) -> str:
    """Why an invitation that was usable a moment ago could not be used (read again)."""
    return problem(StaffEnrolmentInvitation.objects.filter(pk=invitation.pk).first()) or CONFLICT


# --- the browser session ------------------------------------------------------------------


def remember(request, invitation: StaffEnrolmentInvitation) -> None:
    request.session[two_factor.ENROLMENT_INVITATION] = invitation.pk


def forget(request) -> None:
    request.session.pop(two_factor.ENROLMENT_INVITATION, None)


def in_session(request, user) -> tuple[StaffEnrolmentInvitation | None, str | None]:
    """(the usable invitation this session holds for ``user``, None) or (None, the reason)."""
    invitation_id = request.session.get(two_factor.ENROLMENT_INVITATION)
    invitation = StaffEnrolmentInvitation.objects.filter(pk=invitation_id).first() if invitation_id else None
    if invitation is None:
        return None, NO_INVITATION
    if invitation.user_id != user.pk:
        return None, OTHER_USER
    reason = problem(invitation)
    return (None, reason) if reason else (invitation, None)
