"""Sample content of the members area, loaded by ``manage.py load_demo``
(kokasen.pages.demo.loader calls ``load``). Idempotent: pages are matched by slug and files
by title, so a second run changes nothing and editors' changes survive.

Everything here is a sample: the local governments are real (so that the filters can be
tried on real master data), but the texts are not their actual initiatives or forms, and
carry no statistics.
"""

import datetime
import io
from pathlib import Path

from django.core.files.base import ContentFile
from wagtail.documents import get_document_model

from kokasen.localgov.models import LocalGovernment
from kokasen.pages.demo.pdf import make_pdf

from ..models import (
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
from ..services import members_area_secure, members_collection

HERE = Path(__file__).resolve().parent
VIDEO_FILE = HERE / "sample-roundtable.webm"
SAMPLE_NOTE = "（サンプル）画面の表示例です。自治体名は実在しますが、内容は当該自治体の実際の取組・様式ではありません。"

HOME = {
    "title": "会員エリア",
    "slug": "members",
    "lead": "自治体のこども家庭センターの皆さま向けのページです。座談会の動画・資料、各市町村の取組や様式をご覧いただけます。",
    "notices": [
        ("2025-10-01", "会員エリアを公開しました（サンプル）", "座談会の動画と資料、各市町村の取組、様式を順次掲載します。"),
        ("2025-10-15", "資料の取扱いについて（サンプル）", "会員エリアの資料は、業務での参考にのみお使いください。外部への転送や再配布はご遠慮ください。"),
    ],
}

FILES = {
    "rt1-video": {"title": "第1回座談会 録画（サンプル動画）", "filename": "roundtable-01-video.webm"},
    "rt1-handout-1": {
        "title": "第1回座談会 配布資料1 話題提供（サンプル）",
        "filename": "roundtable-01-handout-1.pdf",
        "pages": [{"heading": "話題提供", "paragraphs": ["統括支援員の役割と、母子保健・児童福祉の連携について話題提供するための資料の見本です。"]}],
    },
    "rt1-handout-2": {
        "title": "第1回座談会 配布資料2 グループ討議の進め方（サンプル）",
        "filename": "roundtable-01-handout-2.pdf",
        "pages": [{"heading": "グループ討議の進め方", "paragraphs": ["自己紹介、事例の共有、意見交換の順に進める場合の進行表の見本です。"]}],
    },
    "rt2-handout-1": {
        "title": "第2回座談会 配布資料 サポートプランの作成（サンプル）",
        "filename": "roundtable-02-handout-1.pdf",
        "pages": [{"heading": "サポートプランの作成", "paragraphs": ["家庭と一緒にサポートプランを作るときの流れを説明する資料の見本です。"]}],
    },
    "init-1": {
        "title": "取組資料 妊娠期からの切れ目ない面談（サンプル）",
        "filename": "initiative-nabari-sample.pdf",
        "pages": [{"heading": "取組の概要（表示例）", "paragraphs": [SAMPLE_NOTE]}],
    },
    "init-2": {
        "title": "取組資料 母子保健と児童福祉の合同ケース会議（サンプル）",
        "filename": "initiative-obuse-sample.pdf",
        "pages": [{"heading": "取組の概要（表示例）", "paragraphs": [SAMPLE_NOTE]}],
    },
    "init-3": {
        "title": "取組資料 小規模自治体での一体的な相談体制（サンプル）",
        "filename": "initiative-nishiawakura-sample.pdf",
        "pages": [{"heading": "取組の概要（表示例）", "paragraphs": [SAMPLE_NOTE]}],
    },
    "form-1": {"title": "サポートプラン様式（サンプル）", "filename": "support-plan-sample.xlsx", "xlsx": True},
    "form-1-pdf": {
        "title": "サポートプラン様式 記入例（サンプル）",
        "filename": "support-plan-example.pdf",
        "pages": [{"heading": "記入例", "paragraphs": ["各欄の書き方の例を示す見本です。実在の家庭の情報は含みません。"]}],
    },
    "form-2": {
        "title": "アセスメントシート（サンプル）",
        "filename": "assessment-sheet-sample.pdf",
        "pages": [{"heading": "アセスメントシート", "paragraphs": ["家庭の状況を整理するための項目を並べたシートの見本です。"]}],
    },
}

ROUNDTABLES = [
    {
        "title": "第1回 こども家庭センター座談会（サンプル）",
        "slug": "roundtable-01",
        "held_on": "2025-07-15",
        "summary": "テーマ：統括支援員の役割と、母子保健・児童福祉の連携。設置して間もないセンターの担当者が、日々の工夫と悩みを話し合いました（サンプル）。",
        "tags": ["統括支援員", "母子保健", "連携"],
        "video": "rt1-video",
        "transcript": "（サンプル）司会が座談会の趣旨を説明し、参加者が自己紹介をしました。動画は画面の表示例で、テスト用の映像と音が流れます。",
        "handouts": ["rt1-handout-1", "rt1-handout-2"],
    },
    {
        "title": "第2回 こども家庭センター座談会（サンプル）",
        "slug": "roundtable-02",
        "held_on": "2025-09-10",
        "summary": "テーマ：サポートプランの作成と、家庭と一緒に考える支援。作成の手順と記入の工夫を共有しました（サンプル）。",
        "tags": ["サポートプラン", "連携"],
        "video": None,
        "transcript": "",
        "handouts": ["rt2-handout-1"],
    },
]

INITIATIVES = [
    {
        "code": "242080",  # 三重県名張市
        "title": "【サンプル】妊娠期からの切れ目ない面談の取組",
        "slug": "sample-nabari",
        "published_on": "2025-10-01",
        "summary": "妊娠届出時の面談から出産後の訪問までを一つの窓口でつなぐ取組の紹介ページの表示例です。" + SAMPLE_NOTE,
        "material": "init-1",
    },
    {
        "code": "205419",  # 長野県小布施町
        "title": "【サンプル】母子保健と児童福祉の合同ケース会議",
        "slug": "sample-obuse",
        "published_on": "2025-10-08",
        "summary": "保健師と児童福祉の担当者が毎月合同でケース会議を開く取組の紹介ページの表示例です。" + SAMPLE_NOTE,
        "material": "init-2",
    },
    {
        "code": "336432",  # 岡山県西粟倉村
        "title": "【サンプル】小規模自治体での一体的な相談体制",
        "slug": "sample-nishiawakura",
        "published_on": "2025-10-15",
        "summary": "少人数の職員で母子保健と子育て相談を一体的に受ける体制の紹介ページの表示例です。" + SAMPLE_NOTE,
        "material": "init-3",
    },
]

FORMS = [
    {
        "title": "サポートプラン様式（サンプル）",
        "form_type": FormEntry.FormType.SUPPORT_PLAN,
        "code": "242080",
        "description": "Excel 形式の様式と、PDF の記入例です（サンプル）。",
        "document": "form-1",
        "second_document": "form-1-pdf",
        "published_on": "2025-10-01",
    },
    {
        "title": "アセスメントシート（サンプル）",
        "form_type": FormEntry.FormType.ASSESSMENT,
        "code": "205419",
        "description": "",
        "document": "form-2",
        "second_document": None,
        "published_on": "2025-10-08",
    },
]


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
    if spec.get("xlsx"):
        return _xlsx(spec["title"])
    return make_pdf(spec["title"], spec["pages"])


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
        ("notice", {"date": datetime.date.fromisoformat(d), "title": t, "text": f"<p>{x}</p>"})
        for d, t, x in HOME["notices"]
    ]
    members_home, new = _child(
        home, MembersHomePage, HOME["slug"], publish, title=HOME["title"], lead=HOME["lead"], notices=notices
    )
    created += new
    archive, new = _child(
        members_home, RoundtableIndexPage, "roundtables", publish,
        title="座談会アーカイブ", intro="こども家庭センター座談会の動画と配布資料です。タグで絞り込めます。",
    )
    created += new
    for spec in ROUNDTABLES:
        existing = RoundtablePage.objects.child_of(archive).filter(slug=spec["slug"]).first()
        if existing is not None:
            continue
        page = RoundtablePage(
            title=spec["title"], slug=spec["slug"], held_on=datetime.date.fromisoformat(spec["held_on"]),
            summary=spec["summary"], transcript=spec["transcript"],
            video=files[spec["video"]] if spec["video"] else None,
        )
        page.tags.add(*spec["tags"])
        for key in spec["handouts"]:
            page.handouts.add(RoundtableHandout(document=files[key]))
        archive.add_child(instance=page)
        publish(page)
        created += 1

    initiatives, new = _child(
        members_home, InitiativeIndexPage, "initiatives", publish,
        title="各市町村の取組", intro="各市町村の取組の資料です。都道府県・人口規模・キーワードで絞り込めます。",
    )
    created += new
    for spec in INITIATIVES:
        if InitiativePage.objects.child_of(initiatives).filter(slug=spec["slug"]).exists():
            continue
        page = InitiativePage(
            title=spec["title"], slug=spec["slug"], summary=spec["summary"],
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
            title="各市町村の様式", slug="forms",
            intro="各市町村が作成した様式です。自分の自治体に合わせて修正してお使いください。",
        )
        for spec in FORMS:
            library.entries.add(FormEntry(
                title=spec["title"], form_type=spec["form_type"],
                local_government=LocalGovernment.objects.get(code=spec["code"]),
                description=spec["description"], document=files[spec["document"]],
                second_document=files[spec["second_document"]] if spec["second_document"] else None,
                published_on=datetime.date.fromisoformat(spec["published_on"]),
            ))
        members_home.add_child(instance=library)
        publish(library)
        created += 1
    members_area_secure()
    log(f"会員エリア: {created} ページを作成しました。")
    return created
