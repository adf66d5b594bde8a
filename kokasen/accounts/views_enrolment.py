"""The invitation link of staff two-factor enrolment and the refusal page
(docs/decisions/0020-staff-enrolment-invitations.md).

``/login/totp/invitation/<token>/`` (GET only) checks the invitation and keeps it in the
browser session, then sends the visitor to the login page (or, if this session just passed
the password step as the invited user, straight to the enrolment page). The invited user's
own session that is logged in but not verified (after a device reset) is logged out first:
enrolment always needs the password typed in the same session as the link. Opening the link
changes nothing else: mail filters that fetch links cannot use it up. The invitation is used
only when the device is confirmed (services.totp_device_enrol).
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from kokasen.core.audit import audit_record

from . import enrolment, roles, two_factor

REFUSED_STATUS = 403


def enrolment_refused(request, user, *, reason: str):
    """「二要素認証の登録には管理者からの招待が必要です」 (403), audited. The password step
    stays pending, so opening the invitation link next in this browser leads straight to
    the enrolment page. No device is created, and the unconfirmed device this session was
    enrolling (its invitation was revoked or expired meanwhile) is deleted; other sessions'
    devices are left alone."""
    device_id = request.session.pop(two_factor.SETUP_DEVICE, None)
    if device_id is not None:
        TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).delete()
    audit_record(
        action="totp.enrolment_refused",
        acting_user=None,
        target=user,
        target_label=user.get_username(),
        detail={"username": user.get_username(), "reason": reason, "stage": "setup"},
        request=request,
    )
    context = {
        "pending_user": user,
        "reason": reason,
        "valid_hours": settings.STAFF_ENROLMENT_INVITATION_HOURS,
        "link_problem": reason in (enrolment.USED, enrolment.REVOKED, enrolment.EXPIRED, enrolment.CONFLICT),
    }
    return render(request, "accounts/login_totp_setup_refused.html", context, status=REFUSED_STATUS)


@require_safe
@never_cache
def enrolment_invitation(request, token):
    invitation = enrolment.by_token(token)
    reason = enrolment.problem(invitation)
    if reason is not None:
        enrolment.forget(request)
        audit_record(
            action="totp.enrolment_refused",
            acting_user=None,
            target=invitation.user if invitation else None,
            target_label=invitation.user.get_username() if invitation else "",
            detail={"reason": reason, "stage": "link", **({"invitation": invitation.pk} if invitation else {})},
            request=request,
        )
        context = {"reason": reason, "valid_hours": settings.STAFF_ENROLMENT_INVITATION_HOURS}
        return render(request, "accounts/enrolment_invitation_invalid.html", context, status=404)
    user = request.user
    if user.is_authenticated and user.pk == invitation.user_id and not roles.is_verified(user):
        # The invited user's own session that lost its device (a reset): enrolment needs a
        # fresh password step, so start from a clean session and the login page.
        auth_logout(request)
    enrolment.remember(request, invitation)
    audit_record(
        action="totp.invitation_opened",
        acting_user=None,
        target=invitation.user,
        target_label=invitation.user.get_username(),
        detail={"username": invitation.user.get_username(), "invitation": invitation.pk},
        request=request,
    )
    pending = two_factor.pending_user(request)
    if pending is not None and pending.pk == invitation.user_id and two_factor.password_step_passed(request, pending):
        return redirect("accounts:login_totp_setup")
    return redirect(reverse("accounts:login") + "?" + urlencode({"invited": "1"}))
