"""Every upload path against a real clamd (REQUIREMENTS S5; decision 0028, "the upload paths").

Files are scanned where Django receives them (kokasen/core/upload_scan.py), so each path below is
driven through HTTP, as a verified staff session, three times:

- a file carrying the test signature (kokasen/testing/clamd.py: clamd names it
  ``Kokasen.Test.Signature.UNOFFICIAL``) is refused with the Japanese message naming it, and
  nothing is stored: no row in any table but the refusal's own audit event, no file under
  MEDIA_ROOT, no temporary file left;
- the same file without the signature is accepted (the control);
- with clamd stopped, the clean file is refused with the message that the check could not be
  done (never that the file is infected), and nothing is stored either.

``FORMS`` and ``MODEL_FILE_FIELDS`` name every form class and every model field that takes a
file, and the paths that exercise them. A new one (a form with a FileField anywhere in the
project or in an installed app, a model FileField) fails ``test_every_form_that_takes_a_file_is_
a_known_upload_path`` or ``test_every_model_file_field_is_a_known_upload_path`` until it has a
line here and a path in ``PATHS``.
"""

from __future__ import annotations

import html
import importlib
import io
import json
import pkgutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django import forms
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import get_resolver, reverse
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Collection
from wagtail.users.models import UserProfile

import kokasen
from kokasen.accounts import roles
from kokasen.core import upload_scan
from kokasen.core.antivirus import Status
from kokasen.core.models import AuditEvent
from kokasen.core.virus_scan import MESSAGES
from kokasen.demo.members import VIDEO_FILE
from kokasen.demo.sample_pdfs import read_pdf
from kokasen.localgov.models import LocalGovernment
from kokasen.meetings.models import CenterStatus, Participant, SurveyResponse
from kokasen.meetings.tests.builders import make_meeting
from kokasen.members.tests.imaging import png_bytes
from kokasen.testing import login_staff, make_staff
from kokasen.testing.clamd import TEST_SIGNATURE_NAME, TEST_SIGNATURE_TEXT, ClamdServer

pytestmark = pytest.mark.django_db

INFECTED_MESSAGE = MESSAGES[Status.INFECTED].format(signature=TEST_SIGNATURE_NAME)
UNAVAILABLE_MESSAGE = MESSAGES[None]
PDF = read_pdf("roundtable-01-handout-1.pdf")  # any valid PDF: a committed demo sample
BEFORE_PDF = read_pdf("assessment-sheet-sample.pdf")


# --- the scene: a verified staff session and what the paths need -----------------------------------------


@dataclass
class Scene:
    client: Client
    user: object
    collection: Collection
    document: object  # an existing document, for "replace the file"
    image: object
    meeting: object


@pytest.fixture
def scene(db):
    user = make_staff(roles.AGENCY_ADMIN)
    user.is_staff = user.is_superuser = True  # Wagtail's redirect import is for superusers
    user.save()
    client = Client()
    login_staff(client, user)
    UserProfile.get_for_user(user)  # the account page creates it on first visit: not the upload's doing
    collection = Collection.get_first_root_node()
    document = get_document_model().objects.create(
        title="差し替え前の資料", collection=collection, file=_content_file("before.pdf", BEFORE_PDF)
    )
    image = get_image_model()(title="差し替え前の図", collection=collection)
    image.file = _image_file("before.png", png_bytes())
    image._set_image_file_metadata()
    image.save()
    meeting = make_meeting(area="west")
    return Scene(client, user, collection, document, image, meeting)


def _content_file(name, data):
    from django.core.files.base import ContentFile

    return ContentFile(data, name=name)


def _image_file(name, data):
    from django.core.files.images import ImageFile

    return ImageFile(io.BytesIO(data), name=name)


@pytest.fixture
def folders(tmp_path, settings, monkeypatch):
    """MEDIA_ROOT and every temporary folder (Django's upload files, Wagtail's redirect import)
    in this test's own folders, so that what is left on disk can be listed."""
    media, temporary = tmp_path / "media", tmp_path / "tmp"
    media.mkdir()
    temporary.mkdir()
    settings.MEDIA_ROOT, settings.FILE_UPLOAD_TEMP_DIR = media, str(temporary)
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    return media, temporary


