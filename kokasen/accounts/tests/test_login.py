"""The one login page (統一基準): local governments log in with code + password, every
attempt is audited, logout is POST only, the header offers login/logout on the live site only."""

import pytest
from django.contrib.auth import get_user_model

from kokasen.accounts import roles
from kokasen.pages import rendering
from kokasen.testing import CODE_A, CODE_B, login_member, make_member, make_staff

from .login_helpers import PASSWORD, clean_cache, events, is_logged_in, login  # noqa: F401

pytestmark = pytest.mark.django_db

WRONG = "ユーザーIDまたはパスワードが正しくありません。"


def test_the_login_page_has_the_two_fields_and_the_button(client):
    html = client.get("/login/").content.decode()
    assert 'name="username"' in html and 'autocomplete="username"' in html
    assert 'name="password"' in html and 'autocomplete="current-password"' in html
    assert "ユーザーID（団体コード6桁、または職員のユーザー名）" in html
    assert '<button class="app-form__button" type="submit">ログイン</button>' in html
    assert 'aria-describedby="id_username-hint"' in html


def test_a_local_government_logs_in_with_code_and_password_and_lands_on_members(client):
    user = make_member(CODE_A, password=PASSWORD)
    response = login(client, CODE_A, PASSWORD, address="198.51.100.7")
    assert response.status_code == 302 and response["Location"] == "/members/"
    assert client.session["_auth_user_id"] == str(user.pk)
    event = events("login.succeeded").get()
    assert event.target_label == CODE_A and event.target_id == str(user.pk) and event.actor == user
    assert event.ip_address == "198.51.100.7" and event.detail["result"] == "succeeded"
    assert event.detail["method"] == "password" and event.created_at is not None


def test_a_code_typed_in_full_width_digits_works(client):
    make_member(CODE_A, password=PASSWORD)
    assert login(client, "０１１００２ ", PASSWORD).status_code == 302
    assert events("login.succeeded").get().detail["typed"] == "０１１００２ "


def test_a_wrong_password_shows_a_japanese_error_and_is_audited(client):
    user = make_member(CODE_A, password=PASSWORD)
    response = login(client, CODE_A, "not-the-password", address="198.51.100.8")
    html = response.content.decode()
    assert response.status_code == 200 and WRONG in html
    assert 'class="app-error-summary" role="alert"' in html
    assert not is_logged_in(client)
    event = events("login.failed").get()
    assert (event.target_label, event.target_id, event.ip_address) == (CODE_A, str(user.pk), "198.51.100.8")
    assert event.detail["result"] == "failed" and event.actor is None
    assert "not-the-password" not in str(event.detail)


def test_an_unknown_code_gets_the_same_answer_and_is_audited_without_a_user(client):
    make_member(CODE_A, password=PASSWORD)
    known = login(client, CODE_A, "wrong-one").content.decode()
    unknown = login(client, "999999", "wrong-one").content.decode()
    assert WRONG in unknown
    assert known.replace(CODE_A, "X").count(WRONG) == unknown.replace("999999", "X").count(WRONG)
    event = events("login.failed", target_label="999999").get()
    assert event.target_id == "" and event.detail["username"] == "999999"


def test_a_disabled_account_gets_the_same_answer_as_a_wrong_password(client):
    user = make_member(CODE_A, password=PASSWORD)
    user.is_active = False
    user.save()
    response = login(client, CODE_A, PASSWORD)
    assert response.status_code == 200 and WRONG in response.content.decode()
    assert not is_logged_in(client)
    assert events("login.failed", target_label=CODE_A).count() == 1


def test_empty_fields_get_japanese_messages_linked_from_the_summary(client):
    html = client.post("/login/", {"username": "", "password": ""}).content.decode()
    assert "ユーザーIDを入力してください。" in html and "パスワードを入力してください。" in html
    assert 'href="#id_username"' in html and 'aria-invalid="true"' in html


@pytest.mark.parametrize(
    "next_url, expected",
    [
        ("/members/archive/", "/members/archive/"),
        ("/search/?q=%E7%A0%94%E4%BF%AE", "/search/?q=%E7%A0%94%E4%BF%AE"),
        ("https://evil.example/phish", "/members/"),
        ("//evil.example/", "/members/"),
        ("javascript:alert(1)", "/members/"),
    ],
)
def test_next_is_honoured_only_for_same_host_urls(client, next_url, expected):
    make_member(CODE_A, password=PASSWORD)
    response = login(client, CODE_A, PASSWORD, next=next_url)
    assert response.status_code == 302 and response["Location"] == expected


