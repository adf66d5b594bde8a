"""What every custom Wagtail admin screen of ours starts with: the staff check and the page
header with its breadcrumbs (ホーム › parents › title)."""

from django.core.exceptions import PermissionDenied
from django.urls import reverse

from . import roles


def require_staff(request) -> None:
    """管理者 or 受託者 with the TOTP step passed (roles.is_staff_role); others get a 403."""
    if not roles.is_staff_role(request.user):
        raise PermissionDenied


def screen_context(title: str, *, icon: str, parents=(), **extra) -> dict:
    """The context Wagtail's admin base template reads for the header; ``parents`` are
    (url, label) pairs between ホーム and the title."""
    crumbs = [{"url": reverse("wagtailadmin_home"), "label": "ホーム"}]
    crumbs += [{"url": url, "label": label} for url, label in parents]
    crumbs.append({"url": "", "label": title})
    return {"page_title": title, "header_title": title, "header_icon": icon, "breadcrumbs_items": crumbs, **extra}