@pytest.fixture
def scanning(settings, clamd_server):
    settings.CLAMD_ADDRESS, settings.VIRUS_SCAN_REQUIRED = clamd_server.socket_path, True
    return clamd_server


@pytest.fixture(scope="module")
def stopped_clamd(tmp_path_factory, clamd_server):
    """The socket path of a clamd that was started and then stopped."""
    server = ClamdServer(tmp_path_factory.mktemp("stopped-clamd"), database=clamd_server.database)
    server.start()
    server.stop()
    return server.socket_path


# --- the paths -----------------------------------------------------------------------------------


def town():
    return LocalGovernment.objects.filter(kind="town", area="west").order_by("code").first()


def address_list():
    return "団体コード,団体名,メールアドレス\r\n011002,札幌市,kosodate@city.sapporo.example.jp\r\n".encode()


def roster():
    lg = town()
    return (
        "団体コード,団体名,部署,役職,氏名,メールアドレス,センター設置\r\n"
        f"{lg.code},{lg.name},こども家庭課,係長,試験 花子,hanako@town.example.lg.jp,設置済\r\n"
    ).encode("cp932")


def center_list():
    lg = town()
    return f"団体コード,団体名,センター設置\r\n{lg.code},{lg.name},設置済\r\n".encode()


def access_log():
    """Two requests of a person in the combined format (the agency's own server's log)."""
    agent = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
    )
    return "".join(
        f'203.0.113.10 - - [04/Nov/2026:09:00:0{n} +0900] "GET {uri} HTTP/1.1" 200 1000 "-" "{agent}"\n'
        for n, uri in enumerate(["/", "/news/"])
    ).encode()


@dataclass
class UploadPath:
    """``post(scene, name, data)`` sends the file the way the screen does; ``clean`` is a file the
    path accepts, as (name, bytes); ``accepted(response, scene)`` says the control went through."""

    id: str
    post: Callable
    clean: Callable[[], tuple[str, bytes]]
    accepted: Callable


def _file(name, data):
    upload = io.BytesIO(data)
    upload.name = name
    return upload


def _document_fields(scene, name, data, title="ウイルス検査の確認"):
    return {"title": title, "file": _file(name, data), "collection": scene.collection.pk, "tags": ""}


def _json(response):
    return json.loads(response.content)


def _redirected(response, scene):
    return response.status_code == 302


