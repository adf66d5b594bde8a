"""``{% session_timeout %}``: the login's time left and the warning's words, on logged-in pages
only (members and verified staff); nothing at all for anyone else, so that the public pages
written as files (decision 0061) stay the same for everyone (decision 0066).

The dialog is rendered once per process and kind (admin or not); the seconds left, the
extensions left, the CSRF token and the page's path are filled in per request
(``core.slots``)."""

from urllib.parse import quote

from django import template
from django.conf import settings
from django.utils.safestring import mark_safe

from kokasen.accounts import session_expiry
from kokasen.core import slots
from kokasen.core.context_processors import csrf_token

register = template.Library()

SESSION_SLOT = "<!--kokasen:session-timeout-->"  # where pages/page_cache.py puts the dialog

DIALOG = slots.Fragment(
    "accounts/includes/session_timeout.html", ("seconds_left", "extensions_left", "csrf_token", "next_path")
)


def render_session_timeout(request, *, admin: bool = False) -> str:
    if request is None or not session_expiry.may_keep(getattr(request, "user", None)):
        return ""
    warning_seconds = settings.SESSION_WARNING_SECONDS
    return DIALOG.fill(
        (admin, warning_seconds),
        {"warning_seconds": warning_seconds, "admin": admin},
        {
            "seconds_left": session_expiry.seconds_left(request),
            "extensions_left": session_expiry.extensions_left(request),
            "csrf_token": csrf_token(request),
            "next_path": quote(request.get_full_path(), safe="/"),  # as the template's |urlencode
        },
    )


@register.simple_tag(takes_context=True)
def session_timeout(context):
    """Nothing in a static-export rendering either (``portal.static_export``): the files have no login."""
    if getattr(context.get("portal"), "static_export", False):
        return ""
    if context.get("page_holes"):  # a page cached with holes (pages/page_cache.py) fills it per request
        return mark_safe(SESSION_SLOT)
    return render_session_timeout(context.get("request"))


@register.simple_tag(takes_context=True)
def session_timeout_admin(context):
    """The same warning on every screen of Wagtail's admin, with the admin's button classes."""
    return render_session_timeout(context.get("request"), admin=True)
