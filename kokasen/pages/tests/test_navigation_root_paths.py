"""The sitemap tree and the menus give every page its address from one read of the sites' root
paths (decision 0062, addendum): without a request, Wagtail's ``page.url`` asks the cache (Redis in
production) once per page, 1,300 round trips for the benchmark site's sitemap."""

from unittest import mock

import pytest
from wagtail.models import Page, Site

from kokasen.pages import navigation

pytestmark = pytest.mark.django_db


def urls(nodes):
    return [url for node in nodes for url in (node.url, *urls(node.children))]


def test_the_sitemap_tree_reads_the_root_paths_once_and_gives_the_same_addresses(demo_site):
    root = Site.objects.get(is_default_site=True).root_page
    with mock.patch.object(Site, "get_site_root_paths", wraps=Site.get_site_root_paths) as read:
        tree = navigation.public_tree(root)
    assert read.call_count == 1
    expected = [page.url for page in Page.objects.live().public().descendant_of(root).order_by("path")]
    assert len(urls(tree)) > 20
    assert set(urls(tree)) <= set(expected)


def test_the_menus_read_the_root_paths_once(demo_site):
    root = Site.objects.get(is_default_site=True).root_page
    with mock.patch.object(Site, "get_site_root_paths", wraps=Site.get_site_root_paths) as read:
        flat = navigation.flat_menu(root)
        grouped = navigation.grouped_menu(root, "/sitemap/")
    # flat_menu: its menu pages, then each menu's drop-down; grouped_menu: its menu pages.
    assert read.call_count <= 1 + len(flat) + 1
    items = [*flat, *[child for item in flat for child in item.children], *grouped]
    assert all(item.url.startswith("/") for item in items)
    assert {item.url for item in flat} == {page.url for page in navigation.menu_pages(root)}