PATHS = [
    # Documents and members' videos (MP4, WebM: Wagtail documents), Wagtail admin.
    UploadPath(
        "documents-add",
        lambda s, n, d: s.client.post(reverse("wagtaildocs:add"), _document_fields(s, n, d)),
        lambda: ("配布資料.pdf", PDF),
        lambda r, s: r.status_code == 302 and get_document_model().objects.filter(title="ウイルス検査の確認").exists(),
    ),
    UploadPath(
        "video-add",
        lambda s, n, d: s.client.post(reverse("wagtaildocs:add"), _document_fields(s, n, d)),
        lambda: ("座談会の録画.webm", VIDEO_FILE.read_bytes()),
        lambda r, s: (
            r.status_code == 302
            and get_document_model().objects.get(title="ウイルス検査の確認").filename.endswith(".webm")
        ),
    ),
    UploadPath(
        "documents-multiple",
        lambda s, n, d: s.client.post(
            reverse("wagtaildocs:add_multiple"), {"files[]": _file(n, d), "collection": s.collection.pk}
        ),
        lambda: ("配布資料.pdf", PDF),
        lambda r, s: _json(r)["success"] is True,
    ),
    UploadPath(
        "documents-chooser",
        lambda s, n, d: s.client.post(
            reverse("wagtaildocs_chooser:create"),
            {
                "document-chooser-upload-title": "ウイルス検査の確認",
                "document-chooser-upload-file": _file(n, d),
                "document-chooser-upload-collection": s.collection.pk,
                "document-chooser-upload-tags": "",
            },
        ),
        lambda: ("配布資料.pdf", PDF),
        lambda r, s: _json(r)["step"] == "chosen",
    ),
    UploadPath(
        "documents-replace",
        lambda s, n, d: s.client.post(
            reverse("wagtaildocs:edit", args=[s.document.pk]), _document_fields(s, n, d, title=s.document.title)
        ),
        lambda: ("差し替え後の資料.pdf", PDF),
        lambda r, s: r.status_code == 302 and get_document_model().objects.get(pk=s.document.pk).file.read() == PDF,
    ),
    # Images, Wagtail admin.
    UploadPath(
        "images-add",
        lambda s, n, d: s.client.post(reverse("wagtailimages:add"), _document_fields(s, n, d)),
        lambda: ("図.png", png_bytes()),
        lambda r, s: r.status_code == 302 and get_image_model().objects.filter(title="ウイルス検査の確認").exists(),
    ),
    UploadPath(
        "images-multiple",
        lambda s, n, d: s.client.post(
            reverse("wagtailimages:add_multiple"), {"files[]": _file(n, d), "collection": s.collection.pk}
        ),
        lambda: ("図.png", png_bytes()),
        lambda r, s: _json(r)["success"] is True,
    ),
    UploadPath(
        "images-chooser",
        lambda s, n, d: s.client.post(
            reverse("wagtailimages_chooser:create"),
            {
                "image-chooser-upload-title": "ウイルス検査の確認",
                "image-chooser-upload-file": _file(n, d),
                "image-chooser-upload-collection": s.collection.pk,
                "image-chooser-upload-tags": "",
            },
        ),
        lambda: ("図.png", png_bytes((30, 60, 200))),  # not the scene's image: the chooser would offer that one
        lambda r, s: _json(r)["step"] == "chosen",
    ),
    UploadPath(
        "images-replace",
        lambda s, n, d: s.client.post(
            reverse("wagtailimages:edit", args=[s.image.pk]), _document_fields(s, n, d, title=s.image.title)
        ),
        lambda: ("差し替え後の図.png", png_bytes((10, 120, 40))),
        lambda r, s: (
            r.status_code == 302 and get_image_model().objects.get(pk=s.image.pk).file.name != s.image.file.name
        ),
    ),
    # Wagtail's own screens: the profile picture and the redirect import.
    UploadPath(
        "avatar",
        lambda s, n, d: s.client.post(
            reverse("wagtailadmin_account"),
            {
                "name_email-first_name": "試験",
                "name_email-last_name": "職員",
                "name_email-email": "staff@cfa.example.go.jp",
                "avatar-avatar": _file(n, d),
                "locale-preferred_language": "ja",
                "locale-current_time_zone": "Asia/Tokyo",
                "theme-theme": "system",
                "theme-density": "default",
                "theme-contrast": "system",
                "theme-keyboard_shortcuts": "on",
            },
        ),
        lambda: ("顔写真.png", png_bytes()),
        lambda r, s: r.status_code == 302 and bool(UserProfile.get_for_user(s.user).avatar),
    ),
    UploadPath(
        "redirects-import",
        lambda s, n, d: s.client.post(reverse("wagtailredirects:start_import"), {"import_file": _file(n, d)}),
        lambda: ("redirects.csv", b"from,to\r\n/old-page/,/new-page/\r\n"),
        lambda r, s: r.status_code == 200 and "import_file_name" in r.content.decode(),
    ),
    # The portal's imports.
    UploadPath(
        "address-list",
        lambda s, n, d: s.client.post(reverse("accounts_admin:import"), {"file": _file(n, d)}),
        lambda: ("アドレス一覧.csv", address_list()),
        lambda r, s: r.status_code == 200 and "問題はありません" in r.content.decode(),
    ),
    UploadPath(
        "roster",
        lambda s, n, d: s.client.post(reverse("meetings_admin:roster", args=[s.meeting.pk]), {"file": _file(n, d)}),
        lambda: ("名簿.csv", roster()),
        lambda r, s: r.status_code == 302 and Participant.objects.filter(meeting=s.meeting).count() == 1,
    ),
    UploadPath(
        "center-list",
        lambda s, n, d: s.client.post(reverse("meetings_admin:center_list"), {"file": _file(n, d)}),
        lambda: ("センター設置状況.csv", center_list()),
        lambda r, s: r.status_code == 302 and CenterStatus.objects.filter(local_government=town()).exists(),
    ),
    UploadPath(
        "survey",
        lambda s, n, d: s.client.post(
            reverse("meetings_admin:report_survey", args=[s.meeting.pk]), {"half": "first", "file": _file(n, d)}
        ),
        lambda: ("アンケート.csv", "満足度,よかった点［自由記述］\n満足,参考になりました\n".encode()),
        lambda r, s: r.status_code == 200 and SurveyResponse.objects.filter(meeting=s.meeting).count() == 1,
    ),
]
PATHS.append(
    UploadPath(
        "access-log",
        lambda s, n, d: s.client.post(reverse("analytics_logs:upload"), {"file": _file(n, d)}),
        lambda: ("access.log", access_log()),
        lambda r, s: r.status_code == 200 and "取り込みました" in r.content.decode(),
    )
)
BY_ID = {path.id: path for path in PATHS}

