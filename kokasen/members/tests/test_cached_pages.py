"""The members' pages near the framework's floor (issue 19): cached access facts, routes,
restrictions and bodies, and what must hold whatever is cached.

- a change of an account (disabled, removed from its group, new password) counts on its next
  request, and no request reads the account's groups or permissions again while they are current;
- the number of queries of a page does not grow with posts, documents or users;
- cached bodies never carry one local government's view to another (personas, alternating, warm
  caches), and a publish, an unpublish or a restriction change shows at once.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.documents import get_document_model
from wagtail.models import Page, PageViewRestriction

from kokasen.accounts import roles
from kokasen.core import caching
from kokasen.localgov.models import LocalGovernment
from kokasen.members.models import FormEntry, FormsLibraryPage, MembersHomePage, RoundtableIndexPage, RoundtablePage
from kokasen.members.services import members_collection
from kokasen.testing import CODE_A, CODE_B, login_member, login_staff, make_member, make_staff
from kokasen.tips.models import ModerationMode, Post, PostState, Topic

pytestmark = pytest.mark.django_db


def _client_for(user, *, staff=False) -> Client:
    client = Client()
    (login_staff if staff else login_member)(client, user)
    return client


def _queries(client, url) -> list[str]:
    """The page's queries, less the analytics' page-view upsert after the response (its own
    transaction: BEGIN, INSERT, COMMIT on SQLite)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    skipped = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")
    return [q["sql"] for q in queries if "analytics_" not in q["sql"] and not q["sql"].startswith(skipped)]


def _cold():
    cache.clear()
    caching.clear_local()


def _topic(posts: int, author) -> Topic:
    topic = Topic.objects.create(title="キャッシュ確認のお題", opens_at=timezone.now() - timedelta(days=1))
    _add_posts(topic, posts, author)
    return topic


def _add_posts(topic, count, author):
    governments = list(LocalGovernment.objects.order_by("code")[:50])
    Post.objects.bulk_create(
        Post(
            topic=topic,
            author=author,
            local_government=governments[i % len(governments)],
            body=f"公開された投稿{i}",
            state=PostState.APPROVED,
            initial_state=PostState.PENDING,
            mode_at_submission=ModerationMode.PRE,
        )
        for i in range(count)
    )


def _pending(topic, user, body) -> Post:
    return Post.objects.create(
        topic=topic,
        author=user,
        local_government=user.local_government,
        body=body,
        state=PostState.PENDING,
        initial_state=PostState.PENDING,
        mode_at_submission=ModerationMode.PRE,
    )


# --- the access facts --------------------------------------------------------------------------


def test_a_warm_request_reads_nothing_of_the_account(demo_site):
    member = make_member(CODE_A)
    client = _client_for(member)
    for url in ("/members/", f"/members/tips/{_topic(3, member).pk}/", RoundtableIndexPage.objects.get().url):
        client.get(url)
        sql = " ".join(_queries(client, url))
        assert 'FROM "accounts_user"' not in sql, url  # the session's user row is kept beside it (decision 0069)
        assert "auth_group" not in sql and "auth_permission" not in sql, url
        assert 'FROM "localgov_localgovernment"' not in sql, url  # the header's name comes with the facts


@pytest.mark.parametrize(
    "change",
    ["disabled", "disabled_by_update", "removed_from_group", "group_cleared_from_its_side", "new_password"],
)
def test_an_account_change_counts_on_the_next_request(demo_site, change):
    member = make_member(CODE_A)
    client = _client_for(member)
    for _ in range(2):  # warm every cache
        assert client.get("/members/").status_code == 200
    group = Group.objects.get(name=roles.MEMBER)
    if change == "disabled":
        member.is_active = False
        member.save()
    elif change == "disabled_by_update":  # Wagtail's bulk 利用停止: a queryset update, no signal
        type(member).objects.filter(pk__in=[member.pk]).update(is_active=False)
    elif change == "removed_from_group":
        member.groups.remove(group)
    elif change == "group_cleared_from_its_side":
        group.user_set.remove(member)
    else:
        member.set_password("a-new-password-123")
        member.save()
    response = client.get("/members/")
    assert response.status_code in (302, 403), change
    assert "会員の皆さまへ" not in response.content.decode()
    if change in ("disabled", "new_password"):
        assert response["Location"].startswith("/login/")


