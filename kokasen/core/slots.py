"""Small per-request fragments rendered once per process and filled in per request (issue 19).

A fragment such as the header's account links or the login's end warning is the same HTML for
thousands of requests except for a few values: the CSRF token, the seconds left, the page's own
path. Rendering it through the template engine on every request (a new context, every context
processor, every ``{% url %}`` and ``{% static %}``) was a tenth of a members' page's CPU.

``Fragment.fill`` renders the template once per ``key`` with a *marker* in place of each
per-request value, keeps the result in this process, and then only replaces the markers. A
marker is letters, digits and hyphens, so HTML escaping and URL encoding in the template leave
it as it is; the value put in its place must already be what the template would have written
(``fill`` escapes every value, so a caller can never put markup into the page).

The key must name everything else the fragment shows (a name, a flag): two visitors with the
same key get the same HTML apart from the markers' values.
"""

from __future__ import annotations

import secrets

from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

LIMIT = 4096  # fragments kept per process (one per local government's name is 1,788); all dropped when full

_NONCE = secrets.token_hex(4)  # so a marker can never be typed into a page by a visitor


def marker(name: str) -> str:
    return f"kokasen-slot-{_NONCE}-{name}"


class Fragment:
    def __init__(self, template_name: str, slot_names: tuple[str, ...]):
        self.template_name = template_name
        self.markers = {name: marker(name) for name in slot_names}
        self._rendered: dict[tuple, str] = {}

    def fill(self, key: tuple, context: dict, values: dict[str, object]) -> SafeString:
        """The template rendered with ``context`` (once per ``key``) and each slot replaced by
        its value from ``values``, escaped."""
        html = self._rendered.get(key)
        if html is None:
            html = render_to_string(self.template_name, {**context, **self.markers})
            if len(self._rendered) >= LIMIT:
                self._rendered.clear()
            self._rendered[key] = html
        for name, mark in self.markers.items():
            html = html.replace(mark, escape(values[name]))
        return mark_safe(html)  # the template's output, with escaped values in its slots

    def clear(self) -> None:
        self._rendered.clear()
