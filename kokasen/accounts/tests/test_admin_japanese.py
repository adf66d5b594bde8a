"""The admin staff use daily is Japanese (issue 17 item 4;
docs/decisions/0053-japanese-admin-and-recovery-codes.md).

One walk as the demo's superuser (管理者, with the demo content of ``load_demo``) over
``SCREENS`` and every item of the admin menu: the visible text (no scripts or styles; the
attributes a person sees or hears: title, alt, aria-label, placeholder; the sidebar's labels,
which Wagtail renders from a JSON script) must contain no text of Wagtail's interface in English.
"Wagtail's interface" is every msgid of Wagtail's own catalogues (``wagtail/**/locale/en/…po``),
so names from the content (file names, titles) are not mistaken for it; product names and the
data Wagtail creates (the root page 「Root」, its default groups) are in ``ALLOWED``.
"""

import json
import re
import shutil
import subprocess
from functools import cache
from gettext import GNUTranslations
from html.parser import HTMLParser
from pathlib import Path

import pytest
import wagtail
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from kokasen.testing import login_staff

pytestmark = pytest.mark.django_db

# Visible English that is not Wagtail's interface text: product names, and data Wagtail's own
# migrations create (the tree's root page, the default groups and workflow), kept as they are.
ALLOWED = {"Wagtail", "Excel", "PDF", "ZIP", "CSV", "URL", "ID", "Root", "Editors", "Moderators", "Moderators approval"}
# Wagtail 8's 「None」 (a page published by no user; the status panel's hidden counter) and the
# group's page chooser label 「Page」 bypass gettext: fixed by template overrides (decision 0053).

# The screens staff use daily (decision 0053 lists them); the admin menu's items are added.
SCREENS = [
    "/admin/",  # ダッシュボード
    "/admin/pages/",  # ページ（ルート）
    "/admin/pages/{home}/",  # ページの一覧（エクスプローラー）
    "/admin/pages/{page}/edit/",  # ページの編集
    "/admin/pages/{page}/history/",  # ページの履歴
    "/admin/pages/{home}/add_subpage/",  # 子ページの追加
    "/admin/pages/search/?q=センター",  # ページの検索
    "/admin/images/",
    "/admin/images/{image}/",
    "/admin/images/multiple/add/",
    "/admin/documents/",
    "/admin/documents/edit/{document}/",
    "/admin/documents/multiple/add/",
    "/admin/reports/locked/",
    "/admin/reports/workflow/",
    "/admin/reports/workflow_tasks/",
    "/admin/reports/site-history/",
    "/admin/reports/aging-pages/",
    "/admin/reports/page-types-usage/",
    "/admin/users/",
    "/admin/users/new/",
    "/admin/users/edit/{admin}/",
    "/admin/groups/",
    "/admin/groups/new/",
    "/admin/groups/edit/{group}/",
    "/admin/settings/pages/portalsettings/{site}/",
    "/admin/account/",
    "/admin/collections/",
    "/admin/redirects/",
    "/admin/sites/",
    "/admin/snippets/",
    "/admin/workflows/list/",
    "/admin/workflows/tasks/index/",
    "/admin/recovery-codes/",
    "/admin/tips/posts/{post}/",
    "/admin/meetings/{meeting}/",
]
# The project's own screens that the menu must lead to (the walk fails if one disappears).
OWN_SCREENS = {
    "/admin/ops/",
    "/admin/ops/audit/",
    "/admin/ops/contacts/",
    "/admin/ops/incidents/",
    "/admin/ops/reports/",
    "/admin/local-government-accounts/",
    "/admin/login-security/",
    "/admin/staff-two-factor/",
    "/admin/tips/",
    "/admin/tips/settings/",
    "/admin/feedback/",
    "/admin/meetings/",
}
# Django's permission names (「Wagtail コア | ページ | Can add page」) are stored in English by
# its migrations (data, not the catalogue): shown as they are in the group screen.
DJANGO_PERMISSION = re.compile(r"^[^|]+ \| [^|]+ \| .+$")
SIDEBAR = re.compile(r'<script id="wagtail-sidebar-props" type="application/json">(.*?)</script>', re.S)
PLACEHOLDER = re.compile(r"%\(\w+\)[sdi]|%[sdi]|\{\w*\}")


