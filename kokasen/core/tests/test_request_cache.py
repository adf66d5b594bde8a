"""The small cache keys of a request in one round trip (core/request_cache.py, issue 19): a
member's page asks the shared cache for them once, and what changes during or between requests
is never answered from that read."""

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from kokasen.accounts import facts, user_rows
from kokasen.accounts.sessions import KEY_PREFIX
from kokasen.core import request_cache
from kokasen.members import versions
from kokasen.pages import chrome
from kokasen.testing import CODE_A, login_member, make_member
from kokasen.tips import topic_cache
from kokasen.tips.models import SETTINGS_CACHE_KEY, BoardSettings, ModerationMode, Topic

pytestmark = pytest.mark.django_db


def _calls(client, url):
    """The keys read from the shared cache by one request, by method."""
    backend = caches["default"]
    seen = {"get": [], "get_many": []}
    real_get, real_get_many = backend.get, backend.get_many

    inside_many = []

    def get(key, *args, **kwargs):
        if not inside_many:  # LocMemCache's get_many calls get() per key
            seen["get"].append(key)
        return real_get(key, *args, **kwargs)

    def get_many(keys, *args, **kwargs):
        keys = list(keys)
        seen["get_many"].append(keys)
        inside_many.append(True)
        try:
            return real_get_many(keys, *args, **kwargs)
        finally:
            inside_many.pop()

    with mock.patch.object(backend, "get", get), mock.patch.object(backend, "get_many", get_many):
        response = client.get(url)
    assert response.status_code == 200, url
    return seen


@pytest.mark.parametrize("which", ["home", "topic"])
def test_a_members_page_reads_its_session_and_generations_in_one_round_trip(demo_site, which):
    member = make_member(CODE_A)
    client = Client()
    login_member(client, member)
    topic = Topic.objects.create(title="お題", opens_at=timezone.now() - timedelta(days=1))
    url = "/members/" if which == "home" else f"/members/tips/{topic.pk}/"
    client.get(url)  # warm
    seen = _calls(client, url)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    user_row = user_rows._key(session_key)  # the session's user row and its generation (decision 0069)
    small = {KEY_PREFIX + session_key, user_row, user_rows.GENERATION_KEY, facts.GLOBAL_KEY, versions.KEY}
    small |= {chrome.GENERATION_KEY, topic_cache.KEY}
    if which == "topic":
        small.add(SETTINGS_CACHE_KEY)
    assert len(seen["get_many"]) == 1 and set(seen["get_many"][0]) == small
    assert seen["get"] == []  # nothing asked again, nothing asked alone


def _in_request(view, method="GET"):
    """Run view() inside the middleware for a request of ``method``; its return value."""
    result = {}

    def get_response(request):
        result["value"] = view()
        return HttpResponse()

    request = getattr(RequestFactory(), method.lower())("/members/tips/1/")
    request.session = {}
    request_cache.PrefetchMiddleware(get_response)(request)
    return result["value"]


def test_a_generation_replaced_during_the_request_is_read_again(db):
    def view():
        before = (chrome.generation(), versions.generation())
        chrome.changed()
        versions.changed()
        return before, (chrome.generation(), versions.generation())

    before, after = _in_request(view)
    assert before[0] != after[0] and before[1] != after[1]


def test_settings_saved_during_the_request_are_read_again(db):
    BoardSettings.load_for_display()  # cached

    def view():
        board = BoardSettings.load()
        board.mode = ModerationMode.CLOSED
        board.save()
        return BoardSettings.load_for_display().mode

    assert _in_request(view) == ModerationMode.CLOSED


def test_outside_a_request_and_for_a_post_the_cache_is_asked(db):
    chrome.changed()
    first = chrome.generation()
    chrome.changed()
    assert chrome.generation() != first
    assert request_cache.get(chrome.GENERATION_KEY) == chrome.generation()

    def view():
        return request_cache._found.get()

    assert _in_request(view, "POST") is None  # nothing prefetched: every read goes to the cache
    assert _in_request(view, "GET") is not None
    assert request_cache._found.get() is None  # and nothing left behind after the request
