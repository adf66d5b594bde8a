from django import template

register = template.Library()


@register.simple_tag
def members_sections(page):
    """The members area's menu: its home and the home's live children, each marked as the
    current page or an ancestor of it."""
    from kokasen.members.models import MembersHomePage

    if page is None or not getattr(page, "pk", None):
        return []
    home = MembersHomePage.objects.filter(path=page.path[: MembersHomePage.steplen * 2]).first()
    if home is None:
        home = MembersHomePage.objects.ancestor_of(page, inclusive=True).first()
    if home is None:
        return []
    items = [home, *home.get_children().live()]
    return [
        {
            "page": item,
            "current": item.pk == page.pk,
            "ancestor": item.pk != home.pk and page.path.startswith(item.path) and item.pk != page.pk,
        }
        for item in items
    ]


@register.filter
def thousands(value):
    """12345 -> "12,345" (population figures)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return value
