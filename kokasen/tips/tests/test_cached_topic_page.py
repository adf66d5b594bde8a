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
from kokasen.tips import services
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
