"""The live public portal: page types, navigation, search, feed and settings."""

import xml.etree.ElementTree as ET

import pytest
from django.core.exceptions import ValidationError
from wagtail.models import PageViewRestriction, Site

from kokasen.accounts import roles
from kokasen.pages.blocks import BodyBlock, LinkItemBlock
from kokasen.pages.models import ArticlePage, HomePage, NewsIndexPage, NewsPage, PortalSettings, SectionPage

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(demo_site):
    return HomePage.objects.get()


def get(client, url, status=200):
    """The response, its HTML without the <wbr>s of the phrase breaks (decision 0055), so that a
    title is found, or rightly not found, as one string."""
    response = client.get(url)
    assert response.status_code == status, f"{url}: {response.status_code}"
    if response.get("Content-Type", "").startswith("text/html"):
        response.content = response.content.replace(b"<wbr>", b"")
    return response


def test_the_home_page_lists_the_eleven_menus_and_latest_news(client, home):
    html = get(client, "/").content.decode()
    assert '<html lang="ja"' in html
    assert html.count('class="app-global-nav__link"') == 11
    assert html.count('class="app-news-list__item"') == 5
    assert "本文へスキップ" in html and 'id="main-content"' in html


def test_every_page_type_renders(client, home):
    for page in [home, *home.get_descendants().live().public()]:
        response = get(client, page.url)
        assert "<h1" in response.content.decode()


def test_breadcrumbs_lead_back_through_the_section(client, home):
    article = ArticlePage.objects.live().get(slug="training-programs")
    html = get(client, article.url).content.decode()
    nav = html[html.index('class="app-breadcrumbs"') :]
    nav = nav[: nav.index("</nav>")]
    assert nav.index(">ホーム</a>") < nav.index(">研修・人材育成</a>") < nav.index('aria-current="page"')


def test_long_articles_get_an_in_page_table_of_contents(client, home):
    article = ArticlePage.objects.live().get(slug="what-is-center")
    html = get(client, article.url).content.decode()
    assert "このページの目次" in html
    for heading in article.headings():
        assert f'href="#{heading["anchor"]}"' in html and f'id="{heading["anchor"]}"' in html


def test_blocks_show_file_type_and_size_and_mark_external_links(client, home):
    html = get(client, ArticlePage.objects.live().get(slug="guidelines").url).content.decode()
    assert "PDF形式、" in html and "KB）" in html
    assert "（外部サイト）" in html


def test_accordions_are_details_elements(client, home):
    html = get(client, ArticlePage.objects.live().get(slug="faq").url).content.decode()
    assert html.count('<details class="app-accordion__item">') >= 3


