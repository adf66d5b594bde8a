"""The 小ネタ topic page's cached parts (the approved posts' list per page, the form's fields)
with the per-request ones around them (issue 19): two local governments alternating on warm
caches never see each other's pending posts, name or CSRF token, and a decision, a deleted post
or a settings change shows on the very next request."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kokasen.accounts import roles
from kokasen.testing import CODE_A, CODE_B, login_member, make_member, make_staff
from kokasen.tips import services, topic_cache
from kokasen.tips.models import BoardSettings, FieldUse, ModerationMode, Post, PostState, Topic

pytestmark = pytest.mark.django_db


def _post(topic, user, body, state=PostState.APPROVED) -> Post:
    return Post.objects.create(
        topic=topic,
        author=user,
        local_government=user.local_government,
        body=body,
        state=state,
        initial_state=PostState.PENDING,
        mode_at_submission=ModerationMode.PRE,
    )


@pytest.fixture
def setting(demo_site):
    member_a, member_b = make_member(CODE_A), make_member(CODE_B)
    board = BoardSettings.load()
    board.field_local_government = FieldUse.OPTIONAL  # the form's label then names the local government
    board.save()
    topic = Topic.objects.create(title="キャッシュのお題", opens_at=timezone.now() - timedelta(days=1))
    for i in range(25):  # two pages of approved posts
        _post(topic, member_b, f"公開済みの投稿{i:02d}")
    clients = {}
    for name, member in (("a", member_a), ("b", member_b)):
        clients[name] = Client()
        login_member(clients[name], member)
    return topic, member_a, member_b, clients


def _html(client, topic, page=None) -> str:
    response = client.get(f"/members/tips/{topic.pk}/" + (f"?page={page}" if page else ""))
    assert response.status_code == 200
    return response.content.decode()


def _csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_two_local_governments_alternating_see_only_their_own(setting):
    topic, member_a, member_b, clients = setting
    _post(topic, member_a, "Aの承認待ち", PostState.PENDING)
    _post(topic, member_b, "Bの承認待ち", PostState.PENDING)
    name_a, name_b = str(member_a.local_government), str(member_b.local_government)
    tokens = {}
    for persona in ("a", "b", "a", "b", "b", "a"):
        for page in (None, "2"):
            html = _html(clients[persona], topic, page)
            own, other = (name_a, name_b) if persona == "a" else (name_b, name_a)
            assert ("Aの承認待ち" in html) == (persona == "a") and ("Bの承認待ち" in html) == (persona == "b")
            assert f"自治体名（{own}）を表示する" in html and f"自治体名（{other}）" not in html
            assert f"ログイン中の団体：</span>{own}" in html and f"ログイン中の団体：</span>{other}" not in html
            tokens.setdefault(persona, set()).add(_csrf(html))
            if page == "2":
                assert "公開済みの投稿04" in html and "公開済みの投稿24" not in html  # oldest on page 2
            else:
                assert "公開済みの投稿24" in html and "公開済みの投稿04" not in html
    assert not tokens["a"] & tokens["b"]  # each session's own CSRF token, never a cached one


def test_a_decision_shows_on_the_next_request(setting):
    topic, member_a, member_b, clients = setting
    pending = _post(topic, member_a, "承認を待つ投稿", PostState.PENDING)
    staff = make_staff(roles.AGENCY_ADMIN)
    _html(clients["a"], topic), _html(clients["b"], topic)  # warm
    assert "承認を待つ投稿" not in _html(clients["b"], topic)
    services.post_approve(post=pending, acting_user=staff)
    assert "承認を待つ投稿" in _html(clients["b"], topic)
    services.post_hide(post=Post.objects.get(pk=pending.pk), acting_user=staff, reason="確認のため")
    assert "承認を待つ投稿" not in _html(clients["b"], topic)


@pytest.mark.parametrize("how", ["instance", "queryset"])
def test_a_deleted_post_disappears_on_the_next_request(setting, how):
    """Deleted outside the services (a script, a cascade): the signal bumps the topic's version."""
    topic, member_a, member_b, clients = setting
    assert "公開済みの投稿24" in _html(clients["a"], topic)
    post = Post.objects.get(body="公開済みの投稿24")
    if how == "instance":
        post.delete()
    else:
        Post.objects.filter(pk=post.pk).delete()
    html = _html(clients["a"], topic)
    assert "公開済みの投稿24" not in html and "公開済みの投稿23" in html


def test_a_post_edited_outside_the_services_shows_on_the_next_request(setting):
    topic, member_a, member_b, clients = setting
    assert "公開済みの投稿24" in _html(clients["a"], topic)
    post = Post.objects.get(body="公開済みの投稿24")
    post.body = "書き直された投稿"
    post.save()
    html = _html(clients["a"], topic)
    assert "書き直された投稿" in html and "公開済みの投稿24" not in html