def _po_entries(path: Path):
    """The entries of a .po file as dicts (msgctxt, msgid, msgid_plural, msgstr…): entries are
    separated by blank lines, continued strings by lines that start with a quote."""
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        entry, key = {}, None
        for line in block.splitlines():
            match = re.match(r'(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                entry[key] = match.group(2)
            elif line.startswith('"') and key:
                entry[key] += line[1:-1]
        if entry.get("msgid"):
            yield entry


@cache
def wagtail_english():
    """Every text of Wagtail's interface: the exact ones, and patterns for those with
    placeholders. A text with markup (「%(total)s Pages <span …>created in …</span>」) counts
    piece by piece, as the page shows it. A placeholder stands for anything when the text has
    two words of its own or more, for a number when it has one (「65 Pages」 but not 「Root page」
    for 「%(count)s page」)."""
    exact, patterns = set(), []
    for po in Path(wagtail.__file__).parent.rglob("locale/en/LC_MESSAGES/*.po"):
        for entry in _po_entries(po):
            for source in (entry.get("msgid"), entry.get("msgid_plural")):
                source = (source or "").replace('\\"', '"').replace("\\n", " ")
                for piece in re.split(r"<[^>]+>", source):
                    text = " ".join(piece.split())
                    words = len(re.findall("[A-Za-z]{2,}", PLACEHOLDER.sub("", text)))
                    if not words:
                        continue
                    if not PLACEHOLDER.search(text):
                        exact.add(text)
                    else:
                        anything = ".+?" if words >= 2 else r"[\d,.]+"
                        parts = [re.escape(part) for part in PLACEHOLDER.split(text)]
                        patterns.append((source, re.compile("^" + anything.join(parts) + "$")))
    return exact - ALLOWED, patterns


class VisibleText(HTMLParser):
    SKIP = {"script", "style", "template", "noscript"}
    ATTRIBUTES = ("title", "alt", "aria-label", "placeholder", "aria-description")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skipping = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif not self.skipping:
            self.parts += [value for name, value in attrs if name in self.ATTRIBUTES and value]

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def sidebar(html: str) -> tuple[list[str], set[str]]:
    """The sidebar's labels and its links into the admin."""
    labels, urls = [], set()

    def walk(node):
        if isinstance(node, dict):
            labels.extend(node[key] for key in ("label", "title") if isinstance(node.get(key), str))
            if isinstance(node.get("url"), str) and node["url"].startswith("/admin/"):
                urls.add(node["url"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    found = SIDEBAR.search(html)
    if found:
        walk(json.loads(found.group(1)))
    return labels, urls


def english_of_wagtail(html: str) -> dict[str, str]:
    """The visible texts that are Wagtail's English, each with the catalogue's text it is."""
    exact, patterns = wagtail_english()
    parser = VisibleText()
    parser.feed(html)
    found = {}
    for part in parser.parts + sidebar(html)[0]:
        text = " ".join(part.split())
        if not re.search("[A-Za-z]{2}", text) or text in ALLOWED or DJANGO_PERMISSION.match(text):
            continue
        if text in exact:
            found[text] = text
        else:
            source = next((source for source, pattern in patterns if pattern.match(text)), None)
            if source:
                found[text] = source
    return found


@pytest.fixture
def demo_admin(client, tmp_path, monkeypatch):
    from kokasen.demo import loader

    monkeypatch.setattr(loader, "ADMIN_PASSWORD_FILE", tmp_path / "admin.txt")  # never the developer's var/
    monkeypatch.setattr(loader, "ADMIN_ENROLMENT_FILE", tmp_path / "enrolment.txt")
    call_command("load_demo", verbosity=0, stdout=open("/dev/null", "w"))
    admin = get_user_model().objects.get(username="admin")
    TOTPDevice.objects.create(user=admin, name="テスト用", confirmed=True)
    login_staff(client, admin)
    return admin


def _scene(admin) -> dict:
    from django.contrib.auth.models import Group
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model
    from wagtail.models import Page, Site

    from kokasen.meetings.models import Meeting
    from kokasen.tips.models import Post

    site = Site.objects.get(is_default_site=True)
    return {
        "home": site.root_page_id,
        "page": Page.objects.filter(depth=3).order_by("path").first().pk,
        "image": get_image_model().objects.order_by("pk").first().pk,
        "document": get_document_model().objects.order_by("pk").first().pk,
        "admin": admin.pk,
        "group": Group.objects.get(name="管理者").pk,
        "site": site.pk,
        "post": Post.objects.order_by("pk").first().pk,
        "meeting": Meeting.objects.order_by("pk").first().pk,
    }


def test_no_english_of_wagtails_interface_on_the_screens_staff_use(client, demo_admin):
    values = _scene(demo_admin)
    _labels, menu = sidebar(client.get("/admin/").content.decode())
    assert OWN_SCREENS <= menu, OWN_SCREENS - menu
    screens = [screen.format(**values) for screen in SCREENS] + sorted(menu)
    english, statuses = {}, {}
    for url in dict.fromkeys(screens):
        response = client.get(url, follow=True)  # a menu item may redirect (the settings to its site)
        if response.status_code != 200:
            statuses[url] = response.status_code
            continue
        found = english_of_wagtail(response.content.decode())
        if found:
            english[url] = sorted(found.items())
    assert not statuses, statuses
    assert not english, "Wagtail's English left untranslated (locale/ja/LC_MESSAGES/django.po):\n" + "\n".join(
        f"{url}: {texts}" for url, texts in english.items()
    )


def test_the_finder_finds_wagtails_english_and_ignores_content():
    html = (
        '<nav aria-label="Actions"><a title="Show filters">x</a></nav><p>Toggle breadcrumbs</p>'
        "<p>sample-guidelines.pdf</p><p>What's new in Wagtail 8.0</p><script>Search…</script>"
        '<a>65 Pages <span class="w-sr-only">created in X</span></a><th>Root page</th>'
    )
    assert set(english_of_wagtail(html).values()) >= {
        "Actions",
        '%(total)s Pages <span class="w-sr-only">created in %(site_name)s</span>',
        "Show filters",
        "Toggle breadcrumbs",
        "What's new in Wagtail %(version)s",
    }
    assert "Search…" not in english_of_wagtail(html) and "Root page" not in english_of_wagtail(html)


def test_the_committed_catalogue_is_compiled_from_the_po_file(tmp_path):
    """The .mo is committed (no gettext needed to deploy); it must be the .po compiled."""
    if not shutil.which("msgfmt"):
        pytest.fail("msgfmt is missing: `make test-tools` installs gettext (Makefile APT_PACKAGES)")
    (catalogue,) = [Path(path) / "ja" / "LC_MESSAGES" for path in settings.LOCALE_PATHS]
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", compiled, catalogue / "django.po"], check=True)
    fresh = GNUTranslations(compiled.open("rb"))._catalog
    committed = GNUTranslations((catalogue / "django.mo").open("rb"))._catalog
    assert committed == fresh, "run make messages and commit locale/ja/LC_MESSAGES/django.mo"


def test_the_overrides_of_wagtails_none_and_page_are_japanese():
    """The three overrides in templates/ (decision 0053): no user reads 「システム」 (Wagtail's own
    text, as the site history says it), the status panel's hidden counter 0, the group's page row
    「ページ」; a deleted publisher still shows Wagtail's own fallback."""
    from django.template.loader import render_to_string
    from django.utils import translation
    from wagtail.admin.ui.side_panels import StatusSidePanel
    from wagtail.models import Page
    from wagtail.users.forms import PagePermissionsForm

    def visible(html):
        parser = VisibleText()
        parser.feed(html)
        return " ".join(" ".join(parser.parts).split())

    with translation.override("ja"):
        avatar = "wagtailadmin/shared/user_avatar.html"
        assert visible(render_to_string(avatar, {"user": None, "username": ""})) == "システム"
        assert visible(render_to_string(avatar, {"user": 7, "username": "kanri-taro"})) == "kanri-taro"
        panel = StatusSidePanel(Page.objects.get(depth=1), request=None)
        toggle = panel.toggle.render_html({})  # no form: Wagtail's count is None
        assert "None" not in toggle and "hidden>0</div>" in "".join(toggle.split())
        row = render_to_string(
            "wagtailusers/groups/includes/page_permissions_form.html", {"form": PagePermissionsForm(prefix="p-0")}
        )
        assert "ページ" in visible(row) and "Page" not in visible(row)