def test_the_login_page_carries_a_safe_next_in_the_form(client):
    assert 'name="next" value="/members/x/"' in client.get("/login/?next=/members/x/").content.decode()
    assert "evil.example" not in client.get("/login/?next=https://evil.example/").content.decode()


def test_logout_is_post_only_and_ends_the_session(client):
    user = make_member(CODE_A, password=PASSWORD)
    login(client, CODE_A, PASSWORD)
    assert client.get("/logout/").status_code == 405
    assert is_logged_in(client)
    response = client.post("/logout/")
    assert response.status_code == 200 and "ログアウトしました" in response.content.decode()
    assert not is_logged_in(client)
    assert events("logout").get().actor == user


def test_the_admins_own_login_pages_redirect_to_ours_keeping_next(client):
    for path in ("/admin/login/", "/django-admin/login/"):
        response = client.get(f"{path}?next=/admin/pages/")
        assert response.status_code == 302 and response["Location"] == "/login/?next=%2Fadmin%2Fpages%2F"
        assert client.get(f"{path}?next=https://evil.example/")["Location"] == "/login/"


def test_posting_a_password_to_the_admin_login_logs_nobody_in(client):
    staff = make_staff(roles.AGENCY_ADMIN, password=PASSWORD)
    for path in ("/admin/login/", "/django-admin/login/"):
        response = client.post(path, {"username": staff.username, "password": PASSWORD}, REMOTE_ADDR="198.51.100.9")
        # A body sent to an admin without a verified staff session is refused unread (decision 0021).
        assert response.status_code == 403 and "/login/?next=" in response.content.decode()
        assert not is_logged_in(client)
    assert not events("login.succeeded").exists()


def test_wagtails_front_end_login_is_no_way_in_either(client):
    """Defect fixed with decision 0026: Wagtail's own front-end login form (/_util/login/, a
    plain Django LoginView) logged a local government in with the password alone, without the
    login defences: 12 wrong passwords in a row were neither refused nor audited, then the
    right one logged in. It now sends everyone to /login/ like the admins' login pages."""
    make_member(CODE_A, password=PASSWORD)
    response = client.get("/_util/login/?next=/members/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=%2Fmembers%2F"
    for _ in range(12):
        client.post("/_util/login/", {"username": CODE_A, "password": "wrong password"})
    response = client.post("/_util/login/", {"username": CODE_A, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert not is_logged_in(client)
    assert not events("login.succeeded").exists()


# --- the header -------------------------------------------------------------------------------


def test_the_header_offers_login_to_visitors_and_logout_to_members(client):
    html = client.get("/login/").content.decode()
    assert 'href="/login/">ログイン</a>' in html and "ログアウト</button>" not in html
    login_member(client, make_member(CODE_A))
    html = client.get("/login/").content.decode()
    assert 'href="/members/">会員エリア</a>' in html
    assert '<form class="app-account-nav__form" method="post" action="/logout/">' in html
    assert 'href="/login/">ログイン</a>' not in html


def test_one_users_header_is_never_served_to_another(client, django_user_model):
    from django.test import Client

    login_member(client, make_member(CODE_A))
    other = Client()
    login_member(other, make_member(CODE_B))
    anonymous = Client()
    for _ in range(2):
        assert "ログアウト</button>" in client.get("/search/").content.decode()
        assert "ログアウト</button>" not in anonymous.get("/search/").content.decode()
        html = other.get("/login/").content.decode()
        assert f"現在「{CODE_B}」でログインしています" in html and f"「{CODE_A}」" not in html


def test_the_static_export_header_has_no_login_or_logout(client):
    login_member(client, make_member(CODE_A))
    with rendering.rendering(rendering.RenderMode(static_export=True)):
        html = client.get("/search/").content.decode()
    assert "app-header" in html
    assert "/login/" not in html and "ログアウト" not in html and "会員エリア" not in html
    assert 'data-account="true"' not in html


def test_staff_accounts_are_users_too(client):
    # Sanity check of the personas used in these tests.
    assert get_user_model().objects.count() == 0
    make_staff(roles.OPERATOR)
    assert get_user_model().objects.filter(groups__name=roles.OPERATOR).count() == 1


def test_no_exported_page_has_account_links(exports):
    for folder in exports.values():
        for html_file in folder.rglob("*.html"):
            html = html_file.read_text(encoding="utf-8")
            assert "app-account-nav" not in html and "ログアウト" not in html, html_file
            assert "login/" not in html and "会員エリア" not in html, html_file
