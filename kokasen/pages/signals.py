"""Signals of the public site that apps above it may listen to (decision 0022: ``pages`` imports
no app above it, so it says what happened and lets them count it)."""

from django.dispatch import Signal

# The live site's search found nothing (decision 0057). Sent by ``views.search`` with
# ``request`` and ``query`` (what the visitor typed, stripped and cut to MAX_QUERY_LENGTH), once
# per request; not sent by the static export, whose search runs in the browser.
search_found_nothing = Signal()
