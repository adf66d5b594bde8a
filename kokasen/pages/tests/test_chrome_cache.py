"""The live site's header and footer come from the chrome cache (kokasen/pages/chrome.py):
changes show on the next request, and the per-visitor account links are never shared."""

import re

import pytest
from wagtail.models import Site

from kokasen.pages.models import HomePage, PortalSettings
from kokasen.testing import login_member, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(demo_site):
    return HomePage.objects.get()


def html(client, url="/news/"):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_settings_changes_show_on_the_next_request(client, home):
    assert 'data-design="standard"' in html(client)
    settings = PortalSettings.for_site(Site.objects.get(is_default_site=True))
    settings.design = "warm"
    settings.footer_text = "お問い合わせ：こども家庭庁 支援局"
    settings.save()
    page = html(client)
    assert 'data-design="warm"' in page
    assert "お問い合わせ：こども家庭庁 支援局" in page


def test_a_cached_header_shows_each_visitor_their_own_account_links(client, home):
    anonymous = html(client)  # fills the cache for this page
    assert "ログイン</a>" in anonymous and "ログアウト" not in anonymous
    member = make_member()
    login_member(client, member)
    page = html(client)
    assert "ログアウト" in page and "ログイン</a>" not in page
    token = re.search(r'action="/logout/">\s*<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, "the logout form carries this visitor's CSRF token"
    client.logout()
    assert "ログアウト" not in html(client)


def test_a_moved_page_is_marked_under_its_new_menu(client, home):
    sections = list(home.get_children().live().in_menu().specific()[:2])
    article = sections[0].get_children().live().first()
    assert current_menus(html(client, article.url)) == [sections[0].url]  # cached with this marking
    article.move(sections[1], pos="last-child")
    article.refresh_from_db()
    assert current_menus(html(client, article.url)) == [sections[1].url]


def current_menus(page: str) -> list[str]:
    return re.findall(r'data-current="true">\s*<div[^>]*>\s*<a class="app-global-nav__link" href="([^"]+)"', page)
