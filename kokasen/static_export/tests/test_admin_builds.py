"""「静的サイトの書き出し」 from the admin (decision 0054): a build queued by a 受託者, run by
django-tasks' db_worker, listed and downloaded; one build at a time, a dead build freed after
STATIC_EXPORT_STALE_MINUTES; old ZIPs pruned; the ZIP read back (UTF-8 name flag, real times);
the preview of a variant framable by the portal only and never cached."""

import io
import re
import struct
import zipfile
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from wagtail.models import Page

from kokasen.core.models import AuditEvent
from kokasen.core.refusals import Refused
from kokasen.pages.models import ArticlePage, HomePage
from kokasen.static_export import archive, builds
from kokasen.static_export.models import ExportBuild

pytestmark = pytest.mark.django_db


@pytest.fixture
def archive_dir(settings, tmp_path):
    settings.STATIC_EXPORT_ARCHIVE_DIR = tmp_path / "zips"
    settings.STATIC_EXPORT_JOBS = 1
    return settings.STATIC_EXPORT_ARCHIVE_DIR


def run_worker():
    """django-tasks-db's worker, in this test's transaction. The worker recycles the database
    connection between tasks (close_old_connections), which inside a test's atomic block closes it
    on PostgreSQL (SQLite's in-memory test database is never closed): as for the test client's
    requests (Django's tests disconnect it from the request signals), it is left out here."""
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command(
            "db_worker", "--backend", "static_export", "--queue-name", "static_export", "--batch", "--no-startup-delay"
        )


def extended_time(info: zipfile.ZipInfo) -> int | None:
    extra = info.extra
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        if kind == archive.EXTENDED_TIMESTAMP:
            return struct.unpack("<l", extra[5:9])[0]
        extra = extra[4 + size :]
    return None


