"""Every login attempt leaves an AuditEvent (統一基準; REQUIREMENTS S5, S6).

Receivers of Django's auth signals, connected in ``AccountsConfig.ready``, and the views. Each event carries the username as it was checked (and as typed, if
different), the user if one exists, the client address (core.client_address) and the result.

Actions:

- ``login.succeeded``: logged in (password, plus TOTP for staff);
- ``login.password_accepted``: a staff password was right; the TOTP step is pending (views);
- ``login.failed``: wrong user ID or password (also a disabled account: same answer);
- ``login.totp_failed``: wrong or refused TOTP code;
- ``login.locked_out``: refused for the user ID: too many failures from this place, or the
  account is protected and this place is unknown to it (``detail.reason`` pair / account;
  password not checked; views);
- ``login.throttled``: refused because the address tried too many user IDs (views);
- ``lockout.started``: this failure made the account protected against unknown places;
- ``address.slowed``: an address went over its limit (once per window; lockout.py);
- ``lockout.released`` / ``throttle.released``: staff ended a protection (lockout.py);
- ``logout``.

Failed attempts count in the login defences (``lockout.record_failure``); a success clears
the place's failures (``lockout.record_success``). Refused attempts count nowhere.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from kokasen.core.audit import audit_record

from . import lockout

STAGE_TOTP = "totp"


def _user_named(username: str):
    if not username:
        return None
    return get_user_model().objects.filter(username=username).first()


def record_attempt(request, *, action: str, username: str, user=None, **detail) -> None:
    """One audit event for one login attempt (also used by the views)."""
    username = (username or "")[:150]
    detail = {"username": username, "result": action.split(".", 1)[1] if "." in action else action, **detail}
    typed = request.POST.get("username") if request is not None and request.method == "POST" else None
    if typed is not None and typed != username:
        detail["typed"] = typed[:150]
    audit_record(
        action=action,
        acting_user=user if action == "login.succeeded" else None,
        target=user if user is not None else _user_named(username),
        target_label=username,
        detail=detail,
        request=request,
    )


def _attempt(request, username: str) -> lockout.Attempt:
    attempt = getattr(request, "kokasen_attempt", None)  # made by the login view
    if attempt is not None and attempt.username == lockout.normalise_username(username):
        return attempt
    return lockout.attempt_for(request, username)


def on_login_failed(sender, credentials, request=None, **kwargs):
    """A wrong user ID or password on the login page (TOTP failures: views_login)."""
    if request is None:  # authenticate() outside a request (shell, scripts): nothing to audit
        return
    username = credentials.get("username") or ""
    record_attempt(request, action="login.failed", username=username)
    lockout.record_failure(_attempt(request, username), request)


def on_logged_in(sender, request, user, **kwargs):
    if request is None:
        return
    method = getattr(request, "kokasen_login_method", "") or "other"
    record_attempt(request, action="login.succeeded", username=user.get_username(), user=user, method=method)
    lockout.record_success(_attempt(request, user.get_username()))


def on_logged_out(sender, request, user, **kwargs):
    if request is None:
        return
    audit_record(
        action="logout",
        acting_user=user,
        target=user,
        target_label=user.get_username() if user else "",
        detail={"username": user.get_username() if user else "", "result": "logged_out"},
        request=request,
    )


def connect() -> None:
    user_login_failed.connect(on_login_failed, dispatch_uid="kokasen.accounts.login_failed")
    user_logged_in.connect(on_logged_in, dispatch_uid="kokasen.accounts.logged_in")
    user_logged_out.connect(on_logged_out, dispatch_uid="kokasen.accounts.logged_out")
