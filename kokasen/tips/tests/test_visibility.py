"""Who sees what, through HTTP: anonymous, the poster, another member, 管理者 and 受託者,
for posts in every state and for opinions."""

import pytest
from django.urls import reverse

from kokasen.feedback import services as feedback_services
from kokasen.testing import login_member, login_staff
from kokasen.tips import services
from kokasen.tips.models import ModerationMode

from .conftest import set_mode

pytestmark = pytest.mark.django_db

BODIES = {
    "pending": "承認待ちの投稿です",
    "approved": "承認済みの投稿です",
    "rejected": "不承認の投稿です",
    "hidden": "非表示の投稿です",
    "published": "事後確認で公開中の投稿です",
    "withdrawn": "取り下げた投稿です",
}
REJECT_REASON = "お題と関係がないため"


@pytest.fixture
def posts(topic, member_a, agency_admin):
    made = {}
    for state, body in BODIES.items():
        if state == "published":
            set_mode(ModerationMode.POST)
        made[state] = services.post_submit(
            topic=topic, author=member_a, body=body, contact={"contact_email": "tanaka@city.sapporo.example.jp"}
        )
        set_mode(ModerationMode.PRE)
    services.post_approve(post=made["approved"], acting_user=agency_admin)
    services.post_reject(post=made["rejected"], acting_user=agency_admin, reason=REJECT_REASON)
    services.post_hide(post=made["hidden"], acting_user=agency_admin)
    services.post_withdraw(post=made["withdrawn"], acting_user=member_a)
    return made


def page(client, topic):
    response = client.get(reverse("tips:topic", args=[topic.pk]))
    return response, response.content.decode()


