"""Members' page views and opened documents, counted as they happen (issue 15 item 4; decision
0050). The access log cannot say which local government read a page (it has no account), the
application can: after the response, for a local government's account only, one Redis
command for a page view (``pageviews.buffer``; the flush adds the counts to the database,
decision 0067) or, without Redis, one statement; one statement for an opened document.

- A members' page view: a ``GET`` under ``/members/`` (the Wagtail pages of the members area,
  the 小ネタ board and the 意見箱) answered 200 with an HTML page.
- An opened document: ``GET`` of ``/documents/<id>/<name>`` (``members_document_serve``)
  answered 200, 206 or 304; a video's range requests, a reload, the same file again that day
  are one row (``DocumentOpen``).

No cookie, no script, nothing about the person: the day, the local government, the kind or the
document. Anything else (the public site, staff, anonymous visitors, images, forms sent,
errors) is passed through without touching the session or the database. A failed write is
logged and never changes the response; a page view that Redis did not take is written to the
database instead.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction
from django.utils import timezone

from . import pageviews, participation

log = logging.getLogger(__name__)

MEMBERS_PREFIX = "/members/"
MEMBERS_EXCLUDED = ("/members/images/",)
DOCUMENT_VIEW = "members_document_serve"
DOCUMENT_STATUSES = (200, 206, 304)


def _local_government_id(request) -> int | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return getattr(user, "local_government_id", None)


def _what(request, response) -> tuple[str, int | None] | None:
    """("page", None), ("document", id) or None, without touching the session."""
    if request.method != "GET":
        return None
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name == DOCUMENT_VIEW:
        if response.status_code in DOCUMENT_STATUSES:
            return "document", int(match.args[0])
        return None
    path = request.path_info
    if not path.startswith(MEMBERS_PREFIX) or path.startswith(MEMBERS_EXCLUDED):
        return None
    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
        return "page", None
    return None


class ParticipationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        what = _what(request, response)
        if what is None:
            return response
        lg_id = _local_government_id(request)
        if lg_id is None:
            return response
        kind, document_id = what
        if kind == "page" and pageviews.buffer(lg_id, timezone.localdate()):
            return response
        try:
            with transaction.atomic():
                if kind == "page":
                    participation.record_page_view(lg_id, timezone.localdate())
                else:
                    participation.record_document_open(lg_id, document_id, timezone.localdate())
        except DatabaseError:
            log.exception("participation: the %s could not be counted", kind)
        return response
