"""The JIS X 8341-3 results (issue 18, item 5; decision 0059): the checklist is exactly the 38
WCAG 2.0 A/AA success criteria, the sample follows 附属書JB (≥ 40 pages, every page type, both
areas, each URL answering its persona), the generated 方針 and 試験結果 pages carry the
checklist and the page list, the 準拠 wording follows the data, and generating again changes
nothing."""

import dataclasses
import io
import re
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import pytest
from wagtail.models import Page, Site

from kokasen.pages import accessibility
from kokasen.pages.models import HomePage, PolicyPage
from kokasen.testing import login_member
from kokasen.testing.html import page_html

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]

# WCAG 2.0 (= JIS X 8341-3:2016) success criteria of levels A and AA, written out here
# independently of the data.
WCAG20_A_AA = {
    "1.1.1": "A", "1.2.1": "A", "1.2.2": "A", "1.2.3": "A", "1.2.4": "AA", "1.2.5": "AA",
    "1.3.1": "A", "1.3.2": "A", "1.3.3": "A", "1.4.1": "A", "1.4.2": "A", "1.4.3": "AA",
    "1.4.4": "AA", "1.4.5": "AA", "2.1.1": "A", "2.1.2": "A", "2.2.1": "A", "2.2.2": "A",
    "2.3.1": "A", "2.4.1": "A", "2.4.2": "A", "2.4.3": "A", "2.4.4": "A", "2.4.5": "AA",
    "2.4.6": "AA", "2.4.7": "AA", "3.1.1": "A", "3.1.2": "AA", "3.2.1": "A", "3.2.2": "A",
    "3.2.3": "AA", "3.2.4": "AA", "3.3.1": "A", "3.3.2": "A", "3.3.3": "AA", "3.3.4": "AA",
    "4.1.1": "A", "4.1.2": "A",
}  # fmt: skip
TAGS = re.compile(r"<[^>]+>")
# A stacked table's cell labels (shown on phones, hidden from screen readers; decision 0055).
CELL_LABELS = re.compile(r'<span class="app-table__label" aria-hidden="true">[^<]*</span>')
UNQUALIFIED_CLAIM = re.compile(r"(?<!一部)準拠しています")


def text_of(response) -> str:
    assert response.status_code == 200
    main = page_html(response).split('id="main-content"', 1)[1].split("</main>", 1)[0]
    return unescape(TAGS.sub(" ", CELL_LABELS.sub("", main)))


def pages_by_kind():
    home = HomePage.objects.get()
    return home, {p.kind: p for p in PolicyPage.objects.child_of(home)}


def test_the_checklist_is_the_38_a_and_aa_criteria_of_wcag_20():
    criteria = accessibility.checklist()
    assert len(criteria) == 38
    assert {c.number: c.level for c in criteria} == WCAG20_A_AA
    assert [c.number for c in criteria] == sorted(WCAG20_A_AA, key=lambda n: tuple(map(int, n.split("."))))
    for c in criteria:
        assert c.name and c.note, c.number
        assert c.verdict in accessibility.VERDICTS, c.number
        assert (c.verdict == "－") == (not c.applicable), f"{c.number}: only a criterion that does not apply is －"
        assert c.methods and set(c.methods) <= set(accessibility.METHODS), c.number


def test_every_automated_test_a_verdict_rests_on_exists():
    for c in accessibility.checklist():
        for reference in c.tests:
            path, function = reference.split("::")
            assert f"def {function}(" in (ROOT / path).read_text(encoding="utf-8"), f"{c.number}: {reference}"
        if c.verdict == "○" and not c.tests:
            assert "code" in c.methods, f"{c.number}: a ○ without a test rests on reading the code"


def test_the_sample_has_40_pages_of_every_type_in_both_areas():
    pages = accessibility.sample()
    assert len(pages) >= 40
    assert len({p.url for p in pages}) == len(pages)
    assert {p.area for p in pages} == set(accessibility.AREAS)
    assert {p.selection for p in pages} == set(accessibility.SELECTIONS)
    assert all(p.persona == ("member" if p.area == "members" else "anonymous") for p in pages)


def test_every_sample_url_answers_its_persona_and_every_page_type_is_sampled(demo_site, client, member_a):
    root = Site.objects.get(is_default_site=True).root_page
    by_url = {p.url: p for p in Page.objects.live().descendant_of(root, inclusive=True).specific()}
    sampled_types = set()
    for persona in ("anonymous", "member"):
        if persona == "member":
            login_member(client, member_a)
        for page in [p for p in accessibility.sample() if p.persona == persona]:
            response = client.get(page.url)
            expected = 404 if page.area == "error" else 200
            assert response.status_code == expected, f"{page.url} as {persona}: {response.status_code}"
            if page.url in by_url:  # the home page is listed as トップページ
                sampled_types.add(type(by_url[page.url]).__name__)
                assert page.url == "/" or by_url[page.url].title == page.title, page.url
    assert sampled_types == {type(p).__name__ for p in by_url.values()}, "a page type is missing from the sample"


