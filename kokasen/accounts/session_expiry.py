"""When a login ends, said to the page, and extended on request (JIS X 8341-3 2.2.1, decision 0066).

A login lasts ``SESSION_COOKIE_AGE`` from the moment of logging in: the expiry is written into
the session as a fixed date (``set_expiry(datetime)``) when the user logs in, so every page knows
exactly how many seconds are left and a later save of the session (a message, the TOTP step's
bookkeeping) no longer moves it silently. Logged-in pages carry the seconds left
(``templates/accounts/includes/session_timeout.html``); ``static/js/session-timeout.js`` warns
``SESSION_WARNING_SECONDS`` before the end and offers 「ログインを延長する」, which asks
``extend``: a new full ``SESSION_COOKIE_AGE`` from now, at most ``SESSION_EXTENSIONS_MAX`` times
per login (WCAG 2.2.1 asks for at least ten). The session keeps everything else, a staff
session's TOTP verification included.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from . import roles

EXTENSIONS = "_kokasen_extensions"


def may_keep(user) -> bool:
    """Who sees the warning and may extend: members and staff who passed the TOTP step."""
    return roles.is_member(user) or roles.is_staff_role(user, verified=True)


def on_logged_in(sender, request, user, **kwargs):
    """Every login starts a full, fixed-date session and a fresh count of extensions."""
    if request is None or not hasattr(request, "session"):
        return
    request.session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))
    request.session[EXTENSIONS] = 0


def seconds_left(request) -> int:
    return max(0, request.session.get_expiry_age())


def extensions_left(request) -> int:
    return max(0, settings.SESSION_EXTENSIONS_MAX - request.session.get(EXTENSIONS, 0))


def extend(request) -> bool:
    """A new full ``SESSION_COOKIE_AGE`` from now; False once the extensions are used up."""
    if not extensions_left(request):
        return False
    request.session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))
    request.session[EXTENSIONS] = request.session.get(EXTENSIONS, 0) + 1
    return True


def state(request) -> dict:
    return {"seconds_left": seconds_left(request), "extensions_left": extensions_left(request)}


def connect() -> None:
    from django.contrib.auth.signals import user_logged_in

    user_logged_in.connect(on_logged_in, dispatch_uid="kokasen.accounts.session_expiry")
