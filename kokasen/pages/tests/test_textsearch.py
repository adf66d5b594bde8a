"""The Japanese search rules, and their JavaScript twin used by the static export."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kokasen.pages import textsearch

SITE_SEARCH_JS = Path(__file__).resolve().parents[3] / "static" / "js" / "components" / "site-search.js"

DOCS = [
    textsearch.Document.build(
        url="/a/", title="研修の体系", summary="受講のご案内", body="統括支援員の研修を行います。"
    ),
    textsearch.Document.build(url="/b/", title="サポートプラン", summary="", body="研修は年に一度。ｻﾎﾟｰﾄﾌﾟﾗﾝの作成"),
    textsearch.Document.build(url="/c/", title="お知らせ", summary="", body="ＡＢＣ　全角の英字と全角スペース"),
]


def test_two_character_words_match_without_segmentation():
    assert [d.url for d in textsearch.search(DOCS, "研修")] == ["/a/", "/b/"]


def test_title_hits_rank_first():
    assert textsearch.search(DOCS, "研修")[0].url == "/a/"


def test_every_term_must_occur():
    assert [d.url for d in textsearch.search(DOCS, "研修　統括")] == ["/a/"]
    assert textsearch.search(DOCS, "研修 存在しない語") == []


def test_width_and_case_are_normalised_both_ways():
    assert [d.url for d in textsearch.search(DOCS, "abc")] == ["/c/"]
    assert [d.url for d in textsearch.search(DOCS, "サポートプランの作成")] == ["/b/"]
    assert textsearch.normalize("ｶﾀｶﾅ　ＡＢＣ\n\t x") == "カタカナ abc x"


def test_an_empty_or_blank_query_finds_nothing():
    assert textsearch.search(DOCS, "") == []
    assert textsearch.search(DOCS, " 　 ") == []


def test_the_excerpt_shows_the_context_of_the_first_hit():
    assert "統括支援員の研修" in "".join(text for text, _ in textsearch.excerpt(DOCS[0], "統括"))


def test_the_javascript_search_behaves_like_the_python_one():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required (Debian package nodejs) to check static/js/components/site-search.js")
    samples = [
        "研修",
        "ｶﾀｶﾅ",
        "ＡＢＣ　ｄｅｆ",
        "サポート\u3000プラン",
        "①②③",
        "Ⅳ期",
        "㈱テスト",
        "が",
        "ﾊﾟﾊﾟ",
        "  前後の空白  ",
        "改行\nと\tタブ",
        "é",
        "ﬁ",
        "😀 絵文字",
        "㍻",
        "ＫＯＫＡＳＥＮ",
        "a b a",
    ]
    entries = [{"u": d.url, "t": d.title, "s": d.summary, "x": d.original} for d in DOCS]
    queries = [
        "研修",
        "研修　統括",
        "abc",
        "サポートプランの作成",
        "存在しない",
        "ＡＢＣ",
        "",
        "ぱぱ",
        "a",
        "平成",
        "ｶﾀｶﾅ",
    ]
    script = f"""
globalThis.window = globalThis;
globalThis.document = {{ readyState: "complete", querySelector: () => null, getElementById: () => null }};
require({json.dumps(str(SITE_SEARCH_JS))});
const s = window.kokasenSearch;
const samples = {json.dumps(samples, ensure_ascii=False)};
const entries = {json.dumps(entries, ensure_ascii=False)};
const queries = {json.dumps(queries, ensure_ascii=False)};
console.log(JSON.stringify({{
  normalized: samples.map(s.normalize),
  terms: samples.map(s.queryTerms),
  results: queries.map((q) => s.search(entries, q).map((e) => e.u)),
  folded: samples.map((t) => s.fold(t).text.join("")),
  highlighted: samples.map((t) => queries.map((q) => s.highlight(t, s.queryTerms(q)))),
  excerpts: entries.map((e) => queries.map((q) => s.excerpt(e, q, 8))),
}}));
"""
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True, timeout=30)
    js = json.loads(out.stdout)
    assert js["normalized"] == [textsearch.normalize(s) for s in samples]
    assert js["terms"] == [textsearch.query_terms(s) for s in samples]
    assert js["results"] == [[d.url for d in textsearch.search(DOCS, q)] for q in queries]
    assert js["folded"] == [textsearch.fold(t)[0] for t in samples]
    as_lists = lambda parts: [[text, match] for text, match in parts]  # noqa: E731
    assert js["highlighted"] == [
        [as_lists(textsearch.highlight(t, textsearch.query_terms(q))) for q in queries] for t in samples
    ]
    assert js["excerpts"] == [[as_lists(textsearch.excerpt(d, q, 8)) for q in queries] for d in DOCS]