def test_the_results_page_has_the_statement_the_page_list_and_the_checklist(demo_site, client):
    home, pages = pages_by_kind()
    text = text_of(client.get(pages["a11y_results"].url))
    for heading in (
        "表明日",
        "規格の規格番号及び改正年",
        "目標とした適合レベル及び対応度",
        "依存したウェブコンテンツ技術の一覧",
        "試験対象となるウェブページの一覧",
        "試験実施期間",
        "達成基準チェックリスト",
        "この試験で確認していないこと",
    ):
        assert heading in text
    assert "JIS X 8341-3:2016" in text and "2026年12月7日" in text
    for technology in ("HTML", "CSS", "JavaScript", "WAI-ARIA"):
        assert technology in text
    for page in accessibility.sample():
        if page.area in accessibility.PUBLISHED_URLS:
            assert unquote(page.url) in text, page.url
        elif page.area == "members":  # a members' page's title and URL stay members-only
            assert f"会員ページ（{page.kind}）" in text and unquote(page.url) not in text, page.url
        else:  # login and the like: no account URL on a public page (nor in the static export)
            assert page.title in text and unquote(page.url) not in text, page.url
    for c in accessibility.checklist():
        assert f"{c.number} {c.name} {c.level}" in " ".join(text.split()), c.number
    assert "スクリーンリーダー" in text and "Safari" in text and "Edge" in text


def test_the_policy_page_states_level_scope_exceptions_deadline_and_contact(demo_site, client):
    home, pages = pages_by_kind()
    response = client.get(pages["accessibility"].url)
    text = text_of(response)
    for heading in ("対象範囲", "目標とする適合レベルと対応度", "例外事項", "目標を達成する時期", "お問い合わせ"):
        assert heading in text
    html = page_html(response)
    assert f'href="{pages["contact"].url}"' in html and f'href="{pages["a11y_results"].url}"' in html
    assert "2027年3月31日" in text


def test_the_claim_follows_the_data(demo_site, client, monkeypatch):
    home, pages = pages_by_kind()
    criteria = accessibility.checklist()
    assert accessibility.conformance() == "一部準拠"  # 6 criteria are 未 today (decisions 0065, 0066)
    for kind in ("accessibility", "a11y_results"):
        text = text_of(client.get(pages[kind].url))
        assert "適合レベル AA に一部準拠しています" in text
        assert not UNQUALIFIED_CLAIM.search(text), kind

    met = tuple(dataclasses.replace(c, verdict="○") if c.applicable else c for c in criteria)
    assert accessibility.conformance(met) == "準拠"
    one_failed = (dataclasses.replace(met[0], verdict="×"), *met[1:])
    assert accessibility.conformance(one_failed) == "一部準拠"
    one_untested = (dataclasses.replace(met[0], verdict="未"), *met[1:])
    assert accessibility.conformance(one_untested) == "一部準拠"

    # All ○: the published pages say 準拠 without 一部.
    monkeypatch.setattr(accessibility, "checklist", lambda: met)
    assert accessibility.publish(home) == 2
    text = text_of(client.get(PolicyPage.objects.get(pk=pages["a11y_results"].pk).url))
    assert "適合レベル AA に準拠しています" in text and "一部準拠" not in text


def test_generating_again_changes_nothing_and_restores_an_edited_page(demo_site):
    home, pages = pages_by_kind()
    revisions = {kind: page.latest_revision_id for kind, page in pages.items()}
    assert accessibility.publish(home) == 0
    assert {k: PolicyPage.objects.get(pk=p.pk).latest_revision_id for k, p in pages.items()} == revisions

    results = pages["a11y_results"]
    results.title = "試験結果（手で直したもの）"
    results.save_revision().publish()
    assert accessibility.publish(home) == 1
    assert PolicyPage.objects.get(pk=results.pk).title == "ウェブアクセシビリティ試験結果"
    assert accessibility.publish(home) == 0
    assert PolicyPage.objects.child_of(home).filter(kind="a11y_results").count() == 1


def test_the_command_publishes_from_the_data(demo_site):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("publish_accessibility_results", stdout=out)
    assert "0 ページを更新しました" in out.getvalue() and "一部準拠" in out.getvalue()
