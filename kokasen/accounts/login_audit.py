"""Every login attempt leaves an AuditEvent (統一基準; REQUIREMENTS S5, S6).

Receivers of Django's auth signals and django-axes' ``user_locked_out``, connected in
``AccountsConfig.ready``. Each event carries the username as it was checked (and as typed, if
different), the user if one exists, the client address (REMOTE_ADDR) and the result.

Actions:

- ``login.succeeded``: logged in (password, plus TOTP for staff);
- ``login.password_accepted``: a staff password was right; the TOTP step is pending (views);
- ``login.failed``: wrong user ID or password (also a disabled account: same answer);
- ``login.totp_failed``: wrong or refused TOTP code;
- ``login.locked_out``: refused because the account is locked (password not checked);
- ``login.throttled``: refused because the address is throttled (views);
- ``lockout.started``: this failure locked the account;
- ``lockout.released`` / ``throttle.released``: staff ended a lock (lockout.py);
- ``logout``.

Failed and refused attempts also count against the client address (``lockout``).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from kokasen.core.audit import audit_record, client_ip

from . import lockout

STAGE_TOTP = "totp"


def _user_named(username: str):
    if not username:
        return None
    return get_user_model().objects.filter(username=username).first()


def _refused_by_axes(request) -> bool:
    # The axes backend marks a refused (locked) attempt before authenticate() gives up; a
    # failure axes counted has ``axes_failures_since_start`` set. Holds in either receiver order.
    return bool(getattr(request, "axes_locked_out", False)) and getattr(request, "axes_failures_since_start", None) is None


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


def on_login_failed(sender, credentials, request=None, **kwargs):
    if request is None:  # authenticate() outside a request (shell, scripts): nothing to audit
        return
    username = credentials.get("username") or ""
    if _refused_by_axes(request):
        action = "login.locked_out"
    elif credentials.get("stage") == STAGE_TOTP:
        action = "login.totp_failed"
    else:
        action = "login.failed"
    extra = {"stage": credentials["stage"]} if credentials.get("stage") else {}
    if credentials.get("reason"):
        extra["reason"] = credentials["reason"]
    record_attempt(request, action=action, username=username, **extra)
    lockout.record_address_failure(client_ip(request))


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    if request is None or _refused_by_axes(request):
        return  # a refused attempt: on_login_failed records it as login.locked_out
    record_attempt(
        request,
        action="lockout.started",
        username=username or "",
        failures=getattr(request, "axes_failures_since_start", None),
        lock_minutes=lockout.cool_off_minutes(),
    )


def on_logged_in(sender, request, user, **kwargs):
    if request is None:
        return
    method = getattr(request, "kokasen_login_method", "") or "other"
    record_attempt(request, action="login.succeeded", username=user.get_username(), user=user, method=method)


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
    from axes.signals import user_locked_out

    user_login_failed.connect(on_login_failed, dispatch_uid="kokasen.accounts.login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="kokasen.accounts.locked_out")
    user_logged_in.connect(on_logged_in, dispatch_uid="kokasen.accounts.logged_in")
    user_logged_out.connect(on_logged_out, dispatch_uid="kokasen.accounts.logged_out")
