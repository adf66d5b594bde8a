"""A re-export renders only what changed, and gives exactly what a full export gives."""

import pytest
from wagtail.documents import get_document_model
from wagtail.models import Collection, CollectionViewRestriction, Site

from kokasen.accounts import roles
from kokasen.pages.models import ArticlePage, PortalSettings
from kokasen.static_export import builder

pytestmark = pytest.mark.django_db


def tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def deep_article(demo_site):
    """A page below an article: in no menu, shown only by its parent's list and the sitemap."""
    parent = ArticlePage.objects.get(slug="staff-development")
    child = ArticlePage(title="人材育成の事例集", slug="cases", body=[("paragraph", "<p>初版の本文です。</p>")])
    parent.add_child(instance=child)
    child.save_revision().publish()
    return child


@pytest.fixture
def exported(deep_article, tmp_path):
    folder = tmp_path / "site"
    first = builder.export_site(out_dir=folder)
    assert first.pages == first.routes
    return folder


def assert_same_as_full_export(folder, tmp_path):
    full = tmp_path / "full"
    builder.export_site(out_dir=full)
    assert tree(folder).keys() - {builder.MARKER_FILE} == tree(full).keys() - {builder.MARKER_FILE}
    mine, theirs = tree(folder), tree(full)
    changed = sorted(name for name in theirs if name != builder.MARKER_FILE and mine[name] != theirs[name])
    assert not changed, f"incremental export differs from a full export in {changed}"


def test_nothing_changed_renders_nothing(exported, tmp_path):
    result = builder.export_site(out_dir=exported, incremental=True)
    assert result.pages == 0 and result.routes > 50
    assert_same_as_full_export(exported, tmp_path)


def test_one_edited_article_renders_only_the_pages_that_show_it(exported, deep_article, tmp_path):
    deep_article.body = [("paragraph", "<p>改訂した本文です。</p>")]
    deep_article.save_revision().publish()
    result = builder.export_site(out_dir=exported, incremental=True)
    assert result.pages == 3, result.pages  # the article, its parent's list, the sitemap
    assert "改訂した本文です。" in (exported / "training" / "staff-development" / "cases" / "index.html").read_text()
    index = (exported / "search" / "search-index.js").read_text()
    assert "改訂した本文です。" in index, [line for line in index.split("},{") if "cases" in line]
    assert_same_as_full_export(exported, tmp_path)


def test_a_menu_change_renders_every_page(exported, tmp_path):
    article = ArticlePage.objects.get(slug="what-is-center")  # in the overview drop-down
    article.title = "こども家庭センターとは（改）"
    article.save_revision().publish()
    result = builder.export_site(out_dir=exported, incremental=True)
    assert result.pages == result.routes  # every page shows the menu
    assert_same_as_full_export(exported, tmp_path)


def test_a_settings_change_renders_every_page(exported, tmp_path):
    settings = PortalSettings.for_site(Site.objects.get(is_default_site=True))
    settings.design = "warm"
    settings.save()
    result = builder.export_site(out_dir=exported, incremental=True)
    assert result.pages == result.routes
    assert_same_as_full_export(exported, tmp_path)


def test_an_unpublished_page_disappears_with_every_link_to_it(exported, deep_article, tmp_path):
    deep_article.unpublish()
    builder.export_site(out_dir=exported, incremental=True)
    assert not (exported / "training" / "staff-development" / "cases").exists()
    assert_same_as_full_export(exported, tmp_path)


def test_a_document_made_private_is_removed_and_its_links_with_it(exported, tmp_path):
    Document = get_document_model()
    document = Document.objects.filter(title__contains="研修").first() or Document.objects.first()
    vault = Collection.get_first_root_node().add_child(name="限定資料")
    CollectionViewRestriction.objects.create(collection=vault, restriction_type="groups").groups.add(
        roles.ensure_role_groups()[roles.MEMBER]
    )
    Document.objects.filter(pk=document.pk).update(collection=vault)
    builder.export_site(out_dir=exported, incremental=True)
    assert not (exported / "documents" / str(document.pk)).exists()
    assert_same_as_full_export(exported, tmp_path)
