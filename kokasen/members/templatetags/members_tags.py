from django import template
from django.urls import reverse

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
def members_view_links(context):
    from kokasen.accounts import roles

    request = context.get("request")
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    here = f"{match.namespace}:{match.url_name}" if match and match.namespace else ""
    is_member = roles.is_member(user)
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
