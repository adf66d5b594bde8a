"""The public pages as files for nginx (kokasen/pages/published_files.py, decision 0061): a
publish, an unpublish, a slug change and a view restriction reach the files at once; a
restricted or members' page is never written; each file is the app's own answer to an anonymous
visitor; the nginx location that serves them sends the app's security headers."""

import gzip
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django_tasks_db.models import DBTaskResult
from wagtail.models import Page, PageViewRestriction, Site

from kokasen.accounts import roles
from kokasen.pages import published_files
from kokasen.pages.models import ArticlePage, HomePage, PortalSettings, SectionPage
from kokasen.pages.tasks import refresh_published_pages

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def folder(settings, tmp_path, demo_site):
    settings.PUBLISHED_PAGES_ROOT = str(tmp_path / "public-pages")
    return tmp_path / "public-pages"


def file_of(folder: Path, page) -> Path:
    return published_files.folder_for(folder, published_files.path_for_url_path(page.url_path)) / "index.html"


def an_article() -> ArticlePage:
    return ArticlePage.objects.live().public().order_by("path").first()


def queued(page_ids="any"):
    rows = DBTaskResult.objects.filter(task_path="kokasen.pages.tasks.refresh_published_pages")
    return [row.args_kwargs["kwargs"]["page_ids"] for row in rows]


def test_a_publish_writes_the_file_the_app_gives_an_anonymous_visitor(
    client, folder, django_capture_on_commit_callbacks
):
    article = an_article()
    article.title = "公開ファイルの確認用タイトル"
    with django_capture_on_commit_callbacks(execute=True):
        article.save_revision().publish()
    written = file_of(folder, article).read_bytes()
    answer = client.get(article.url)
    assert answer.status_code == 200 and written == answer.content  # no nonce or token to differ
    text = written.decode()
    assert "公開ファイルの確認用タイトル" in text
    assert "ログイン</a>" in text and "ログアウト" not in text and "csrfmiddlewaretoken" not in text
    assert gzip.decompress(file_of(folder, article).with_name("index.html.gz").read_bytes()) == written
    # The pages that list it are rewritten by the task backend, not in the request.
    [page_ids] = queued()
    assert page_ids is None or article.get_parent().pk in page_ids


def test_an_unpublish_removes_the_file_before_the_transaction_ends(folder):
    article = an_article()
    assert published_files.write_page(article) == file_of(folder, article)
    article.unpublish()  # inside the test's transaction: no on_commit has run
    assert not file_of(folder, article).exists()
    assert not file_of(folder, article).with_name("index.html.gz").exists()


def test_the_admins_unpublish_request_removes_the_file(client, agency_admin, folder):
    from kokasen.testing import login_staff

    login_staff(client, agency_admin)
    article = an_article()
    published_files.write_page(article)
    assert file_of(folder, article).exists()
    response = client.post(f"/admin/pages/{article.pk}/unpublish/", {})
    assert response.status_code == 302, response.status_code
    assert not Page.objects.get(pk=article.pk).live
    assert not file_of(folder, article).exists()


def test_a_view_restriction_removes_the_page_and_everything_below_at_once(folder, django_capture_on_commit_callbacks):
    section = SectionPage.objects.live().public().filter(numchild__gt=0).first()
    child = section.get_children().live().first()
    for page in (section, child):
        assert published_files.write_page(page) is not None
    restriction = PageViewRestriction.objects.create(page=section, restriction_type="login")
    assert not file_of(folder, section).exists() and not file_of(folder, child).exists()
    # While restricted, nothing writes them: not the publishing path, not the task.
    assert published_files.write_page(child) is None
    refresh_published_pages.call(page_ids=[section.pk, child.pk])
    assert not file_of(folder, child).exists()
    # Public again: the task (queued after the commit) writes them back.
    with django_capture_on_commit_callbacks(execute=True):
        restriction.delete()
    assert any(ids is None or child.pk in ids for ids in queued())
    refresh_published_pages.call(page_ids=[section.pk, child.pk])
    assert file_of(folder, section).exists() and file_of(folder, child).exists()


def test_a_restriction_on_an_ancestor_set_by_the_groups_form_counts_too(folder):
    section = SectionPage.objects.live().public().filter(numchild__gt=0).first()
    child = section.get_children().live().first()
    published_files.write_page(child)
    restriction = PageViewRestriction.objects.create(page=section, restriction_type="groups")
    restriction.groups.add(roles.ensure_role_groups()[roles.MEMBER])
    assert not file_of(folder, child).exists()
    assert published_files.why_not(child) == "view restriction"


def test_restricted_and_members_pages_are_never_written(folder):
    result = refresh_published_pages.call(page_ids=None)
    assert result.startswith("written ")
    members_home = Page.objects.get(url_path__endswith="/members/")
    assert published_files.why_not(members_home) is not None
    assert published_files.write_page(members_home) is None
    written = {path.parent.relative_to(folder).as_posix() for path in folder.rglob("index.html")}
    assert written and "members" not in {part for path in written for part in path.split("/")}
    for page in Page.objects.live().exclude(pk__in=published_files.public_pages().values("pk")):
        address = published_files.path_for_url_path(page.url_path)
        if address is not None:
            assert not file_of(folder, page).exists(), page.url_path
    # Every public page of the site is a file (none refused by its anonymous answer).
    assert len(written) == published_files.public_pages().count()


