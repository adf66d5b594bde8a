"""お問い合わせ and the policy pages (issue 17, item 2; decision 0044): they exist on the demo
site and in the static export, and the footer of every live page and every exported page
links to all of them, the ウェブアクセシビリティ方針 and the generated 試験結果 (decision 0059) included."""

import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from django.urls import reverse
from wagtail.models import Page, Site

from kokasen.conftest import VARIANTS
from kokasen.pages.models import HomePage, PolicyPage
from kokasen.pages.policies import POLICIES, ensure_policy_pages

pytestmark = pytest.mark.django_db

FOOTER = re.compile(r"<footer class=\"app-footer\">(.*?)</footer>", re.S)
HREF = re.compile(r'href="([^"]*)"')


def footer_hrefs(html: str) -> list[str]:
    found = FOOTER.findall(html)
    assert len(found) == 1, "one footer per page"
    return HREF.findall(found[0])


def policy_pages():
    pages = {p.kind: p for p in PolicyPage.objects.live().public()}
    assert sorted(pages) == sorted(p.kind for p in POLICIES)
    return pages


def test_the_demo_site_has_the_four_pages_with_their_first_text(demo_site):
    pages = policy_pages()
    assert pages["privacy"].title.startswith("プライバシーポリシー")
    privacy = str(pages["privacy"].body)
    assert "csrftoken" in privacy and "sessionid" in privacy and "90日間" in privacy
    assert "アクセス解析" in privacy
    assert "JIS X 8341-3:2016" in str(pages["accessibility"].body) and "AA" in str(pages["accessibility"].body)


def test_every_live_page_links_the_four_from_its_footer(demo_site, client, member_a):
    urls = {kind: page.url for kind, page in policy_pages().items()}
    root = Site.objects.get(is_default_site=True).root_page
    public = [p.url for p in Page.objects.live().public().descendant_of(root, inclusive=True).specific()]
    assert len(public) > 30
    others = [reverse("search"), reverse("accounts:login"), reverse("accounts:password_reset"), "/no-such-page/"]
    for url in public + others:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        hrefs = footer_hrefs(response.content.decode())
        assert set(urls.values()) <= set(hrefs), (url, hrefs)
    # The members' screens (pages of the area and its own views) too.
    client.force_login(member_a)
    members = [p.url for p in Page.objects.live().filter(url_path__contains="/members/")]
    for url in members + [reverse("tips:index"), reverse("feedback:send"), reverse("accounts:profile")]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert set(urls.values()) <= set(footer_hrefs(response.content.decode())), url


@pytest.mark.parametrize("variant", VARIANTS[:1] + VARIANTS[-1:], ids=lambda v: "-".join(v))
def test_every_exported_page_links_the_four_and_they_are_exported(exports, variant):
    folder = exports[variant]
    titles = {p.title for p in POLICIES}
    targets = {}
    for kind, page in policy_pages().items():
        target = folder / page.url.strip("/") / "index.html"
        assert target.is_file(), f"{page.url} is not in the export"
        assert page.title in target.read_text(encoding="utf-8")
        targets[kind] = target.resolve()
    # The generated JIS X 8341-3 pages are exported with their tables (decision 0059).
    assert "達成基準チェックリスト" in targets["a11y_results"].read_text(encoding="utf-8")
    assert "目標とする適合レベルと対応度" in targets["accessibility"].read_text(encoding="utf-8")
    checked = 0
    for path in sorted(folder.rglob("*.html")):
        hrefs = footer_hrefs(path.read_text(encoding="utf-8"))
        linked = {(path.parent / unquote(urlsplit(h).path)).resolve() for h in hrefs if not urlsplit(h).scheme}
        missing = [k for k, t in targets.items() if t not in linked]
        assert not missing, f"{path.relative_to(folder)}: no footer link to {missing}"
        checked += 1
    assert checked > 30 and titles


def test_a_new_home_page_gets_the_four_once_and_edits_survive(demo_site):
    home = HomePage.objects.get()
    before = PolicyPage.objects.child_of(home).count()
    assert ensure_policy_pages(home) == 0  # already there: nothing touched
    contact = PolicyPage.objects.child_of(home).get(kind="contact")
    contact.title = "お問い合わせ（運営事務局）"
    contact.save_revision().publish()
    assert ensure_policy_pages(home) == 0
    assert PolicyPage.objects.child_of(home).count() == before
    assert PolicyPage.objects.get(pk=contact.pk).title == "お問い合わせ（運営事務局）"
    assert posixpath.basename(Path(contact.url.rstrip("/"))) == "contact"


def test_a_home_page_created_in_the_admin_gets_the_four(demo_site):
    from kokasen.pages.wagtail_hooks import create_policy_pages_under_a_new_home

    home = HomePage(title="新しいトップページ", slug="new-home")
    Page.get_first_root_node().add_child(instance=home)
    create_policy_pages_under_a_new_home(None, home)
    created = PolicyPage.objects.child_of(home)
    assert sorted(created.values_list("kind", flat=True)) == sorted(p.kind for p in POLICIES)
    assert all(p.live for p in created)
