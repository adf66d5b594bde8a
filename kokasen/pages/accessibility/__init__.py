"""JIS X 8341-3:2016 test results, kept as data and published as two pages (issue 18, item 5;
decision 0059).

The data beside this file is the source of truth: ``sample.toml`` (the test pages, chosen as
附属書JB's 代表ページ + ランダム選択), ``checklist.toml`` (the 38 WCAG 2.0 A/AA success
criteria with the judgement, method, tests and note for each) and ``statement.toml`` (表明日,
standard, target, scope, exceptions, what was not tested). ``publish(home)`` writes the
ウェブアクセシビリティ方針 and the ウェブアクセシビリティ試験結果 policy pages from it (created by
``ensure_policy_pages`` if missing) and publishes a page only when its text changed, so running
it again changes nothing. ``manage.py publish_accessibility_results`` and the demo loader call it.

The 対応度 follows the data: 準拠 only when every applicable criterion is ○; otherwise 一部準拠,
with the criteria not met (×) and not yet tested (未) listed.
"""

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from urllib.parse import unquote

from django.utils.html import escape

HERE = Path(__file__).resolve().parent
VERDICTS = {"○": "満たしている", "×": "満たしていない", "－": "適用なし", "未": "試験が完了していない"}
METHODS = {
    "axe": "自動（axe-core）",
    "vnu": "自動（Nu HTML Checker）",
    "browser": "ブラウザ試験",
    "django": "自動（表示の試験）",
    "code": "目視（コードの確認）",
    "manual": "目視",
}
AREAS = {"public": "公開ページ", "login": "ログイン等の画面", "error": "エラーページ", "members": "会員ページ"}
SELECTIONS = {"representative": "代表", "random": "ランダム"}
# The areas whose sample pages are listed with their URL on the public 試験結果 page: a members' page's
# title and URL are members-only, and the static export carries no link to an account screen.
PUBLISHED_URLS = ("public", "error")
POLICY_KIND = "accessibility"
RESULTS_KIND = "a11y_results"


@dataclass(frozen=True)
class Criterion:
    number: str
    name: str
    level: str
    applicable: bool
    verdict: str
    methods: tuple
    tests: tuple
    note: str


@dataclass(frozen=True)
class SamplePage:
    url: str
    title: str
    kind: str
    area: str
    persona: str
    selection: str
    export: bool


def _load(name: str) -> dict:
    with open(HERE / name, "rb") as handle:
        return tomllib.load(handle)


@cache
def checklist() -> tuple[Criterion, ...]:
    return tuple(
        Criterion(**{**c, "methods": tuple(c["methods"]), "tests": tuple(c["tests"])})
        for c in _load("checklist.toml")["criteria"]
    )


@cache
def sample() -> tuple[SamplePage, ...]:
    return tuple(SamplePage(**p) for p in _load("sample.toml")["pages"])


@cache
def sample_method() -> str:
    return _load("sample.toml")["method"]["text"]


@cache
def statement() -> dict:
    return _load("statement.toml")


def conformance(criteria=None) -> str:
    """準拠 when every applicable criterion is ○ on the sample, else 一部準拠."""
    criteria = checklist() if criteria is None else criteria
    applicable = [c for c in criteria if c.applicable]
    return "準拠" if applicable and all(c.verdict == "○" for c in applicable) else "一部準拠"


def claim(criteria=None) -> str:
    s = statement()
    return f"{s['standard']} の適合レベル {s['target_level']} に{conformance(criteria)}しています。"


def japanese_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _numbers(verdict: str) -> list[str]:
    return [f"{c.number} {c.name}" for c in checklist() if c.applicable and c.verdict == verdict]


# --------------------------------------------------------------------------- StreamField data


def _h(text, anchor):
    return ("heading", {"text": text, "anchor": anchor})


def _p(text, link=None, after=""):
    """A paragraph of escaped text; ``link=(page_pk, text)`` adds a Wagtail page link, then ``after``."""
    html = escape(text)
    if link:
        html += f'<a linktype="page" id="{int(link[0])}">{escape(link[1])}</a>{escape(after)}'
    return ("paragraph", f"<p>{html}</p>")


def _ul(items):
    return ("paragraph", "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>")


def _table(caption, header, rows):
    data = [list(header), *[list(row) for row in rows]]
    return ("table", {"caption": caption, "table": {"data": data, "first_row_is_table_header": True}})