def test_a_build_runs_in_the_worker_and_its_zip_is_downloaded(demo_site, staff_client, operator, archive_dir):
    response = staff_client.post("/admin/static-export/start/", {"structure": "grouped", "design": "warm"})
    assert response.status_code == 302
    build = ExportBuild.objects.get()
    assert build.status == "queued" and build.active and build.requested_by == operator
    assert DBTaskResult.objects.filter(queue_name="static_export", status="READY").count() == 1
    page = staff_client.get("/admin/static-export/").content.decode()
    assert "順番待ち" in page and 'http-equiv="refresh"' in page  # reloads itself while a build waits

    run_worker()

    build.refresh_from_db()
    assert build.status == "done" and build.active is None and build.size > 0, build.error
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    page = staff_client.get("/admin/static-export/").content.decode()
    assert "パターンB × デザイン2" in page and "ZIPをダウンロード" in page and 'http-equiv="refresh"' not in page

    response = staff_client.get(f"/admin/static-export/builds/{build.pk}/download/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert build.zip_file in response["Content-Disposition"] and build.zip_file.isascii()
    data = b"".join(response.streaming_content)
    root = build.zip_file.removesuffix(".zip") + "/"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        assert all(name.startswith(root) for name in z.namelist())
        japanese = z.getinfo(root + "careers/はたらく魅力/index.html")
        assert japanese.flag_bits & archive.UTF8_NAME_FLAG, "Japanese names are flagged as UTF-8"
        assert not z.getinfo(root + "index.html").flag_bits & archive.UTF8_NAME_FLAG  # ASCII needs no flag
        assert (
            '<html lang="ja"' in z.read(root + "index.html").decode()
            and 'data-design="warm"' in z.read(root + "index.html").decode()
        )
        published = Page.objects.get(url_path__endswith="/はたらく魅力/").last_published_at
        local = timezone.localtime(published)
        assert japanese.date_time[:5] == (local.year, local.month, local.day, local.hour, local.minute)
        assert extended_time(japanese) == int(published.timestamp())
        years = {info.date_time[0] for info in z.infolist()}
        assert min(years) > 1980 and 2000 not in years, years  # real times, not a placeholder
    actions = set(AuditEvent.objects.filter(action__startswith="static_export.").values_list("action", flat=True))
    assert {"static_export.build_requested", "static_export.built", "static_export.downloaded"} <= actions


def test_one_build_at_a_time_and_a_dead_one_is_freed(demo_site, operator, agency_admin, archive_dir, settings):
    first = builds.request_build(user=operator, structure="flat", design="standard")
    with pytest.raises(Refused) as refused:
        builds.request_build(user=agency_admin, structure="grouped", design="warm")
    assert "ほかの書き出し（パターンA × デザイン1、" in refused.value.messages[0]
    assert "終わってから、もう一度ボタンを押してください" in refused.value.messages[0]
    assert ExportBuild.objects.count() == 1

    # The worker died: no progress for longer than STATIC_EXPORT_STALE_MINUTES.
    old = timezone.now() - timedelta(minutes=settings.STATIC_EXPORT_STALE_MINUTES + 1)
    ExportBuild.objects.filter(pk=first.pk).update(status="running", heartbeat_at=old)
    second = builds.request_build(user=agency_admin, structure="grouped", design="warm")
    first.refresh_from_db()
    assert first.status == "failed" and first.active is None and "途中で止まりました" in first.error
    assert second.active and AuditEvent.objects.filter(action="static_export.build_abandoned").exists()
    assert builds.run_build(first.pk) == "skipped"  # the dead build's task, should it run late


def test_the_screen_shows_the_refusal_in_japanese(demo_site, staff_client, agency_admin, archive_dir):
    builds.request_build(user=agency_admin, structure="flat", design="standard")
    response = staff_client.post("/admin/static-export/start/", {"structure": "flat", "design": "warm"}, follow=True)
    assert "新しい書き出しは始められません" in response.content.decode()
    assert ExportBuild.objects.count() == 1
    response = staff_client.post("/admin/static-export/start/", {"structure": "x", "design": "warm"}, follow=True)
    assert ExportBuild.objects.count() == 1


def test_only_the_newest_zips_are_kept(demo_site, operator, archive_dir, settings):
    settings.STATIC_EXPORT_KEEP = 2
    archive_dir.mkdir(parents=True)
    made = []
    for n in range(4):
        name = f"kokasen-site-{n}.zip"
        (archive_dir / name).write_bytes(b"PK")
        made.append(
            ExportBuild.objects.create(
                structure="flat",
                design="standard",
                status="done",
                active=None,
                zip_file=name,
                created_at=timezone.now() - timedelta(hours=4 - n),
            )
        )
    removed = builds.prune()
    assert sorted(removed) == ["kokasen-site-0.zip", "kokasen-site-1.zip"]
    assert sorted(p.name for p in archive_dir.iterdir()) == ["kokasen-site-2.zip", "kokasen-site-3.zip"]
    assert ExportBuild.objects.count() == 2


def test_the_preview_draws_a_variant_for_the_compare_screen_only(demo_site, staff_client):
    home = HomePage.objects.get()
    article = ArticlePage.objects.live().public().first()
    for page in (home, article):
        response = staff_client.get(f"/admin/static-export/preview/grouped/warm/{page.pk}/")
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-design="warm"' in html and 'data-structure="grouped"' in html
        assert response["X-Frame-Options"] == "SAMEORIGIN"
        policy = response["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in policy and "'unsafe-inline'" not in policy
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    # The live site did not change, and other admin screens still refuse to be framed.
    assert 'data-design="warm"' not in staff_client.get("/").content.decode()
    assert staff_client.get("/admin/static-export/compare/")["X-Frame-Options"] == "DENY"
    compare = staff_client.get(f"/admin/static-export/compare/?left=flat-standard&right=grouped-warm&page={article.pk}")
    html = compare.content.decode()
    assert f"/admin/static-export/preview/flat/standard/{article.pk}/" in html
    assert f"/admin/static-export/preview/grouped/warm/{article.pk}/" in html
    assert staff_client.get(f"/admin/static-export/preview/grouped/bogus/{home.pk}/").status_code == 404
    # Every page the compare screen offers draws (news index with its routes, sitemap, policy pages …).
    offered = re.findall(r'<option value="(\d+)"', html)
    assert len(offered) > 10
    for pk in offered:
        assert staff_client.get(f"/admin/static-export/preview/flat/warm/{pk}/").status_code == 200, pk
