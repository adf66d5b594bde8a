"""``{% session_timeout %}``: the login's time left and the warning's words, on logged-in pages
only (members and verified staff); nothing at all for anyone else, so that the public pages
written as files (decision 0061) stay the same for everyone (decision 0066)."""

from django import template
from django.conf import settings
from django.template.loader import render_to_string

from kokasen.accounts import session_expiry

register = template.Library()


def render_session_timeout(request, *, admin: bool = False) -> str:
    if request is None or not session_expiry.may_keep(getattr(request, "user", None)):
        return ""
    context = {
        "seconds_left": session_expiry.seconds_left(request),
        "extensions_left": session_expiry.extensions_left(request),
        "warning_seconds": settings.SESSION_WARNING_SECONDS,
        "admin": admin,
    }
    return render_to_string("accounts/includes/session_timeout.html", context, request=request)


@register.simple_tag(takes_context=True)
def session_timeout(context):
    """Nothing in a static-export rendering either (``portal.static_export``): the files have no login."""
    if getattr(context.get("portal"), "static_export", False):
        return ""
    return render_session_timeout(context.get("request"))


@register.simple_tag(takes_context=True)
def session_timeout_admin(context):
    """The same warning on every screen of Wagtail's admin, with the admin's button classes."""
    return render_session_timeout(context.get("request"), admin=True)
