"""Sample content of the members area, loaded by ``manage.py load_demo`` (``loader.DemoLoader``
calls ``load``) from data/members.toml. Idempotent: pages are matched by slug and files by
title, so a second run changes nothing and editors' changes survive.

Everything here is a sample: the local governments are real (so that the filters can be
tried on real master data), but the texts are not their actual initiatives or forms, and
carry no statistics.
"""

import datetime
import io

from django.core.files.base import ContentFile
from wagtail.documents import get_document_model

from kokasen.localgov.models import LocalGovernment
from kokasen.members.models import (
    FormEntry,
    FormsLibraryPage,
    InitiativeIndexPage,
    InitiativeMaterial,
    InitiativePage,
    MembersHomePage,
    RoundtableHandout,
    RoundtableIndexPage,
    RoundtablePage,
)
from kokasen.members.services import members_area_secure, members_collection

from .content import DATA, read
from .sample_pdfs import read_pdf

VIDEO_FILE = DATA / "sample-roundtable.webm"

_data = read("members.toml")
HOME: dict = _data["home"]
FILES: dict[str, dict] = _data["files"]
ROUNDTABLES: list[dict] = _data["roundtables"]
INITIATIVES: list[dict] = _data["initiatives"]
FORMS: list[dict] = _data["forms"]


def _xlsx(title: str) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "サポートプラン"
    sheet.append([title])
    sheet.append(["（サンプル）実在の家庭の情報は入力しないでください。"])
    sheet.append([])
    sheet.append(["項目", "記入欄"])
    for label in ("作成日", "支援の目標", "家庭の希望", "支援の内容・役割分担", "見直しの時期"):
        sheet.append([label, ""])
    fixed = datetime.datetime(2025, 10, 1, 10, 0)
    workbook.properties.created = workbook.properties.modified = fixed
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _content(spec) -> bytes:
    if spec["filename"].endswith(".webm"):
        return VIDEO_FILE.read_bytes()
    if spec["filename"].endswith(".vtt"):
        return spec["vtt"].encode()
    if spec.get("xlsx"):
        return _xlsx(spec["title"])
    return read_pdf(spec["filename"])


def _files(collection) -> dict:
    Document = get_document_model()
    found = {}
    for key, spec in FILES.items():
        document = Document.objects.filter(title=spec["title"]).first()
        if document is None:
            document = Document(title=spec["title"], collection=collection)
            document.file.save(spec["filename"], ContentFile(_content(spec)), save=False)
            document._set_document_file_metadata()
            document.save()
        found[key] = document
    return found


def _child(parent, model, slug, publish, **fields):
    existing = model.objects.child_of(parent).filter(slug=slug).first()
    if existing is not None:
        return existing, False
    page = model(slug=slug, **fields)
    parent.add_child(instance=page)
    publish(page)
    return page, True


def load(home, *, publish, log=print) -> int:
    """Create the sample members area under ``home``; returns how many pages it created."""
    created = 0
    files = _files(members_collection())
    notices = [
        ("notice", {"date": datetime.date.fromisoformat(n["date"]), "title": n["title"], "text": f"<p>{n['text']}</p>"})
        for n in HOME["notices"]
    ]
    members_home, new = _child(
        home, MembersHomePage, HOME["slug"], publish, title=HOME["title"], lead=HOME["lead"], notices=notices
    )
    created += new
    archive, new = _child(
        members_home,
        RoundtableIndexPage,
        "roundtables",
        publish,
        title="座談会アーカイブ",
        intro="こども家庭センター座談会の動画と配布資料です。タグで絞り込めます。",
    )
    created += new
    for spec in ROUNDTABLES:
        existing = RoundtablePage.objects.child_of(archive).filter(slug=spec["slug"]).first()
        if existing is not None:
            continue
        page = RoundtablePage(
            title=spec["title"],
            slug=spec["slug"],
            held_on=datetime.date.fromisoformat(spec["held_on"]),
            summary=spec["summary"],
            transcript=spec["transcript"],
            video=files[spec["video"]] if spec.get("video") else None,
            captions=files[spec["captions"]] if spec.get("captions") else None,
        )
        page.tags.add(*spec["tags"])
        for key in spec["handouts"]:
            page.handouts.add(RoundtableHandout(document=files[key]))
        archive.add_child(instance=page)
        publish(page)
        created += 1

    initiatives, new = _child(
        members_home,
        InitiativeIndexPage,
        "initiatives",
        publish,
        title="各市町村の取組",
        intro="各市町村の取組の資料です。都道府県・人口規模・キーワードで絞り込めます。",
    )
    created += new
    for spec in INITIATIVES:
        if InitiativePage.objects.child_of(initiatives).filter(slug=spec["slug"]).exists():
            continue
        page = InitiativePage(
            title=spec["title"],
            slug=spec["slug"],
            summary=spec["summary"],
            local_government=LocalGovernment.objects.get(code=spec["code"]),
            published_on=datetime.date.fromisoformat(spec["published_on"]),
        )
        page.materials.add(InitiativeMaterial(document=files[spec["material"]]))
        initiatives.add_child(instance=page)
        publish(page)
        created += 1

    library = FormsLibraryPage.objects.child_of(members_home).first()
    if library is None:
        library = FormsLibraryPage(
            title="各市町村の様式",
            slug="forms",
            intro="各市町村が作成した様式です。自分の自治体に合わせて修正してお使いください。",
        )
        for spec in FORMS:
            library.entries.add(
                FormEntry(
                    title=spec["title"],
                    form_type=spec["form_type"],
                    local_government=LocalGovernment.objects.get(code=spec["code"]),
                    description=spec["description"],
                    document=files[spec["document"]],
                    second_document=files[spec["second_document"]] if spec.get("second_document") else None,
                    published_on=datetime.date.fromisoformat(spec["published_on"]),
                )
            )
        members_home.add_child(instance=library)
        publish(library)
        created += 1
    members_area_secure()
    log(f"会員エリア: {created} ページを作成しました。")
    return created
