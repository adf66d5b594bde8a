"""Publishing keeps the published static folder current (issue 19 item 3, decision 0062): a
publish queues one incremental export for django-tasks-db's worker, which rewrites the page's
file and its search entry; an unpublish removes them; the ZIP is a later, separate task."""

import zipfile
from unittest import mock

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from kokasen.pages.models import ArticlePage
from kokasen.static_export import builder, publishing, tasks

pytestmark = pytest.mark.django_db

ARTICLE = ("training", "staff-development")


@pytest.fixture
def published(demo_site, settings, tmp_path):
    settings.STATIC_EXPORT_PUBLISH_DIR = str(tmp_path / "site")
    settings.STATIC_EXPORT_PUBLISH_ZIP = tmp_path / "zips" / "site.zip"
    publishing.update()  # the first export (full: no earlier one in the folder)
    DBTaskResult.objects.all().delete()  # the ZIP it queued
    return tmp_path / "site"


def run_worker():
    """db_worker in this test's transaction (see test_admin_builds.run_worker)."""
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command(
            "db_worker", "--backend", "static_export", "--queue-name", "static_export", "--batch", "--no-startup-delay"
        )


def waiting(task):
    return DBTaskResult.objects.filter(status="READY", task_path=task.module_path).count()


def publish(page, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision().publish()


def test_publishing_queues_one_update_however_many_pages_are_published(published, django_capture_on_commit_callbacks):
    article = ArticlePage.objects.get(slug=ARTICLE[1])
    for n in range(5):
        article.title = f"人材育成（{n}回目の修正）"
        publish(article, django_capture_on_commit_callbacks)
    assert waiting(tasks.update_published_export) == 1
    assert waiting(tasks.zip_published_export) == 0


def test_the_worker_rewrites_the_page_and_its_search_entry_only(published, django_capture_on_commit_callbacks):
    page_file = published.joinpath(*ARTICLE, "index.html")
    untouched = published / "index.html"
    before = untouched.stat().st_mtime_ns
    article = ArticlePage.objects.get(slug=ARTICLE[1])
    article.body = [("paragraph", "<p>公開で書き換わった本文です。</p>")]
    publish(article, django_capture_on_commit_callbacks)
    assert "公開で書き換わった本文です。" not in page_file.read_text()

    run_worker()

    assert "公開で書き換わった本文です。" in page_file.read_text()
    assert "公開で書き換わった本文です。" in (published / "search" / "search-index.js").read_text()
    assert untouched.stat().st_mtime_ns == before  # the home page does not show the body
    update = DBTaskResult.objects.get(task_path=tasks.update_published_export.module_path)
    assert update.status == "SUCCESSFUL" and update.return_value["rendered"] < 10
    # The ZIP waits for its own, later task (the batch worker above did not take it).
    assert waiting(tasks.zip_published_export) == 1
    assert not publishing.zip_path().exists()
    publishing.write_zip()
    with zipfile.ZipFile(publishing.zip_path()) as archive:
        assert "公開で書き換わった本文です。" in archive.read("/".join([*ARTICLE, "index.html"])).decode()
        assert builder.MARKER_FILE not in archive.namelist()


def test_an_unpublished_page_leaves_the_folder_and_the_search_index(published, django_capture_on_commit_callbacks):
    article = ArticlePage.objects.get(slug="what-is-center")
    target = next(published.rglob("what-is-center/index.html"))
    entry = '"u":"../' + target.relative_to(published).as_posix() + '"'  # the page's search entry
    assert entry in (published / "search" / "search-index.js").read_text()
    with django_capture_on_commit_callbacks(execute=True):
        article.unpublish()
    assert waiting(tasks.update_published_export) == 1

    run_worker()

    assert not target.exists()
    assert entry not in (published / "search" / "search-index.js").read_text()


def test_the_updated_folder_is_what_a_full_export_writes(published, django_capture_on_commit_callbacks, tmp_path):
    article = ArticlePage.objects.get(slug=ARTICLE[1])
    article.summary = "公開で変えた概要"
    publish(article, django_capture_on_commit_callbacks)
    run_worker()
    full = tmp_path / "full"
    builder.export_site(out_dir=full)

    def tree(folder):
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    mine, theirs = tree(published), tree(full)
    assert mine.keys() == theirs.keys()
    assert not [name for name in theirs if name != builder.MARKER_FILE and mine[name] != theirs[name]]


def test_nothing_is_queued_without_a_published_folder(demo_site, settings, django_capture_on_commit_callbacks):
    settings.STATIC_EXPORT_PUBLISH_DIR = ""
    publish(ArticlePage.objects.get(slug=ARTICLE[1]), django_capture_on_commit_callbacks)
    assert not DBTaskResult.objects.exists()


def test_the_update_goes_before_the_other_tasks_a_publish_queued(published, django_capture_on_commit_callbacks):
    """The rewrite of the live site's dependent pages (decision 0061) is queued first by the same
    publish; the worker takes the published folder's update before it (decision 0062, addendum)."""
    from django_tasks_db.management.commands.db_worker import Worker

    from kokasen.pages.tasks import refresh_published_pages

    refresh_published_pages.enqueue(page_ids=[])
    article = ArticlePage.objects.get(slug=ARTICLE[1])
    article.body = [("paragraph", "<p>先に書き出される本文です。</p>")]
    publish(article, django_capture_on_commit_callbacks)
    worker = Worker(
        queue_names=["static_export"],
        interval=0,
        batch=True,
        backend_name="static_export",
        startup_delay=False,
        max_tasks=1,
        worker_id="test",
        excluded_queue_names=[],
    )
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        worker.run()
    done = DBTaskResult.objects.get(status="SUCCESSFUL")
    assert done.task_path == tasks.update_published_export.module_path
    assert "先に書き出される本文です。" in published.joinpath(*ARTICLE, "index.html").read_text(encoding="utf-8")
    assert waiting(refresh_published_pages) >= 1