def test_a_changed_slug_removes_the_old_address_at_once(folder, django_capture_on_commit_callbacks):
    article = an_article()
    published_files.write_page(article)
    old = file_of(folder, article)
    article.slug = "renamed-for-files"
    with django_capture_on_commit_callbacks(execute=True):
        article.save_revision().publish()
    article.refresh_from_db()
    assert not old.exists()
    assert file_of(folder, article).exists() and "renamed-for-files" in file_of(folder, article).as_posix()


def test_a_deleted_page_loses_its_file_at_once(folder):
    article = an_article()
    published_files.write_page(article)
    path = file_of(folder, article)
    article.delete()
    assert not path.exists()


def test_a_settings_change_queues_every_file_through_the_task_backend(folder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        portal = PortalSettings.for_site(Site.objects.get(is_default_site=True))
        portal.footer_text = "変更後のフッター"
        portal.save()
    assert None in queued()
    assert DBTaskResult.objects.filter(queue_name="static_export", backend_name="static_export").exists()


def test_a_menu_title_change_queues_every_file(folder, django_capture_on_commit_callbacks):
    published_files.store_fingerprint(published_files.chrome_fingerprint())
    section = SectionPage.objects.live().public().in_menu().first()
    section.title = "新しいメニュー名"
    with django_capture_on_commit_callbacks(execute=True):
        section.save_revision().publish()
    assert None in queued()
    assert "新しいメニュー名" in file_of(folder, section).read_text(encoding="utf-8")


def test_the_rebuild_removes_files_of_pages_no_longer_public(folder):
    stray = folder / "gone" / "index.html"
    stray.parent.mkdir(parents=True)
    stray.write_text("old")
    import os

    os.utime(stray, (0, 0))
    result = published_files.write_all()
    assert not stray.exists() and result["removed"] == 1
    assert (folder / "index.html").exists()
    assert HomePage.objects.get().title in (folder / "index.html").read_text(encoding="utf-8")


def test_answers_that_carry_something_per_visitor_are_refused():
    from django.http import HttpResponse

    assert published_files.refusal(HttpResponse("<p>ok</p>")) is None
    with_cookie = HttpResponse("<p>ok</p>")
    with_cookie.set_cookie("csrftoken", "x")
    assert published_files.refusal(with_cookie) == "sets a cookie"
    token = HttpResponse('<input name="csrfmiddlewaretoken" value="x">')
    assert published_files.refusal(token) == "CSRF token"
    private = HttpResponse("<p>ok</p>", headers={"Cache-Control": "private"})
    assert published_files.refusal(private) == "private"
    assert published_files.refusal(HttpResponse("x", status=302)) == "status 302"
    with pytest.raises(ValueError):
        published_files.folder_for(Path("/tmp/x"), "/../etc/")


def location_headers(conf: str) -> dict[str, str]:
    block = conf[conf.index("    location / {") :]
    block = block[: block.index("\n    }\n")]
    return dict(re.findall(r'add_header (\S+) "([^"]*)" always;', block))


def test_nginx_sends_the_apps_security_headers_on_the_files(client, demo_site):
    """The headers nginx adds in `location /` are those the app sends an anonymous visitor."""
    headers = location_headers((ROOT / "deploy" / "nginx" / "portal.conf").read_text(encoding="utf-8"))
    answer = client.get(an_article().url)
    for name in (
        "Content-Security-Policy",
        "Permissions-Policy",
        "X-Content-Type-Options",
        "X-Frame-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
    ):
        assert headers.get(name) == answer.headers[name], name
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["Vary"] == "Cookie" and "no-cache" in headers["Cache-Control"]


def test_nginx_asks_the_app_whenever_the_session_or_messages_cookie_is_sent():
    http_conf = (ROOT / "deploy" / "nginx" / "kokasen-http.conf").read_text(encoding="utf-8")
    names = re.search(
        r'map \$http_cookie \$kokasen_session_cookie \{\n\s+"~\(\?:\^\|;\)\\s\*\(\?:([^)]*)\)="', http_conf
    )
    assert names, "the cookie map changed shape"
    assert set(names[1].split("|")) == {django_settings.SESSION_COOKIE_NAME, "messages"}
    from django.contrib.messages.storage.cookie import CookieStorage

    assert CookieStorage.cookie_name == "messages"


def test_a_moved_page_loses_its_old_files_at_once_and_is_queued_at_its_new_address(
    folder, django_capture_on_commit_callbacks
):
    sections = list(SectionPage.objects.live().public().order_by("path")[:2])
    article = sections[0].get_children().live().specific().first()
    published_files.write_page(article)
    old = file_of(folder, article)
    with django_capture_on_commit_callbacks(execute=True):
        article.move(sections[1], pos="last-child")
        assert not old.exists()  # before the commit: in the request that moves it
    article.refresh_from_db()
    assert any(ids is None or article.pk in ids for ids in queued())
    refresh_published_pages.call(page_ids=[article.pk])
    assert file_of(folder, article).exists() and file_of(folder, article) != old