# Form classes whose own fields take a file (not built from a model's FileField) -> their paths.
FORMS = {
    "kokasen.accounts.forms_provisioning.AddressListUploadForm": ["address-list"],
    "kokasen.meetings.forms.UploadForm": ["roster", "center-list"],
    "kokasen.meetings.admin_views_report.SurveyUploadForm": ["survey"],
    "kokasen.analytics.views_upload.AccessLogUploadForm": ["access-log"],
    "wagtail.contrib.redirects.forms.ImportForm": ["redirects-import"],
}
# Every FileField of every model -> the paths that fill it ([]: never from an upload).
MODEL_FILE_FIELDS = {
    # WAGTAILDOCS_DOCUMENT_FORM_BASE (members.forms.SafeDocumentForm); not in the Django admin (core/admin.py).
    "wagtaildocs.Document.file": [
        "documents-add",
        "video-add",
        "documents-multiple",
        "documents-chooser",
        "documents-replace",
    ],
    "wagtailimages.Image.file": ["images-add", "images-multiple", "images-chooser", "images-replace"],
    # Wagtail keeps a multiple-upload file here when the file passed and another field did not.
    "wagtailcore.UploadedFile.file": ["documents-multiple", "images-multiple"],
    "wagtailusers.UserProfile.avatar": ["avatar"],
    # Made by the app from a stored (scanned) image, never uploaded.
    "wagtailimages.Rendition.file": [],
}


# --- what was stored ------------------------------------------------------------------------------


def rows() -> dict[str, int]:
    """Rows of every table but the audit trail (the refusal's own event is checked apart)."""
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and model is not AuditEvent
    }


def files(*folders: Path) -> set[str]:
    return {str(p) for folder in folders for p in folder.rglob("*") if p.is_file()}


def text_of(response) -> str:
    """What the person sees: the page, or every string of a JSON answer (Wagtail's modal and
    multiple-upload answers)."""
    if response["Content-Type"].startswith("application/json"):
        strings = []

        def walk(value):
            if isinstance(value, str):
                strings.append(value)
            elif isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(_json(response))
        return html.unescape("\n".join(strings))
    return html.unescape(response.content.decode())


def infected(data: bytes) -> bytes:
    return data + b"\n" + TEST_SIGNATURE_TEXT + b"\n"


# --- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS, ids=[p.id for p in PATHS])
def test_an_infected_file_is_refused_with_its_name_and_nothing_is_stored(path, scene, folders, scanning):
    name, data = path.clean()
    before_rows, before_files = rows(), files(*folders)
    response = path.post(scene, name, infected(data))
    assert INFECTED_MESSAGE in text_of(response), (response.status_code, text_of(response)[:3000])
    assert not path.accepted(response, scene)
    assert rows() == before_rows, "no row in any table"
    assert files(*folders) == before_files, "no file under MEDIA_ROOT, no temporary file"
    [event] = AuditEvent.objects.filter(action=upload_scan.AUDIT_ACTION)
    assert event.actor == scene.user and event.target_label == name
    detail = event.detail
    assert (detail["result"], detail["signature"], detail["signature_version"]) == ("infected", TEST_SIGNATURE_NAME, 1)
    assert detail["size"] == len(infected(data)) and detail["path"] == response.request["PATH_INFO"]


