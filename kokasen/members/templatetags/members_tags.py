from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe

register = template.Library()


def _members_home(page):
    from kokasen.members.models import MembersHomePage

    if page is None or not getattr(page, "pk", None):
        return MembersHomePage.objects.live().first()  # the area's own views (小ネタ, 意見箱 …)
    home = MembersHomePage.objects.filter(path=page.path[: MembersHomePage.steplen * 2]).first()
    if home is None:
        home = MembersHomePage.objects.ancestor_of(page, inclusive=True).first()
    return home


@register.simple_tag
def members_sections(page):
    """The members area's page menu: its home and the home's live children, each marked as the
    current page or an ancestor of it. Empty outside the area's page tree when there is no
    members home at all."""
    home = _members_home(page)
    if home is None:
        return []
    items = [home, *home.get_children().live()]
    pk, path = getattr(page, "pk", None), getattr(page, "path", "")
    return [
        {
            "page": item,
            "current": item.pk == pk,
            "ancestor": item.pk != home.pk and bool(path) and path.startswith(item.path) and item.pk != pk,
        }
        for item in items
    ]


# The area's own views after its pages in the members' menu: (URL name, label, members only).
# Their namespace marks the current entry (a 小ネタ topic counts as 小ネタ, the thanks page as 意見箱).
VIEW_LINKS = (
    ("tips:index", "小ネタ", False),
    ("feedback:send", "意見箱", False),
    ("accounts:profile", "アカウント情報", True),  # staff manage their account in the admin
)


@register.simple_tag(takes_context=True)
def members_menu(context, page):
    """The members' menu (members/_nav_menu.html), rendered once per members-area version
    (members/versions.py), page or view, and kind of reader (members see アカウント情報):
    it names nothing of the visitor's own."""
    from kokasen.accounts import roles
    from kokasen.core import caching

    from .. import versions

    request = context.get("request")
    here = _here(request)
    is_member = bool(roles.is_member(getattr(request, "user", None)))

    def render():
        return render_to_string(
            "members/_nav_menu.html",
            {"sections": members_sections(page), "view_links": _view_links(here, is_member)},
        )

    generation = versions.generation(request)
    if not generation:
        return mark_safe(render())
    key = f"members:nav:{generation}:{getattr(page, 'pk', None)}:{here}:{int(is_member)}"
    return mark_safe(caching.versioned(key, render, versions.SECONDS))


def _here(request) -> str:
    match = getattr(request, "resolver_match", None)
    return f"{match.namespace}:{match.url_name}" if match and match.namespace else ""


def _view_links(here: str, is_member: bool) -> list:
    links = []
    for name, label, members_only in VIEW_LINKS:
        if members_only and not is_member:
            continue
        namespace = name.split(":")[0]
        links.append(
            {
                "url": reverse(name),
                "label": label,
                "current": here == name,
                "ancestor": here != name and here.startswith(f"{namespace}:") and namespace != "accounts",
            }
        )
    return links


@register.simple_tag(takes_context=True)
def password_prompt(context) -> bool:
    """True when a local government's account still has the mailed password (decision 0043)."""
    from kokasen.accounts import roles

    user = getattr(context.get("request"), "user", None)
    return bool(roles.is_member(user) and getattr(user, "password_issued", False))


@register.filter
def thousands(value):
    """12345 -> "12,345" (population figures)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return value
