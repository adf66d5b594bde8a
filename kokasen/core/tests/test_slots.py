"""Fragments rendered once per process with slots filled per request (core/slots.py), and the
static storage's remembered URLs (core/static_storage.py)."""

from unittest import mock

from django.contrib.staticfiles.storage import StaticFilesStorage as DjangoStorage

from kokasen.core import slots
from kokasen.core.static_storage import StaticFilesStorage


def test_a_fragment_is_rendered_once_per_key_and_its_values_are_escaped():
    fragment = slots.Fragment("navigation/account_links.html", ("csrf_token",))
    user = mock.Mock(is_authenticated=True, local_government_id=7, local_government="テスト市")
    with mock.patch("kokasen.core.slots.render_to_string", wraps=slots.render_to_string) as render:
        first = fragment.fill((True, 7, "テスト市"), {"user": user}, {"csrf_token": "token-1"})
        second = fragment.fill((True, 7, "テスト市"), {"user": user}, {"csrf_token": '"><script>x</script>'})
    assert render.call_count == 1
    assert 'value="token-1"' in first and "テスト市" in first
    assert "<script>" not in second and "&quot;&gt;&lt;script&gt;" in second
    assert "kokasen-slot-" not in first + second


def test_the_static_storage_gives_djangos_urls_once_worked_out():
    ours, django = StaticFilesStorage(), DjangoStorage()
    for name in ("css/portal.css", "js/早い.js", "img/a b.svg"):
        assert ours.url(name) == django.url(name)
    expected = ours.url("css/portal.css")
    with mock.patch.object(DjangoStorage, "url", side_effect=AssertionError("asked again")):
        assert ours.url("css/portal.css") == expected
