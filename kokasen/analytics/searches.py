"""Searches of the live site that found nothing, counted per day and query (issue 15 item 3;
decision 0057).

``pages`` (a lower layer) sends ``pages.signals.search_found_nothing`` from its search view;
this module listens (connected in ``apps.AnalyticsConfig.ready``) and adds one to the day's row
of the query: a single upsert, nothing else on the search's path, and nothing at all for a
search that found something. Kept: the local day, the query as the search normalises it (NFKC,
lower case, one space: ``pages.textsearch.normalize``) cut to ``MAX_QUERY`` characters with
e-mail addresses and long numbers masked, and the count. Not kept: the address, the user agent,
the user, the session, the time of day.

Not counted: bots (their user agent, by the access logs' filter ``bots.Filter``, or the
operator's ignore lists ``ANALYTICS_IGNORE_*``) and staff (管理者, 受託者 and superusers:
checking the portal is not a visitor's need). A query may still be a person's name: the table
is in the privacy inventory and ``apply_retention`` deletes its rows after
``PRIVACY_RETENTION_DAYS["search_queries"]`` days.
"""

from __future__ import annotations

import logging
import re

from django.db import DatabaseError, transaction
from django.utils import timezone

from kokasen.accounts import roles
from kokasen.core.client_address import client_ip
from kokasen.pages.textsearch import normalize

from . import bots, counters
from .models import ZeroResultSearchDay

log = logging.getLogger(__name__)

MAX_QUERY = 50
MAX_AGENT = 1000
EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
LONG_NUMBER = re.compile(r"\d(?:[\-‐－ー()]*\d){7,}")  # 8+ digits: a telephone or personal number
EMAIL_MARK, NUMBER_MARK = "〔メールアドレス〕", "〔番号〕"

_filter: bots.Filter | None = None


def stored_query(query: str) -> str:
    """The query as it is kept: normalised, e-mail addresses and numbers of 8 or more digits
    masked, at most MAX_QUERY characters. '' when nothing is left."""
    text = normalize(query)
    text = EMAIL.sub(EMAIL_MARK, text)
    text = LONG_NUMBER.sub(NUMBER_MARK, text)
    return text[:MAX_QUERY].strip()


def _bot_filter() -> bots.Filter:
    global _filter
    if _filter is None:
        from .ingest import rules_from_settings

        _filter = bots.Filter(rules_from_settings())  # the patterns compiled once per process
    return _filter


def is_counted(request) -> bool:
    """A person's search: not a bot's user agent, not an ignored network, not staff."""
    bot_filter = _bot_filter()
    agent = request.headers.get("User-Agent", "")[:MAX_AGENT]
    if bot_filter.agent(agent)[0]:
        return False
    address = client_ip(request)
    if address and bot_filter.address_ignored(address):
        return False
    return not roles.is_staff_role(getattr(request, "user", None), verified=False)


def record(query: str, request=None) -> bool:
    """Count one search of ``query`` that found nothing, today (local day); True if counted."""
    text = stored_query(query)
    if not text or (request is not None and not is_counted(request)):
        return False
    try:
        with transaction.atomic():
            counters.increment(ZeroResultSearchDay, day=timezone.localdate(), query=text)
    except DatabaseError:
        log.exception("analytics: a search without results could not be counted")
        return False
    return True


def on_search_found_nothing(sender, *, request, query, **kwargs) -> None:
    record(query, request)