def test_a_settings_change_shows_on_the_next_request(setting):
    topic, member_a, member_b, clients = setting
    assert "このお題に投稿する" in _html(clients["a"], topic)
    board = BoardSettings.load()
    board.mode = ModerationMode.CLOSED
    board.save()
    html = _html(clients["a"], topic)
    assert "このお題に投稿する" not in html and "投稿の受付を停止しています" in html
    assert "公開済みの投稿24" in html


# The whole page is cached with holes (kokasen/pages/page_cache.py) and the topic row under the
# topics' generation (kokasen/tips/topic_cache.py): a change to the topic itself, its end by the
# clock and a message to show must all reach the next request.


def test_a_topic_edited_or_closed_shows_on_the_next_request(setting):
    topic, member_a, member_b, clients = setting
    assert "このお題に投稿する" in _html(clients["a"], topic)
    topic.title = "書き直したお題"
    topic.save()
    html = _html(clients["a"], topic)
    assert "書き直したお題" in html and "キャッシュのお題" not in html
    services.topic_close(topic=topic, acting_user=make_staff(roles.AGENCY_ADMIN))
    html = _html(clients["a"], topic)
    assert "このお題に投稿する" not in html and "このお題の受付は終了しました。" in html


@pytest.mark.parametrize("board_open", [True, False])
def test_a_topic_ends_by_the_clock_without_any_write(setting, board_open):
    """With the board open the form goes; with it closed only the topic's status shows the end."""
    from unittest import mock

    topic, member_a, member_b, clients = setting
    if not board_open:
        board = BoardSettings.load()
        board.mode = ModerationMode.CLOSED
        board.save()
    Topic.objects.filter(pk=topic.pk).update(closes_at=timezone.now() + timedelta(hours=1))  # no signal
    topic_cache.GENERATION.replace()
    html = _html(clients["a"], topic)
    assert 'data-status="open"' in html and ("このお題に投稿する" in html) == board_open
    later = timezone.now() + timedelta(hours=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        html = _html(clients["a"], topic)
        assert 'data-status="closed"' in html and "このお題に投稿する" not in html
        members_home = clients["a"].get("/members/").content.decode()
        assert "現在、受付中のお題はありません。" in members_home


def test_a_message_is_shown_once_and_never_cached(setting):
    topic, member_a, member_b, clients = setting
    _html(clients["a"], topic), _html(clients["b"], topic)  # warm
    response = clients["a"].post(
        f"/members/tips/{topic.pk}/",
        {
            "body": "キャッシュの試験の投稿",
            "contact_email": "a@example.jp",
            "csrfmiddlewaretoken": _csrf(_html(clients["a"], topic)),
        },
        follow=True,
    )
    html = response.content.decode()
    assert "投稿を受け付けました" in html or "投稿を公開しました" in html
    assert "投稿を受け付けました" not in _html(clients["a"], topic)  # shown once
    assert "投稿を受け付けました" not in _html(clients["b"], topic)  # never another's


def test_one_token_per_response_that_a_form_accepts(setting):
    """One masked CSRF token per response (core.context_processors.csrf): the same in the post
    form, the logout form and the login's end warning, filled into the cached page and valid."""
    topic, member_a, member_b, clients = setting
    clients["a"].handler.enforce_csrf_checks = True
    _html(clients["a"], topic)  # warm
    html = _html(clients["a"], topic)
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))
    assert html.count('name="csrfmiddlewaretoken"') >= 3 and len(tokens) == 1
    response = clients["a"].post("/session/", {"csrfmiddlewaretoken": tokens.pop()})
    assert response.status_code == 200


def test_the_cached_page_holds_nothing_of_a_visitor(setting):
    from kokasen.core import caching
    from kokasen.pages import page_cache

    topic, member_a, member_b, clients = setting
    _post(topic, member_a, "Aの承認待ち", PostState.PENDING)
    html = _html(clients["a"], topic)
    cached = [value.decode() for key, (_, value) in caching._local.items() if key.startswith(page_cache.KEY_PREFIX)]
    assert cached, "the topic page was not cached"
    for page in cached:
        assert str(member_a.local_government) not in page  # header and form labels are holes
        assert "Aの承認待ち" not in page and _csrf(html) not in page


def test_the_shared_copy_carries_a_csrf_marker_every_worker_knows(setting):
    """The cached copy goes through Redis to the other gunicorn workers: its CSRF marker must be
    the one another process fills in (the same secret key), or their forms would post a marker."""
    import os
    import subprocess
    import sys

    from django.core.cache import cache

    from kokasen.core import caching
    from kokasen.pages import page_cache

    topic, member_a, member_b, clients = setting
    _html(clients["a"], topic)
    keys = [key for key in caching._local if key.startswith(page_cache.KEY_PREFIX)]
    assert keys and all(page_cache.csrf_marker().encode() in cache.get(key) for key in keys)
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from kokasen.pages import page_cache as p; print(p.csrf_marker())",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "kokasen.settings.test"},
    )
    assert other.stdout.strip() == page_cache.csrf_marker()
    caching.clear_local()  # this worker forgets its copy: the next answer comes from the shared one
    html = _html(clients["a"], topic)
    assert (
        page_cache.csrf_marker() not in html
        and len(set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))) == 1
    )