def test_anonymous_goes_to_login(client, topic, posts):
    for url in (reverse("tips:index"), reverse("tips:topic", args=[topic.pk]), reverse("feedback:send")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = client.post(reverse("tips:topic", args=[topic.pk]), {"body": "匿名の投稿"})
    assert response.status_code == 302
    assert posts["approved"].topic.posts.count() == len(BODIES)


def test_poster_sees_own_pending_and_rejected_with_the_reason(client, topic, posts, member_a):
    login_member(client, member_a)
    response, html = page(client, topic)
    assert response.status_code == 200
    for state in ("pending", "approved", "rejected", "hidden", "published"):
        assert BODIES[state] in html, state
    assert BODIES["withdrawn"] not in html
    assert REJECT_REASON in html and "承認待ち" in html and "不承認" in html
    # Edit and withdraw links only for posts still waiting.
    assert reverse("tips:post_edit", args=[posts["pending"].pk]) in html
    assert reverse("tips:post_edit", args=[posts["rejected"].pk]) not in html


def test_another_member_sees_only_visible_posts(client, topic, posts, member_b):
    login_member(client, member_b)
    response, html = page(client, topic)
    assert response.status_code == 200
    assert BODIES["approved"] in html and BODIES["published"] in html
    for state in ("pending", "rejected", "hidden", "withdrawn"):
        assert BODIES[state] not in html, state
    assert REJECT_REASON not in html
    assert 'href="mailto:tanaka@city.sapporo.example.jp?subject=' in html
    # Nor can they touch the poster's post.
    assert client.get(reverse("tips:post_edit", args=[posts["pending"].pk])).status_code == 404
    assert client.post(reverse("tips:post_withdraw", args=[posts["pending"].pk])).status_code == 404


@pytest.mark.parametrize("role", ["agency_admin", "operator"])
def test_staff_see_visible_posts_on_the_page_and_everything_in_the_queue(client, topic, posts, role, request):
    login_staff(client, request.getfixturevalue(role))
    response, html = page(client, topic)
    assert response.status_code == 200
    assert BODIES["approved"] in html and BODIES["pending"] not in html
    queue = client.get(reverse("tips_admin:queue") + "?state=all").content.decode()
    for state in BODIES:
        assert BODIES[state] in queue, state
    detail = client.get(reverse("tips_admin:post", args=[posts["rejected"].pk])).content.decode()
    assert REJECT_REASON in detail


def test_members_cannot_open_the_admin_queue(client, posts, member_b):
    login_member(client, member_b)
    response = client.get(reverse("tips_admin:queue"))
    assert response.status_code in (302, 403)
    assert BODIES["pending"] not in response.content.decode()


def test_staff_without_two_factor_are_treated_as_visitors(client, topic, posts, agency_admin):
    client.force_login(agency_admin)  # password step only
    response = client.get(reverse("tips:topic", args=[topic.pk]))
    assert response.status_code == 302
    assert client.get(reverse("feedback_admin:index")).status_code in (302, 403)


def test_scheduled_topic_is_invisible_to_members(client, member_a, agency_admin):
    from datetime import timedelta

    from django.utils import timezone

    from kokasen.tips.models import Topic

    later = Topic.objects.create(title="来月のお題", opens_at=timezone.now() + timedelta(days=30))
    login_member(client, member_a)
    assert client.get(reverse("tips:topic", args=[later.pk])).status_code == 404
    assert "来月のお題" not in client.get(reverse("tips:index")).content.decode()


# --- opinions ---------------------------------------------------------------------------------


@pytest.fixture
def opinion(member_a):
    return feedback_services.opinion_submit(
        author=member_a, body="検索で様式が見つけにくいです。", category="usability"
    )


def test_opinions_are_read_only_by_agency_and_operator(client, opinion, member_a, member_b, agency_admin, operator):
    url = reverse("feedback_admin:detail", args=[opinion.pk])
    index = reverse("feedback_admin:index")
    assert client.get(url).status_code == 302  # anonymous: login
    for member in (member_a, member_b):  # not even the sender reads it back
        client.logout()
        login_member(client, member)
        for target in (
            url,
            index,
            reverse("feedback_admin:index_results"),
            reverse("feedback_admin:index") + "?export=csv",
        ):
            response = client.get(target)
            assert response.status_code in (302, 403)
            assert "様式が見つけにくい" not in response.content.decode("utf-8", "replace")
    for staff in (agency_admin, operator):
        client.logout()
        login_staff(client, staff)
        assert "様式が見つけにくい" in client.get(url).content.decode()
        assert "様式が見つけにくい" in client.get(index).content.decode()


def test_cached_list_follows_every_decision(client, topic, member_a, member_b, agency_admin):
    post = services.post_submit(topic=topic, author=member_a, body="キャッシュの確認用の投稿")
    login_member(client, member_b)
    assert "キャッシュの確認用の投稿" not in page(client, topic)[1]  # the list is now cached
    services.post_approve(post=post, acting_user=agency_admin)
    assert "キャッシュの確認用の投稿" in page(client, topic)[1]
    services.post_hide(post=post, acting_user=agency_admin)
    assert "キャッシュの確認用の投稿" not in page(client, topic)[1]


def test_queries_do_not_grow_with_posts(client, topic, member_a, member_b, agency_admin):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kokasen.tips.models import Post

    def count_queries():
        cache.clear()  # a cold list: the worst case
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("tips:topic", args=[topic.pk]) + "?page=2").status_code == 200
        return len(queries)

    login_member(client, member_b)
    services.post_approve(
        post=services.post_submit(topic=topic, author=member_a, body="一件"), acting_user=agency_admin
    )
    count_queries()  # the first request of a session does a little more (e.g. loads the site)
    few = count_queries()
    first = Post.objects.get()
    Post.objects.bulk_create(
        Post(
            topic=topic,
            author=member_a,
            local_government_id=member_a.local_government_id,
            body=f"投稿{i}",
            state="approved",
            initial_state="pending",
            mode_at_submission="pre",
            contact_email=f"a{i}@example.jp",
        )
        for i in range(120)
    )
    assert first.pk
    assert count_queries() == few


def test_open_topics_reach_the_members_home_hook(topic):
    from wagtail import hooks

    from kokasen.members.models import OPEN_TOPICS_HOOK

    topics = [t for hook in hooks.get_hooks(OPEN_TOPICS_HOOK) for t in hook(None)]
    assert topics == [topic] and topics[0].url == reverse("tips:topic", args=[topic.pk])