def policy_stream(results_pk: int, contact_pk: int | None) -> list:
    s = statement()
    level = s["target_level"]
    blocks = [
        _h("方針", "policy"),
        _p(
            "こども家庭庁は、高齢の方や障害のある方を含め、誰もがこのサイトの情報を利用できるよう、"
            f"日本産業規格 {s['standard']}「高齢者・障害者等配慮設計指針－情報通信における機器，ソフトウェア及びサービス－"
            "第3部：ウェブコンテンツ」に対応することを目標に、ウェブアクセシビリティの確保と向上に取り組みます。"
        ),
        _h("対象範囲", "scope"),
        _p(s["scope"]),
        _h("目標とする適合レベルと対応度", "target"),
        _p(f"{s['standard']} の適合レベル {level} に準拠することを目標とします。"),
        _p(
            f"現在の対応度：{claim()}試験の方法と結果は、",
            link=(results_pk, "ウェブアクセシビリティ試験結果"),
            after="のページをご覧ください。",
        ),
        _h("例外事項", "exceptions"),
        _ul(s["exceptions"]),
        _h("目標を達成する時期", "deadline"),
        _p(
            f"{japanese_date(s['target_date'])}までに、適合レベル {level} のすべての達成基準を満たし、"
            "試験の結果をこのページでお知らせします。"
        ),
        _h("確認の方法", "testing"),
        _p(
            "サイトの仕組み（プログラムとページのひな形）を変更するたびに、自動の検査ツール（axe-core と Nu HTML Checker）"
            "とブラウザーでの試験を行っています。あわせて、試験対象のページについて、キーボードだけでの操作、"
            "スクリーンリーダーでの読み上げ、画面の拡大を人が確認します。"
        ),
        _h("お問い合わせ", "contact"),
    ]
    if contact_pk:
        blocks.append(
            _p(
                "利用しにくい点にお気づきの場合は、",
                link=(contact_pk, "お問い合わせ"),
                after="のページに掲載した運営事務局までお知らせください。",
            )
        )
    else:
        blocks.append(_p("利用しにくい点にお気づきの場合は、運営事務局までお知らせください。"))
    return blocks


def results_stream(policy_pk: int) -> list:
    s = statement()
    criteria = checklist()
    pages = sample()
    failed, untested = _numbers("×"), _numbers("未")
    blocks = [
        _h("表明日", "declared"),
        _p(japanese_date(s["declared_on"])),
        _h("規格の規格番号及び改正年", "standard"),
        _p(s["standard"]),
        _h("目標とした適合レベル及び対応度", "conformance"),
        _p(f"適合レベル {s['target_level']} を目標とし、{claim()}"),
    ]
    if failed:
        blocks += [_p("満たしていない達成基準："), _ul(failed)]
    if untested:
        blocks += [_p("試験が完了していない達成基準（判定「未」）："), _ul(untested)]
    blocks += [
        _p(
            "目標、対象範囲と例外事項は、",
            link=(policy_pk, "ウェブアクセシビリティ方針"),
            after="のページをご覧ください。",
        ),
        _h("依存したウェブコンテンツ技術の一覧", "technologies"),
        _p("、".join(s["technologies"])),
        _p(s["technologies_note"]),
        _h("試験対象となるウェブページの一覧", "pages"),
        _p(sample_method()),
        _p(
            "会員ページの題名と URL、ログイン等の画面の URL は、この一覧では省略しています"
            "（会員ページの内容は会員以外に公開していないためです）。"
        ),
        _table(
            f"試験対象のウェブページ（{len(pages)}ページ）",
            ("番号", "ページ", "URL", "種類", "区分", "選択"),
            [
                (
                    str(i),
                    f"会員ページ（{p.kind}）" if p.area == "members" else p.title,
                    unquote(p.url) if p.area in PUBLISHED_URLS else "（省略）",
                    p.kind,
                    AREAS[p.area] + ("（静的出力を含む）" if p.export else ""),
                    SELECTIONS[p.selection],
                )
                for i, p in enumerate(pages, 1)
            ],
        ),
        _h("試験実施期間", "period"),
        _p(f"{japanese_date(s['tested_from'])}から{japanese_date(s['tested_to'])}まで"),
        _h("達成基準チェックリスト", "checklist"),
        _p("判定：" + "、".join(f"{mark}＝{label}" for mark, label in VERDICTS.items())),
        _table(
            f"{s['standard']} 達成基準チェックリスト（適合レベル A と AA の{len(criteria)}項目）",
            ("番号", "達成基準", "レベル", "適用", "判定", "試験方法", "備考"),
            [
                (
                    c.number,
                    c.name,
                    c.level,
                    "適用" if c.applicable else "非適用",
                    c.verdict,
                    "、".join(METHODS[m] for m in c.methods),
                    c.note,
                )
                for c in criteria
            ],
        ),
        _h("この試験で確認していないこと", "not-tested"),
        _ul(s["not_tested"]),
        _p(s["how_to_complete"]),
    ]
    return blocks


# --------------------------------------------------------------------------- publishing


def _comparable(page) -> tuple:
    body = [{"type": b["type"], "value": b["value"]} for b in page.body.get_prep_value()]
    return (page.title, page.summary, body)


def _write(page, title, summary, stream, publish) -> bool:
    before = _comparable(page)
    page.title, page.summary, page.body = title, summary, stream
    if _comparable(page) == before:
        return False
    publish(page) if publish else page.save_revision().publish()
    return True


def publish(home, publish=None) -> int:
    """Write the 方針 and 試験結果 pages under ``home`` from the data; return how many changed."""
    from ..models import PolicyPage
    from ..policies import ensure_policy_pages

    ensure_policy_pages(home, publish=publish)
    pages = {p.kind: p for p in PolicyPage.objects.child_of(home).order_by("path")}
    policy, results, contact = pages[POLICY_KIND], pages[RESULTS_KIND], pages.get("contact")
    changed = _write(
        policy,
        "ウェブアクセシビリティ方針",
        "このサイトのウェブアクセシビリティへの取組の方針、対象範囲、目標と例外事項です。",
        policy_stream(results.pk, contact.pk if contact else None),
        publish,
    )
    changed += _write(
        results,
        "ウェブアクセシビリティ試験結果",
        f"{statement()['standard']} に基づく試験の結果（対応度：{conformance()}）と達成基準チェックリストです。",
        results_stream(policy.pk),
        publish,
    )
    return changed
