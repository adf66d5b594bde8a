"""The campaign key on the portal links of a meeting's mails (issue 15 item 6, decision 0052).

Every link to the portal in an invitation carries ``?c=m<meeting id>`` (e.g. ``?c=m12``): the
access log keeps that value of a page view (``analytics.classify.CAMPAIGN_KEYS``, whose first
name is this parameter), so the 効果分析報告書 can count the visits in the 7 days after each
session. Short, no personal data: the same key for every participant of the meeting.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

PARAMETER = "c"  # analytics.classify.CAMPAIGN_KEYS[0] (meetings sits below analytics; a test keeps them equal)


def key(meeting_id: int) -> str:
    return f"m{meeting_id}"


def tagged(url: str, meeting_id: int) -> str:
    """``url`` with the meeting's key added to its query string."""
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode({PARAMETER: key(meeting_id)})) if q)
    return urlunsplit(parts._replace(query=query))