def test_a_role_granted_counts_on_the_next_request(demo_site):
    """A member made 受託者 is asked for the TOTP step from its next request (it could enter an admin)."""
    member = make_member(CODE_A)
    client = _client_for(member)
    assert client.get("/members/").status_code == 200
    member.groups.add(Group.objects.get(name=roles.OPERATOR))
    assert client.get("/members/").status_code == 302


def test_a_new_registered_address_is_the_forms_default_on_the_next_request(demo_site):
    from kokasen.accounts.models import RegisteredAddress

    member = make_member(CODE_A)
    address = RegisteredAddress.objects.create(user=member, address="first@city.example.lg.jp")
    client = _client_for(member)
    url = f"/members/tips/{_topic(1, member).pk}/"
    assert "first@city.example.lg.jp" in client.get(url).content.decode()
    address.address = "second@city.example.lg.jp"
    address.save()
    html = client.get(url).content.decode()
    assert "second@city.example.lg.jp" in html and "first@city.example.lg.jp" not in html


# --- queries do not grow -----------------------------------------------------------------------


def _counts(client, url) -> tuple[int, int]:
    """(cold, warm) query counts: every cache empty, then the next request."""
    _cold()
    client.get(url)  # the session itself comes back from the database once
    _cold()
    cold = len(_queries(client, url))
    warm = len(_queries(client, url))
    return cold, warm


def test_topic_page_queries_do_not_grow_with_posts(demo_site):
    member, author = make_member(CODE_A), make_member(CODE_B)
    client = _client_for(member)
    few, many = _topic(10, author), _topic(200, author)
    for topic in (few, many):
        _pending(topic, member, "自分の承認待ち")
    assert _counts(client, f"/members/tips/{few.pk}/?page=1") == _counts(client, f"/members/tips/{many.pk}/?page=1")
    assert _counts(client, f"/members/tips/{few.pk}/") == _counts(client, f"/members/tips/{many.pk}/?page=10")


def _add_form_entries(count):
    library = FormsLibraryPage.objects.get()
    collection = members_collection()
    Document = get_document_model()
    for i in range(count):
        document = Document.objects.create(
            title=f"様式{i}", file=ContentFile(b"%PDF-1.4 test", name=f"form-{i}.pdf"), collection=collection
        )
        FormEntry.objects.create(page=library, title=f"様式{i}", document=document, second_document=document)


def test_members_pages_queries_do_not_grow_with_documents(demo_site):
    client = _client_for(make_member(CODE_A))
    urls = ("/members/", FormsLibraryPage.objects.get().url, RoundtableIndexPage.objects.get().url)
    _add_form_entries(3)
    few = {url: _counts(client, url) for url in urls}
    _add_form_entries(47)
    many = {url: _counts(client, url) for url in urls}
    assert few == many
    assert all(warm <= 2 for _, warm in many.values()), many  # the session's user; the open topics (home)


def test_members_pages_queries_do_not_grow_with_users(demo_site):
    member = make_member(CODE_A)
    client = _client_for(member)
    urls = ("/members/", RoundtablePage.objects.get(slug="roundtable-01").url, f"/members/tips/{_topic(5, member).pk}/")
    codes = list(
        LocalGovernment.objects.exclude(code__in=(CODE_A, CODE_B)).order_by("code").values_list("code", flat=True)
    )
    make_member(codes[0])
    few = {url: _counts(client, url) for url in urls}
    for code in codes[1:39]:
        make_member(code)
    many = {url: _counts(client, url) for url in urls}
    assert few == many


# --- personas: nothing of one local government reaches another -------------------------------


