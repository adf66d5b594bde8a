"""Turns the sample content (content.py, read from data/) into Wagtail pages, documents and
images, with the members area (members.py); the demo accounts and their files in var/.

Idempotent: anything that already exists (matched by slug, or by file name for files)
is left as it is, so editors' changes survive a second run.
"""

import datetime
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Page, Site

from kokasen.accounts import roles
from kokasen.pages import accessibility
from kokasen.pages.models import (
    ArticlePage,
    HomePage,
    MenuGroup,
    NewsIndexPage,
    NewsPage,
    PortalSettings,
    SectionPage,
    SitemapPage,
)
from kokasen.pages.policies import ensure_policy_pages

from . import content, members
from .sample_pdfs import read_pdf

MENU_GROUPS = [
    ("about", "こども家庭センターを知る"),
    ("support", "制度・財政支援"),
    ("practice", "実践・連携・人材育成"),
    ("materials", "お知らせ・会議資料"),
]
NEWS_CATEGORIES = {label: value for value, label in NewsPage.Category.choices}
# Sample pages carry a fixed publication time so that re-running the demo (or exporting
# it on another machine) gives the same "最終更新日".
DEMO_PUBLISHED_AT = datetime.datetime(2025, 10, 1, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=9)))
ADMIN_PASSWORD_FILE = Path(settings.BASE_DIR) / "var" / "demo-admin-password.txt"
MEMBER_PASSWORD_FILE = Path(settings.BASE_DIR) / "var" / "demo-member-password.txt"
# The demo admin's one-time link for enrolling an authenticator app (decision 0020).
ADMIN_ENROLMENT_FILE = Path(settings.BASE_DIR) / "var" / "demo-admin-enrolment.txt"
DEMO_MEMBER_CODE = "272035"  # 大阪府豊中市


class DemoLoader:
    def __init__(self, log=print):
        self.log = log
        self.documents = {}
        self.images = {}
        self.created = 0

    @transaction.atomic
    def run(self):
        roles.ensure_role_groups()
        home = self.home()
        groups = self.menu_groups()
        self.load_files()
        for section in content.SECTIONS:
            if section["kind"] == "news":
                parent = self.child(home, NewsIndexPage, section, menu_group=groups[section["group"]])
                for item in content.NEWS:
                    self.news(parent, item)
            else:
                parent = self.child(home, SectionPage, section, menu_group=groups[section["group"]])
                for article in section["articles"]:
                    self.article(parent, article)
        self.child(
            home,
            SitemapPage,
            {"title": "サイトマップ", "slug": "sitemap", "summary": "このサイトのすべてのページの一覧です。"},
            show_in_menus=False,
        )
        self.created += ensure_policy_pages(home, publish=self.publish)  # footer: お問い合わせ, policies
        accessibility.publish(home, publish=self.publish)  # 方針 and 試験結果 from the data (decision 0059)
        PortalSettings.for_site(Site.objects.get(is_default_site=True)).save()
        # The locked members area (/members/) and its private files: members.py.
        self.created += members.load(home, publish=self.publish, log=lambda *args: None)
        self.log(f"デモコンテンツ: {self.created} ページを作成しました。")

    # --- site and tree ---

    def home(self) -> HomePage:
        home = HomePage.objects.first()
        root = Page.get_first_root_node()
        if home is None:
            home = HomePage(title=content.HOME["title"], slug="home-portal", lead=content.HOME["lead"])
            root.add_child(instance=home)
            self.publish(home)
            self.created += 1
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            site = Site(hostname="localhost", port=80, is_default_site=True, site_name=settings.WAGTAIL_SITE_NAME)
        if site.root_page_id != home.pk or site.site_name != settings.WAGTAIL_SITE_NAME:
            site.root_page = home
            site.site_name = settings.WAGTAIL_SITE_NAME
            site.save()
        # Wagtail's placeholder "Welcome to your new Wagtail site!" page is not needed.
        for page in root.get_children().exclude(pk=home.pk).filter(content_type__model="page"):
            page.delete()
        return home

    def menu_groups(self) -> dict[str, MenuGroup]:
        groups = {}
        for order, (slug, title) in enumerate(MENU_GROUPS, start=1):
            groups[slug], _ = MenuGroup.objects.get_or_create(slug=slug, defaults={"title": title, "sort_order": order})
        return groups

    def child(self, parent, model, data, published_at=DEMO_PUBLISHED_AT, **fields):
        existing = model.objects.child_of(parent).filter(slug=data["slug"]).first()
        if existing:
            return existing
        page = model(
            title=data["title"],
            slug=data["slug"],
            summary=data.get("summary", ""),
            show_in_menus=fields.pop("show_in_menus", True),
            **fields,
        )
        parent.add_child(instance=page)
        self.publish(page, published_at)
        self.created += 1
        return page

    def article(self, parent, data):
        page = self.child(parent, ArticlePage, data, body=self.stream(data["body"]), show_in_menus=False)
        for sub in data.get("articles", []):
            self.article(page, sub)

    def news(self, parent, data):
        date = datetime.date.fromisoformat(data["date"])
        self.child(
            parent,
            NewsPage,
            data,
            published_at=datetime.datetime.combine(date, datetime.time(10, 0), tzinfo=DEMO_PUBLISHED_AT.tzinfo),
            date=date,
            category=NEWS_CATEGORIES.get(data.get("category"), NewsPage.Category.NOTICE),
            body=self.stream(data.get("body", [])),
            show_in_menus=False,
        )

    def publish(self, page, published_at=DEMO_PUBLISHED_AT):
        page.save_revision().publish()
        Page.objects.filter(pk=page.pk).update(first_published_at=published_at, last_published_at=published_at)

    # --- files ---

    def load_files(self):
        Document = get_document_model()
        Image = get_image_model()
        for key, spec in content.DOCUMENTS.items():
            document = Document.objects.filter(title=spec["title"]).first()
            if document is None:
                document = Document(title=spec["title"])
                document.file.save(spec["filename"], ContentFile(read_pdf(spec["filename"])), save=False)
                document.save()
            self.documents[key] = document
        for key, spec in content.IMAGES.items():
            image = Image.objects.filter(title=spec["title"]).first()
            if image is None:
                image = Image(title=spec["title"])
                image.file.save(spec["filename"], ContentFile(spec["svg"].encode("utf-8")), save=False)
                image._set_image_file_metadata()
                with image.get_willow_image() as willow:
                    image.width, image.height = (round(v) for v in willow.get_size())
                image.save()
            self.images[key] = image

    # --- StreamField values ---

    def stream(self, blocks):
        return [(kind, self.block_value(kind, value)) for kind, value in blocks]

    def block_value(self, kind, value):
        if kind == "documents":
            return {
                "title": value.get("title", ""),
                "documents": [{"document": self.documents[key], "title": ""} for key in value["documents"]],
            }
        if kind == "image":
            return {**value, "image": self.images[value["image"]]}
        if kind == "links":
            return {
                "title": value.get("title", ""),
                "links": [{"title": link["title"], "url": link["url"], "page": None} for link in value["links"]],
            }
        if kind == "accordion":
            return {"title": value.get("title", ""), "items": [dict(item) for item in value["items"]]}
        if kind == "table":
            return {
                "caption": value["caption"],
                "table": {
                    "data": [list(value["header"]), *[list(row) for row in value["rows"]]],
                    "first_row_is_table_header": True,
                    "first_col_is_header": False,
                },
            }
        return value


