"""``{% page_url n %}``: this list's address with page ``n``, every other filter kept."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context, number) -> str:
    query = context["request"].GET.copy()
    query["p"] = number
    return "?" + query.urlencode()