def test_cached_bodies_never_leak_between_local_governments(demo_site):
    member_a, member_b = make_member(CODE_A), make_member(CODE_B)
    staff = make_staff(roles.OPERATOR)
    name_a, name_b = str(member_a.local_government), str(member_b.local_government)
    topic = _topic(30, member_b)
    _pending(topic, member_a, "Aの承認待ちの投稿")
    _pending(topic, member_b, "Bの承認待ちの投稿")
    clients = {
        "a": _client_for(member_a),
        "b": _client_for(member_b),
        "staff": _client_for(staff, staff=True),
        "visitor": Client(),
    }
    urls = ("/members/", f"/members/tips/{topic.pk}/", RoundtableIndexPage.objects.get().url, "/members/forms/")
    for persona in ("a", "b", "staff", "visitor", "b", "a", "staff", "a", "b"):  # alternating, caches warm
        for url in urls:
            response = clients[persona].get(url)
            if persona == "visitor":
                assert response.status_code == 302 and response["Location"].startswith("/login/"), url
                continue
            html = response.content.decode()
            assert response.status_code == 200, (persona, url)
            assert "private" in response["Cache-Control"]
            own = {"a": name_a, "b": name_b}.get(persona)
            for other in {name_a, name_b} - {own}:
                assert f"ログイン中の団体：</span>{other}" not in html, (persona, url)
            if own:
                assert f"ログイン中の団体：</span>{own}" in html, (persona, url)
            # the members' menu is cached per kind of reader: only members have 「アカウント情報」 there
            menu_link = f'class="app-members-nav__link" href="{reverse("accounts:profile")}"'
            assert (menu_link in html) == (persona != "staff"), (persona, url)
            if url.startswith("/members/tips/"):
                assert ("Aの承認待ちの投稿" in html) == (persona == "a"), (persona, url)
                assert ("Bの承認待ちの投稿" in html) == (persona == "b"), (persona, url)


def test_a_publish_an_unpublish_and_a_restriction_change_show_at_once(demo_site):
    member = make_member(CODE_A)
    staff = make_staff(roles.AGENCY_ADMIN)
    client, staff_client = _client_for(member), _client_for(staff, staff=True)
    home = MembersHomePage.objects.get()
    index = RoundtableIndexPage.objects.get()
    roundtable = RoundtablePage.objects.get(slug="roundtable-01")
    for _ in range(2):
        for url in ("/members/", index.url, roundtable.url):
            assert client.get(url).status_code == 200

    home.lead = "公開したばかりのリード文です"
    home.save_revision().publish()
    assert "公開したばかりのリード文です" in client.get("/members/").content.decode()

    link = f'href="{roundtable.url}"'
    assert link in client.get(index.url).content.decode()
    roundtable.unpublish()
    assert link not in client.get(index.url).content.decode()
    assert client.get(roundtable.url).status_code == 404

    restriction = PageViewRestriction.objects.create(page=Page.objects.get(pk=index.pk), restriction_type="groups")
    restriction.groups.set([Group.objects.get(name=roles.AGENCY_ADMIN)])
    response = client.get(index.url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert staff_client.get(index.url).status_code == 200
    restriction.delete()
    assert client.get(index.url).status_code == 200


def test_a_saved_draft_does_not_reach_the_cached_body(demo_site):
    """A new revision (not published) replaces the version, yet the body shows the live page."""
    member = make_member(CODE_A)
    client = _client_for(member)
    assert client.get("/members/").status_code == 200
    home = MembersHomePage.objects.get()
    home.lead = "下書きのリード文"
    home.save_revision()  # a draft, not published
    assert "下書きのリード文" not in client.get("/members/").content.decode()


def test_the_password_prompt_and_the_warning_are_each_visitors_own(demo_site):
    """The page around the body is cached too (pages/page_cache.py): the password prompt (an
    account with the mailed password), the login's end warning and the CSRF token are filled in
    per request, alternating on warm caches."""
    member_a, member_b = make_member(CODE_A), make_member(CODE_B)
    type(member_a).objects.filter(pk=member_a.pk).update(password_issued=True)
    clients = {"a": _client_for(member_a), "b": _client_for(member_b)}
    tokens = {}
    for persona in ("a", "b", "a", "b"):
        html = clients[persona].get("/members/").content.decode()
        assert ("貴団体で決めたものに変更してください" in html) == (persona == "a"), persona
        assert 'id="session-timeout"' in html and 'data-state-url="/session/"' in html
        tokens.setdefault(persona, set()).update(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))
    assert tokens["a"] and tokens["b"] and not tokens["a"] & tokens["b"]