def _demo_password(path: Path) -> str:
    """The demo password kept in ``path`` (var/, never in git), made on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12) + "\n", encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def ensure_demo_admin(log=print) -> None:
    """A superuser for trying the admin, with its password kept in var/ (never in git)."""
    User = get_user_model()
    user = User.objects.filter(username="admin").first()
    if user is None:
        user = User.objects.create_superuser(
            "admin", email="admin@example.invalid", password=_demo_password(ADMIN_PASSWORD_FILE)
        )
    user.groups.add(roles.ensure_role_groups()[roles.AGENCY_ADMIN])
    if ADMIN_PASSWORD_FILE.exists():
        log(f"管理画面のログイン: ユーザー名 admin / パスワード {_demo_password(ADMIN_PASSWORD_FILE)}")
    else:
        log("管理画面のユーザー admin は作成済みです（パスワードの再設定: python manage.py changepassword admin）。")
    link = _demo_enrolment_link(user)
    if link:
        log("  職員は二要素認証（認証アプリの確認コード）を使います。初回は、先に次の招待URLをブラウザで開いてから")
        log(
            "  ログインしてください。表示されるQRコードを認証アプリで読み取ります（URLは var/demo-admin-enrolment.txt にもあります）。"
        )
        log(f"  {link}")
    else:
        log("  職員は二要素認証を使います。ログインのあと、認証アプリの確認コードを入力してください。")


def _demo_enrolment_link(user) -> str | None:
    """The demo admin's invitation link to enrol an authenticator app, kept in var/ (never in
    git) while it is usable, or a new one; None once the admin has enrolled a device."""
    from kokasen.accounts import enrolment, services, two_factor

    if two_factor.confirmed_devices(user).exists():
        ADMIN_ENROLMENT_FILE.unlink(missing_ok=True)
        return None
    if ADMIN_ENROLMENT_FILE.exists():
        link = ADMIN_ENROLMENT_FILE.read_text(encoding="utf-8").strip()
        invitation = enrolment.by_token(link.rstrip("/").rpartition("/")[2])
        if invitation is not None and invitation.user_id == user.pk and enrolment.problem(invitation) is None:
            return link
    issued = services.enrolment_invitation_issue(
        user=user, print_link=True, issued_by_label="デモデータの読み込み（load_demo）"
    )
    ADMIN_ENROLMENT_FILE.parent.mkdir(parents=True, exist_ok=True)
    ADMIN_ENROLMENT_FILE.unlink(missing_ok=True)
    with os.fdopen(os.open(ADMIN_ENROLMENT_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(issued.link + "\n")
    return issued.link


def ensure_demo_member(log=print) -> None:
    """The account of one local government (大阪府豊中市) for trying the members area."""
    from kokasen.localgov.models import LocalGovernment

    User = get_user_model()
    user = User.objects.filter(username=DEMO_MEMBER_CODE).first()
    if user is None:
        user = User.objects.create_user(
            DEMO_MEMBER_CODE,
            password=_demo_password(MEMBER_PASSWORD_FILE),
            local_government=LocalGovernment.objects.get(code=DEMO_MEMBER_CODE),
        )
    user.groups.add(roles.ensure_role_groups()[roles.MEMBER])
    if MEMBER_PASSWORD_FILE.exists():
        log(
            f"会員エリアのログイン（大阪府豊中市）: ユーザーID {DEMO_MEMBER_CODE} / パスワード {_demo_password(MEMBER_PASSWORD_FILE)}"
        )
