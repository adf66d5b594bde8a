"""Every public page type says what it is in <meta name="description"> (search engines and
link previews show it): home and search had none (issue 18)."""

import re

import pytest

from kokasen.pages.models import HomePage

pytestmark = pytest.mark.django_db

DESCRIPTION = re.compile(r'<meta name="description" content="([^"]*)">')


def description(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    found = DESCRIPTION.findall(response.content.decode())
    assert len(found) == 1, f"{url}: {len(found)} meta descriptions"
    return found[0]


def test_home_describes_itself_from_its_lead_and_the_editable_search_description_wins(client, demo_site):
    home = HomePage.objects.get()
    assert not home.search_description and not home.summary  # the demo sets neither
    assert description(client, "/") == home.lead

    home.search_description = "市区町村の職員向けに、こども家庭センターの情報をまとめています。"
    home.save_revision().publish()
    assert description(client, "/") == home.search_description


@pytest.mark.parametrize("url", ["/search/", "/search/?q=研修"])
def test_search_page_has_a_description(client, demo_site, url):
    assert "検索" in description(client, url)
