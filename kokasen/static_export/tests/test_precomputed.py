"""What the export computes once for all pages (issue 19 item 3) changes nothing in its files,
and its queries do not grow with the number of pages."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page

from kokasen.pages.models import ArticlePage, NewsIndexPage, NewsPage, SectionPage
from kokasen.static_export import builder, rewrite

pytestmark = pytest.mark.django_db


def tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("variant", [("flat", "standard"), ("grouped", "warm")], ids="-".join)
def test_the_shared_header_and_children_give_the_files_of_rendering_every_page_alone(exports, variant, tmp_path):
    """The default export (header and footer rewritten once per folder depth, children and
    parents from the export's one load) against the slow path (every page rewrites its whole
    text and asks the database for its children): the same files, byte for byte, on the demo
    site with hidden content."""
    structure, design = variant
    # Both exported here, from the database as it is now (``exports`` made the hidden content):
    # a test that empties the database between the session's export and this one makes the demo
    # again, with new image file names.
    builder.export_site(out_dir=tmp_path / "fast", structure=structure, design=design)
    builder.export_site(out_dir=tmp_path / "slow", structure=structure, design=design, precomputed=False)
    fast, alone = tree(tmp_path / "fast"), tree(tmp_path / "slow")
    assert fast.keys() == alone.keys()
    differ = sorted(n for n in fast if n != builder.MARKER_FILE and fast[n] != alone[n])
    assert not differ, differ
    assert sum(name.endswith(".html") for name in fast) > 50


def test_the_header_markers_never_reach_a_file(exports):
    for name, data in tree(exports[("flat", "standard")]).items():
        assert b"kokasen:shared:" not in data, name


def add_pages(articles: int, news: int):
    sections = list(SectionPage.objects.live().public().order_by("path"))
    parent = None
    for n in range(articles):
        page = ArticlePage(title=f"追加記事{n}", slug=f"added-{n}", body=[("paragraph", f"<p>本文{n}</p>")])
        # Every third article goes below the one before it: pages with children, deeper folders.
        (parent if parent is not None and n % 3 else sections[n % len(sections)]).add_child(instance=page)
        parent = page
    index = NewsIndexPage.objects.live().first()
    for n in range(news):
        index.add_child(
            instance=NewsPage(
                title=f"追加のお知らせ{n}",
                slug=f"added-news-{n}",
                date=datetime.date(2025, 1, 1) + datetime.timedelta(days=n),
            )
        )


def test_the_search_entries_made_while_rendering_are_those_of_the_pages_as_stored(exports):
    """Each page's search index entry is made by the process that renders it, before the
    render: a rendered StreamField holds its blocks' full values (a table's settings, which
    would add words such as "row"), so the entries must equal those of freshly loaded pages."""
    exporter = builder.SiteExporter()
    exporter.build()
    made = exporter._search_entries
    assert len(made) > 50 and set(made) == exporter._search_wanted
    fresh = {page.pk: exporter.search_entry(page) for page in Page.objects.filter(pk__in=made).specific()}
    assert made == fresh
    bodies = [getattr(page, "body", None) for page in Page.objects.filter(pk__in=made).specific()]
    assert any(block["type"] == "table" for body in bodies if body is not None for block in body.raw_data)


def export_queries() -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        result = builder.SiteExporter().build()
    return len(queries.captured_queries), result.routes


def test_the_export_asks_the_same_number_of_queries_for_more_pages(demo_site):
    export_queries()  # the first one fills the process's caches (content types, sites)
    before, routes_before = export_queries()
    add_pages(articles=30, news=45)  # at least two more pages of the news list
    after, routes_after = export_queries()
    assert routes_after >= routes_before + 30 + 45 + 2
    assert after == before, f"{before} queries for {routes_before} routes, {after} for {routes_after}"


def test_the_slow_path_does_ask_per_page(demo_site):
    """The counter above would see per-page queries: without the precomputed facts they grow."""
    builder.SiteExporter(precomputed=False).build()
    with CaptureQueriesContext(connection) as before:
        builder.SiteExporter(precomputed=False).build()
    add_pages(articles=10, news=0)
    with CaptureQueriesContext(connection) as after:
        builder.SiteExporter(precomputed=False).build()
    assert len(after.captured_queries) >= len(before.captured_queries) + 10


def test_a_shared_fragment_placed_in_any_folder_reads_as_rewriting_it_there():
    outputs = {
        "/": "index.html",
        "/a/": "a/index.html",
        "/a/b/": "a/b/index.html",
        "/a/c/": "a/c/index.html",
        "/x/": "x/index.html",
        "/x/y/z/": "x/y/z/index.html",
        "/search/": "search/index.html",
    }
    fragment = (
        '<nav><a href="/">top</a><a href="/a/b/#part">b</a><a href="/a/c/">c</a><a href="/gone/">gone</a>'
        '<a href="https://example.jp/">out</a><img srcset="/a/ 1x, /x/y/z/ 2x" alt=""><form action="/search/"></form></nav>'
    )
    compiled = rewrite.SharedFragment.compile(fragment, resolve=outputs.get, internal_hosts={"testserver"})
    files = ["index.html", "a/index.html", "a/b/index.html", "a/b/d/index.html", "a/c/index.html", "q/r/s/t/index.html"]
    for file_path in files:
        alone = rewrite.rewrite_html(
            fragment, file_path=file_path, base_url="/", resolve=outputs.get, internal_hosts={"testserver"}
        )
        assert compiled.place(file_path) == alone.text, file_path
        assert compiled.references == alone.references and compiled.unresolved == alone.unresolved == {"/gone/"}


def test_a_fragment_with_a_link_relative_to_its_page_is_rewritten_in_each_page():
    for fragment in ('<a href="../up/">up</a>', '<a href="?page=2">2</a>'):
        assert rewrite.SharedFragment.compile(fragment, resolve=lambda p: None, internal_hosts=set()) is None