@pytest.mark.parametrize("path", PATHS, ids=[p.id for p in PATHS])
def test_with_clamd_stopped_a_clean_file_is_refused_as_unchecked(path, scene, folders, settings, stopped_clamd):
    settings.CLAMD_ADDRESS, settings.VIRUS_SCAN_REQUIRED = stopped_clamd, True
    name, data = path.clean()
    before_rows, before_files = rows(), files(*folders)
    response = path.post(scene, name, data)
    text = text_of(response)
    assert UNAVAILABLE_MESSAGE in text, (response.status_code, text[:3000])
    assert "ウイルス（" not in text and "見つかった" not in text, "not said to be infected"
    assert not path.accepted(response, scene)
    assert rows() == before_rows and files(*folders) == before_files
    [event] = AuditEvent.objects.filter(action=upload_scan.AUDIT_ACTION)
    assert (event.detail["result"], event.detail["reason"]) == ("unavailable", "connection")


@pytest.mark.parametrize("path", PATHS, ids=[p.id for p in PATHS])
def test_a_clean_file_is_accepted(path, scene, folders, scanning):
    name, data = path.clean()
    response = path.post(scene, name, data)
    assert path.accepted(response, scene), (response.status_code, text_of(response)[:3000])
    assert not AuditEvent.objects.filter(action=upload_scan.AUDIT_ACTION).exists()


# --- every upload path is one of these ---------------------------------------------------------------


def _import_everything():
    """The URLconf with every include (Wagtail's admin, the screens our hooks register) and
    every module of the project but tests, migrations and settings."""

    def walk(resolver):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern)

    walk(get_resolver())
    for module in pkgutil.walk_packages(kokasen.__path__, "kokasen."):
        parts = module.name.split(".")
        if {"tests", "migrations", "settings", "bench"} & set(parts) or parts[-1] == "conftest":
            continue
        importlib.import_module(module.name)
    for config in apps.get_app_configs():
        for name in ("forms", "admin", "views", "wagtail_hooks"):
            try:
                importlib.import_module(f"{config.name}.{name}")
            except ModuleNotFoundError as missing:
                if missing.name != f"{config.name}.{name}":
                    raise


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _model_file_field(form_class, name) -> str | None:
    model = getattr(getattr(form_class, "_meta", None), "model", None)
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except Exception:
        return None
    return f"{model._meta.label}.{name}" if isinstance(field, models.FileField) else None


def test_every_form_that_takes_a_file_is_a_known_upload_path():
    _import_everything()
    found, unknown = set(), []
    for form_class in set(_subclasses(forms.BaseForm)):
        if form_class.__module__.startswith("wagtail.test"):
            continue
        for name, field in getattr(form_class, "base_fields", {}).items():
            if not isinstance(field, forms.FileField):
                continue
            dotted = f"{form_class.__module__}.{form_class.__qualname__}"
            model_field = _model_file_field(form_class, name)
            if dotted in FORMS:
                found.add(dotted)
            elif model_field not in MODEL_FILE_FIELDS:
                unknown.append(f"{dotted}.{name}")
    assert not unknown, f"forms that take a file but have no line in FORMS (and no path test): {unknown}"
    assert found == set(FORMS), f"FORMS names forms that no longer exist: {set(FORMS) - found}"


def test_every_model_file_field_is_a_known_upload_path():
    fields = {
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    }
    assert fields == set(MODEL_FILE_FIELDS)


def test_every_listed_path_is_tested_and_every_tested_path_listed():
    listed = {path_id for ids in [*FORMS.values(), *MODEL_FILE_FIELDS.values()] for path_id in ids}
    assert listed == set(BY_ID)


def test_every_upload_handler_scans():
    """The handlers of every settings module (production takes base.py's) and of this run."""
    from django.conf import settings

    from kokasen.settings import base

    assert base.FILE_UPLOAD_HANDLERS == upload_scan.HANDLERS == settings.FILE_UPLOAD_HANDLERS
    project = Path(kokasen.__file__).parent
    replacing = [
        str(p)
        for p in project.rglob("*.py")
        if "upload_handlers" in p.read_text(encoding="utf-8") and p.name != Path(__file__).name
    ]
    assert replacing == [], "a view that sets request.upload_handlers would skip the scan"


def test_the_django_admin_offers_no_document_or_image_upload(staff_client):
    """Documents and images are uploaded through Wagtail's screens only (core/admin.py)."""
    from django.contrib import admin
    from django.urls import NoReverseMatch

    assert not admin.site.is_registered(get_document_model())
    assert not admin.site.is_registered(get_image_model())
    for name in ("admin:wagtaildocs_document_add", "admin:wagtailimages_image_add"):
        with pytest.raises(NoReverseMatch):
            reverse(name)
