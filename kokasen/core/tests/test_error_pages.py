"""The portal's own error pages (docs/decisions/0018-error-pages.md): Japanese, in the portal's
design, with a way back, the right status code, and nothing Django prints by default."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from kokasen.pages.models import PolicyPage
from kokasen.testing import login_member, make_member

# What Django's own pages say (django/views/defaults.py, django/views/csrf.py).
DJANGO_DEFAULTS = (
    "Not Found",
    "Forbidden",
    "Bad Request",
    "Server Error",
    "CSRF verification failed",
    "DEBUG",
    "Request aborted",
    "was not found on this server",
)


def assert_portal_error_page(response, status, heading):
    assert response.status_code == status
    html = response.content.decode()
    assert '<html lang="ja"' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert re.search(rf'<h1 class="app-page-header__title">\s*{heading}\s*</h1>', html), html
    assert f"<title>{heading}｜こども家庭センターポータル</title>" in html
    assert 'class="app-header"' in html and 'class="app-footer"' in html
    assert 'href="/">トップページへ戻る</a>' in html
    assert '<meta name="robots" content="noindex">' in html
    for text in DJANGO_DEFAULTS:
        assert text not in html, text
    # The strict CSP holds: no inline script or style.
    assert "<style" not in html and "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    return html


@pytest.mark.django_db
def test_unknown_page_gets_the_japanese_404(client, demo_site):
    html = assert_portal_error_page(client.get("/no-such-page/"), 404, "ページが見つかりません")
    assert 'class="app-global-nav"' in html  # the full header with the menus
    assert "サイトマップ" in html and 'href="/search/"' in html


@pytest.mark.django_db
def test_a_404_says_the_same_for_members_paths_and_does_not_echo_the_address(client, demo_site):
    public = client.get("/no-such-page/")
    members = client.get("/members/no-such-page/")
    document = client.get("/documents/999999/secret-handout.pdf")
    assert public.status_code == members.status_code == document.status_code == 404
    assert members.content == public.content == document.content
    assert b"no-such-page" not in members.content and b"secret-handout" not in document.content


@pytest.mark.django_db
def test_a_member_gets_the_same_404_for_a_missing_members_page(client, demo_site):
    login_member(client, make_member())
    html = assert_portal_error_page(client.get("/members/no-such-page/"), 404, "ページが見つかりません")
    assert "会員エリア" in html  # the header's account links, as on every page


@pytest.mark.django_db
def test_permission_denied_gets_the_japanese_403(client, demo_site):
    # A logged-in account without a local government may not open /account/ (PermissionDenied).
    user = get_user_model().objects.create_user("no-role-user", password="x" * 16)
    client.force_login(user)
    html = assert_portal_error_page(client.get("/account/"), 403, "このページを表示する権限がありません")
    contact = PolicyPage.objects.get(kind="contact").url  # the お問い合わせ page (decision 0044)
    assert f'<a href="{contact}">こども家庭センターポータル運営事務局</a>にお問い合わせください' in html


@pytest.mark.django_db
def test_a_bad_host_gets_the_japanese_400_without_touching_the_request_host(client):
    response = client.get("/", HTTP_HOST="attacker.example")
    html = assert_portal_error_page(response, 400, "ページを表示できませんでした")
    assert "attacker.example" not in html


@pytest.mark.django_db
def test_a_request_with_the_wrong_method_gets_the_japanese_405(client, demo_site):
    response = client.get("/logout/")  # logging out is a POST; a bookmark of /logout/ is a GET
    assert_portal_error_page(response, 405, "この操作は受け付けられません")
    assert response["Allow"] == "POST, OPTIONS"


@pytest.mark.django_db
def test_a_post_to_a_document_gets_the_japanese_405(client, demo_site):
    from wagtail.documents import get_document_model

    document = get_document_model().objects.first()
    response = client.post(document.url)
    assert_portal_error_page(response, 405, "この操作は受け付けられません")
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db
@pytest.mark.parametrize("csrf_checks", [False, True], ids=["read-by-the-view", "read-by-the-csrf-check"])
def test_an_oversized_form_body_gets_the_japanese_413(demo_site, settings, csrf_checks):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = Client(enforce_csrf_checks=csrf_checks)
    client.get("/login/")  # the form page sets the CSRF cookie, as in a browser
    response = client.post("/login/", {"username": "011002", "password": "x" * 4096})
    html = assert_portal_error_page(response, 413, "送信された内容が大きすぎます")
    assert "何も保存されていません" in html and 'href="/login/">入力画面に戻る</a>' in html


@pytest.mark.django_db
def test_a_post_without_a_csrf_token_gets_the_japanese_csrf_page(demo_site):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "011002", "password": "wrong-password-1234"})
    html = assert_portal_error_page(response, 403, "画面の有効期限が切れました")
    assert "何も保存されていません" in html
    assert 'href="/login/">ログインページを開き直す</a>' in html
    assert "CSRF" not in html and "Referer" not in html


@pytest.mark.django_db
def test_the_csrf_page_replaces_the_developer_page_also_with_debug_on(demo_site, settings):
    settings.DEBUG = True
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "011002", "password": "wrong-password-1234"})
    assert_portal_error_page(response, 403, "画面の有効期限が切れました")


@pytest.fixture
def broken_database_and_cache(monkeypatch, settings):
    """Every database connection attempt fails, and the shared cache is a Redis server that
    is not there: the state in which the 500 page matters most."""
    attempts = []

    def refuse(self, *args, **kwargs):
        attempts.append(self.alias)
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)
    settings.CACHES = {
        "default": {"BACKEND": "kokasen.core.redis_cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    settings.DEBUG = False
    return attempts


def test_the_500_page_renders_without_database_or_cache(broken_database_and_cache):
    client = Client(raise_request_exception=False)
    response = client.get("/")
    html = assert_portal_error_page(response, 500, "ただいまページを表示できません")
    assert 'href="/static/css/portal.css"' in html
    assert "運営事務局（このサイトの「お問い合わせ」のページに連絡先があります）" in html  # no database: no link


def test_a_404_whose_full_page_cannot_be_rendered_falls_back_to_the_plain_one(broken_database_and_cache):
    from django.contrib.auth.models import AnonymousUser
    from django.http import Http404
    from django.test import RequestFactory

    from kokasen.core import errors

    request = RequestFactory().get("/no-such-page/")
    request.user = AnonymousUser()
    response = errors.page_not_found(request, Http404())
    assert response.status_code == 404
    html = response.content.decode()
    assert '<h1 class="app-page-header__title">ページが見つかりません</h1>' in html
    assert 'class="app-global-nav"' not in html  # the menus needed the database


def test_the_500_page_renders_after_a_database_error_in_a_view(broken_database_and_cache, settings):
    """With the cache up, the request gets as far as a view that queries (the login checks
    the lockout records) and fails there."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    client = Client(raise_request_exception=False)
    response = client.post("/login/", {"username": "011002", "password": "wrong-password-1234"})
    assert broken_database_and_cache, "the view was expected to reach the database"
    assert_portal_error_page(response, 500, "ただいまページを表示できません")


@pytest.mark.django_db
def test_the_login_429_pages_offer_a_way_back(client, demo_site, settings):
    from kokasen.accounts.tests.login_helpers import login

    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 2
    for _ in range(3):
        response = login(client, "011002", "wrong-password-1234")
    html = assert_portal_error_page(response, 429, "ログインを一時的に制限しています")
    assert 'href="/login/">ログインページに戻る</a>' in html