def test_the_strict_content_security_policy_is_sent_on_public_pages(client, home):
    response = get(client, "/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert "unsafe-inline" in get(client, "/admin/", status=302).headers["Content-Security-Policy"]
    assert "geolocation=()" in response.headers["Permissions-Policy"]


def test_no_inline_script_or_style_in_public_pages(client, home):
    for url in ["/", "/overview/what-is-center/", "/news/", "/search/?q=研修", "/sitemap/"]:
        html = get(client, url).content.decode()
        assert "<script>" not in html and "<style" not in html and " style=" not in html and " onclick" not in html


def test_news_is_paginated_with_clean_urls(client, home):
    index = NewsIndexPage.objects.get()
    for n in range(25):
        item = NewsPage(title=f"追加のお知らせ{n}", slug=f"extra-{n}", date="2026-01-01")
        index.add_child(instance=item)
        item.save_revision().publish()
    assert "追加のお知らせ" in get(client, "/news/page/2/").content.decode()
    get(client, "/news/page/1/", status=404)
    get(client, "/news/page/99/", status=404)


def test_the_atom_feed_lists_the_news(client, home):
    response = get(client, "/feed.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    entries = feed.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) >= 10
    assert all(e.find("{http://www.w3.org/2005/Atom}id").text.startswith("tag:") for e in entries)


def test_live_search_finds_two_character_japanese_words(client, home):
    html = get(client, "/search/?q=研修").content.decode()
    assert "「研修」を含むページ：" in html
    assert "/training/training-programs/" in html


def test_live_search_reads_the_body_text_too(client, home):
    article = ArticlePage.objects.live().get(slug="training-programs")
    article.body = [("paragraph", "<p>本文にだけある言葉：ほうれんそう連絡会</p>")]
    article.save_revision().publish()
    html = get(client, "/search/?q=ほうれんそう連絡会").content.decode()
    assert "：1件" in html and article.url in html


def test_search_escapes_hostile_queries_and_caps_their_length(client, home):
    html = get(client, "/search/?q=<script>alert(1)</script>").content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    long = "研" * 500
    assert ("研" * 101) not in get(client, f"/search/?q={long}").content.decode()


def test_private_and_draft_pages_stay_out_of_menus_search_and_sitemap(client, home):
    private = SectionPage(title="会員限定の秘密メニュー", slug="secret-menu", show_in_menus=True)
    home.add_child(instance=private)
    private.save_revision().publish()
    PageViewRestriction.objects.create(page=private, restriction_type="groups").groups.add(
        roles.ensure_role_groups()[roles.MEMBER]
    )
    draft = ArticlePage(
        title="下書きの記事タイトル", slug="draft-article", body=[("paragraph", "<p>研修</p>")], live=False
    )
    SectionPage.objects.get(slug="training").add_child(instance=draft)
    for url in ["/", "/sitemap/", "/search/?q=秘密", "/search/?q=下書き"]:
        html = get(client, url).content.decode()
        assert "会員限定の秘密メニュー" not in html and "下書きの記事タイトル" not in html
    response = client.get(private.url)
    assert response.status_code == 302, "anonymous visitors are sent to log in"
    assert "login" in response["Location"]


def test_structure_and_design_are_admin_settings(client, home):
    settings = PortalSettings.for_site(Site.objects.get(is_default_site=True))
    settings.structure, settings.design = "grouped", "warm"
    settings.save()
    html = get(client, "/").content.decode()
    assert 'data-design="warm"' in html and 'data-structure="grouped"' in html
    assert "こども家庭センターを知る" in html and html.count('class="app-global-nav__link"') == 4
    sitemap = get(client, "/sitemap/").content.decode()
    assert 'id="group-about"' in sitemap


def test_duplicate_heading_anchors_are_refused_in_japanese():
    block = BodyBlock()
    value = block.to_python(
        [
            {"type": "heading", "value": {"text": "A", "anchor": "same"}},
            {"type": "heading", "value": {"text": "B", "anchor": "same"}},
        ]
    )
    with pytest.raises(ValidationError) as error:
        block.clean(value)
    assert "アンカーIDが重複しています: same" in str(error.value.non_block_errors)


def test_a_link_needs_exactly_one_target():
    block = LinkItemBlock()
    with pytest.raises(ValidationError):
        block.clean(block.to_python({"title": "x", "url": "", "page": None}))
    assert block.clean(block.to_python({"title": "x", "url": "https://www.cfa.go.jp/", "page": None}))


def test_the_cached_header_menu_follows_publishing_unpublishing_and_restricting(
    client, home, django_assert_max_num_queries
):
    get(client, "/")  # the menu is now cached
    section = SectionPage(title="新しいメニュー見出し", slug="new-menu", show_in_menus=True)
    home.add_child(instance=section)
    section.save_revision().publish()
    assert "新しいメニュー見出し" in get(client, "/news/").content.decode()

    section.get_latest_revision().publish()  # a re-publish under a new title
    section.title = "改題したメニュー見出し"
    section.save_revision().publish()
    assert "改題したメニュー見出し" in get(client, "/news/").content.decode()

    restriction = PageViewRestriction.objects.create(page=section, restriction_type="login")
    restriction.save(user=None)  # logs wagtail.view_restriction.create, as the admin does
    assert "改題したメニュー見出し" not in get(client, "/news/").content.decode()
    restriction.delete(user=None)
    section.unpublish()
    assert "改題したメニュー見出し" not in get(client, "/news/").content.decode()


def test_a_page_view_asks_few_queries_for_the_header_once_the_menu_is_cached(
    client, home, django_assert_max_num_queries
):
    get(client, "/news/")
    with django_assert_max_num_queries(15):
        get(client, "/news/")
