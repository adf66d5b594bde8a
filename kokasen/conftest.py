"""Shared fixtures.

The demo site is loaded once per test session (outside any test transaction), so tests
see a complete portal; each test still runs in its own transaction and rolls back.
Static exports of the demo, one per design × structure, are built once and shared.

The personas (kokasen/testing/personas.py) as fixtures, for every app's tests: ``member_a``
(札幌市, with a registered address), ``member_b`` (千代田区), ``agency_admin`` and ``operator``
(staff with TOTP and an e-mail address), ``staff_client`` (the operator's session, TOTP passed),
``member_client`` (札幌市's session, demo site loaded). A test module that needs a persona with
other details (a known password, a name) defines its own fixture under another name or
overrides one of these.
"""

import itertools
import shutil
from pathlib import Path

import pytest
from django.test import override_settings

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
DESIGNS = ("standard", "warm")
STRUCTURES = ("flat", "grouped")
VARIANTS = list(itertools.product(STRUCTURES, DESIGNS))


def pytest_addoption(parser):
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="run only the tests that use Django's database (.ci/run's PostgreSQL pass: a test that "
        "never touches the database gives the same result whatever DATABASE_URL says)",
    )


def uses_database(item) -> bool:
    """Whether a collected test touches Django's test database: marked ``django_db`` or needing
    ``django_db_setup`` through its fixtures (``db``, the personas, ``demo_site``, ``live_site``…)."""
    return bool(item.get_closest_marker("django_db")) or "django_db_setup" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--database-tests-only"):
        return
    kept = [item for item in items if uses_database(item)]
    config.hook.pytest_deselected(items=[item for item in items if not uses_database(item)])
    items[:] = kept


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts with empty caches: its database rolls back at the end, so cached
    chrome or lists from an earlier test (keyed by ids that may be reused) must not leak."""
    from django.core.cache import cache

    from kokasen.core import caching

    cache.clear()
    caching.clear_local()
    yield


@pytest.fixture(scope="session")
def media_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("media")
    with override_settings(MEDIA_ROOT=root):
        yield root


@pytest.fixture(scope="session")
def demo_site(django_db_setup, django_db_blocker, media_root):
    from django.db import connection

    from kokasen.demo.loader import DemoLoader

    with django_db_blocker.unblock():
        name = str(connection.settings_dict["NAME"])
        # Never load test content into a developer's real database.
        assert "test" in name or "memory" in name, f"not a test database: {name}"
        DemoLoader(log=lambda *a: None).run()
    return True


# Strings that must never appear in any export (see hidden_content).
SECRETS = {
    "draft_title": "下書き中の未公開ページ",
    "draft_change": "公開前の修正タイトル",
    "private_title": "自治体専用の非公開ページ",
    "private_child": "非公開ページの子ページ",
    "private_document": "非公開の配布資料",
}


def make_hidden_content():
    """A draft page, unpublished changes to a live page, a page restricted to the 自治体
    group with a child, and a document in a restricted collection, all linked from a
    public page, so that an export leaking any of them would show it."""
    from django.core.files.base import ContentFile
    from wagtail.documents import get_document_model
    from wagtail.models import Collection, CollectionViewRestriction, PageViewRestriction

    from kokasen.accounts import roles
    from kokasen.pages.models import ArticlePage, HomePage, SectionPage

    home = HomePage.objects.get()
    section = SectionPage.objects.child_of(home).first()
    member_group = roles.ensure_role_groups()[roles.MEMBER]

    draft = ArticlePage(title=SECRETS["draft_title"], slug="draft-secret", body=[("paragraph", "<p>x</p>")])
    section.add_child(instance=draft)
    draft.save_revision()
    draft.live = False
    draft.save()

    private = SectionPage(title=SECRETS["private_title"], slug="members-only", show_in_menus=True)
    home.add_child(instance=private)
    private.save_revision().publish()
    PageViewRestriction.objects.create(page=private, restriction_type="groups").groups.add(member_group)
    child = ArticlePage(title=SECRETS["private_child"], slug="private-child", body=[("paragraph", "<p>x</p>")])
    private.add_child(instance=child)
    child.save_revision().publish()

    vault = Collection.get_first_root_node().add_child(name="非公開資料")
    CollectionViewRestriction.objects.create(collection=vault, restriction_type="groups").groups.add(member_group)
    Document = get_document_model()
    document = Document(title=SECRETS["private_document"], collection=vault)
    document.file.save("private-handout.pdf", ContentFile(b"%PDF-1.4 private"), save=False)
    document.save()

    linking = ArticlePage(
        title="非公開へのリンクを含む公開ページ",
        slug="links-to-hidden",
        body=[
            (
                "paragraph",
                f'<p><a linktype="page" id="{draft.pk}">下書きへ</a> '
                f'<a linktype="page" id="{child.pk}">会員ページへ</a> '
                f'<a linktype="document" id="{document.pk}">資料へ</a></p>',
            ),
            ("documents", {"title": "資料", "documents": [{"document": document, "title": "配布資料"}]}),
        ],
    )
    section.add_child(instance=linking)
    linking.save_revision().publish()

    changed = ArticlePage.objects.live().public().exclude(pk=linking.pk).first()
    changed.title = SECRETS["draft_change"]
    changed.save_revision()  # saved, not published


@pytest.fixture(scope="session")
def exports(demo_site, django_db_blocker, tmp_path_factory):
    """{(structure, design): folder} of the demo site exported in every variant, with
    hidden content present that must not leak."""
    from kokasen.static_export import builder

    folders = {}
    with django_db_blocker.unblock():
        make_hidden_content()
        for structure, design in VARIANTS:
            out = tmp_path_factory.mktemp(f"export-{structure}-{design}")
            shutil.rmtree(out)
            builder.export_site(out_dir=out, structure=structure, design=design)
            folders[(structure, design)] = out
    return folders


@pytest.fixture
def member_a(db):
    from kokasen.accounts.models import RegisteredAddress
    from kokasen.testing import CODE_A, make_member

    user = make_member(CODE_A)
    RegisteredAddress.objects.create(user=user, address="kosodate@city.sapporo.example.jp")
    return user


@pytest.fixture
def member_b(db):
    from kokasen.testing import CODE_B, make_member

    return make_member(CODE_B)


@pytest.fixture
def agency_admin(db):
    from kokasen.accounts import roles
    from kokasen.testing import make_staff

    user = make_staff(roles.AGENCY_ADMIN, username="agency-admin")
    user.email = "admin@cfa.example.go.jp"
    user.save()
    return user


@pytest.fixture
def operator(db):
    from kokasen.accounts import roles
    from kokasen.testing import make_staff

    user = make_staff(roles.OPERATOR, username="operator")
    user.email = "ops@contractor.example.jp"
    user.save()
    return user


@pytest.fixture
def staff_client(client, operator):
    from kokasen.testing import login_staff

    login_staff(client, operator)
    return client


@pytest.fixture
def member_client(client, demo_site):
    from kokasen.testing import CODE_A, login_member, make_member

    login_member(client, make_member(CODE_A))
    return client


@pytest.fixture
def artifacts_dir():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def smtp_certificate(tmp_path_factory):
    from kokasen.testing.smtp import self_signed_certificate

    return self_signed_certificate(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def smtp_server(smtp_certificate, settings, monkeypatch):
    """A real SMTP server on 127.0.0.1 that requires STARTTLS; Django is pointed at it and
    trusts its self-signed certificate. Yields the handler (``.received``, ``.refuse``)."""
    from kokasen.testing.smtp import RecordingHandler, TLSController

    cert, key = smtp_certificate
    handler = RecordingHandler()
    controller = TLSController(handler, cert, key)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = True, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "kokasen@portal.example.go.jp"
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def live_site(demo_site, django_db_blocker):
    """Django's LiveServerThread on the test database, with the demo site loaded: yields the
    base URL (``http://127.0.0.1:PORT``).

    pytest-django's ``live_server`` would make a test transactional, and a transactional test
    empties every table afterwards, taking the demo site away from the tests that follow. This
    server shares the session's in-memory SQLite connection instead (on PostgreSQL it opens
    its own connection and sees committed rows). Browser tests create their rows up front with
    ``django_db_blocker.unblock()``, delete them at the end, and touch no database while
    Playwright's event loop runs.
    """
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.db import connections
    from django.test.testcases import LiveServerThread

    with django_db_blocker.unblock():
        shared = {conn.alias: conn for conn in connections.all() if conn.vendor == "sqlite" and conn.is_in_memory_db()}
        for conn in shared.values():
            conn.inc_thread_sharing()
        server = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override=shared, port=0)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        try:
            yield f"http://127.0.0.1:{server.port}"
        finally:
            server.terminate()
            for conn in shared.values():
                conn.dec_thread_sharing()


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory, smtp_certificate):
    """A SQLite file migrated once by ``manage.py migrate`` with production settings, for
    tests that drive ``manage.py`` in subprocesses (kill -9 tests). Copy it, never write it."""
    from kokasen.testing.smtp import manage, subprocess_env

    database = tmp_path_factory.mktemp("migrated") / "template.sqlite3"
    done = manage(subprocess_env(database, 25, smtp_certificate[0]), "migrate", "-v0")
    assert done.returncode == 0, done.stderr
    return database


@pytest.fixture
def fresh_sqlite_file(migrated_sqlite_file, tmp_path):
    """A private copy of the migrated SQLite file (with its -wal file, should one be left)."""
    copy = tmp_path / "db.sqlite3"
    for suffix in ("", "-wal"):
        source = migrated_sqlite_file.with_name(migrated_sqlite_file.name + suffix)
        if source.exists():
            shutil.copyfile(source, copy.with_name(copy.name + suffix))
    return copy


@pytest.fixture(scope="session")
def clamd_server(tmp_path_factory):
    """A real clamd (Debian's clamav-daemon) with a test signature database made by sigtool, on a
    unix socket and a loopback TCP port, for the whole session (kokasen/testing/clamd.py). Files
    containing ``kokasen.testing.clamd.TEST_SIGNATURE_TEXT`` are reported infected. A missing
    clamd or sigtool fails the test, naming the package."""
    from kokasen.testing.clamd import ClamdMissing, ClamdServer
    from kokasen.testing.smtp import free_port

    try:
        server = ClamdServer(tmp_path_factory.mktemp("clamd"), tcp_port=free_port()).start()
    except ClamdMissing as missing:
        pytest.fail(str(missing))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hanging_port():
    """A loopback port that accepts connections and never answers (kokasen/testing/sockets.py)."""
    from kokasen.testing.sockets import hanging_listener

    with hanging_listener() as port:
        yield port
