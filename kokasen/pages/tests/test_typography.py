"""Japanese typography (issue 17, item 6; decision 0055): titles break between phrases
(BudouX, the |phrases filter), and search results show the text as written with the match
in <mark>."""

import re

import pytest
from django.template import Context, Template
from django.utils.safestring import mark_safe

from kokasen.pages import textsearch, typography

# Each title with words that must never be cut by a break.
TITLES = [
    ("こども家庭センターの概要及び概念図", ["こども家庭センター", "概要", "概念図"]),
    ("要保護児童対策地域協議会の運営", ["要保護児童対策地域協議会", "運営"]),
    ("業務のガイドライン・指針・関連通知", ["業務", "ガイドライン", "指針", "関連通知"]),
    ("支援事業（メニュー）に関する財政支援", ["支援事業", "メニュー", "関する", "財政支援"]),
    ("統括支援員の研修を行います", ["統括支援員", "研修", "行います"]),
    ("サポートプランの作成について", ["サポートプラン", "作成", "ついて"]),
    ("こども家庭センターで働くには？", ["こども家庭センター", "働く"]),
    ("「こども家庭庁」の資料", ["こども家庭庁", "資料"]),
    ("こども家庭センターポータルサイト（サンプル）", ["こども家庭センター", "ポータルサイト", "サンプル"]),
]


def render(template: str, **context) -> str:
    return Template("{% load portal_tags %}" + template).render(Context(context))


@pytest.mark.parametrize("title,words", TITLES)
def test_breaks_fall_between_phrases_never_inside_a_word(title, words):
    html = str(typography.phrases(title))
    assert html.startswith('<span class="app-u-phrases">') and html.endswith("</span>")
    inner = html[len(typography.OPEN) : -len(typography.CLOSE)]
    assert inner.replace("<wbr>", "") == title
    assert "<wbr>" in inner, "a title of several phrases gets break opportunities"
    chunks = inner.split("<wbr>")
    for word in words:
        assert any(word in chunk for chunk in chunks), (word, chunks)


def test_no_break_after_an_opening_bracket_or_before_closing_punctuation():
    # BudouX alone gives 「…交換会／（／東日本エリア）の」: a <wbr> after 「（」 would allow a break
    # that Japanese line breaking forbids.
    for title in ["町村向けオンライン情報交換会（東日本エリア）の参加者を募集します", "「研修計画」を掲載しました。"]:
        chunks = typography.split(title)
        assert "".join(chunks) == title
        assert not any(c[-1] in "（「" for c in chunks[:-1]) and not any(c[0] in "）」。" for c in chunks[1:]), chunks


def test_hostile_text_is_escaped():
    hostile = '<script>alert("研修")</script><img src=x onerror=alert(1)>「研修の&amp;ご案内」'
    html = render("<h1>{{ title|phrases }}</h1>", title=hostile)
    assert "<script" not in html and "<img" not in html
    visible = re.sub(r"<wbr>", "", html)
    assert "&lt;script&gt;alert(&quot;研修&quot;)&lt;/script&gt;" in visible
    assert "&amp;amp;" in visible  # an entity typed as text stays text
    assert set(re.findall(r"<(/?\w+)", html)) <= {"h1", "/h1", "span", "/span", "wbr"}


def test_the_filter_is_idempotent():
    once = typography.phrases("要保護児童対策地域協議会の運営について")
    assert typography.phrases(once) == once
    assert render("{{ t|phrases|phrases }}", t="研修の体系と受講のご案内") == render(
        "{{ t|phrases }}", t="研修の体系と受講のご案内"
    )


def test_safe_html_keeps_its_tags_and_gets_breaks_in_its_text_only():
    html = str(typography.phrases(mark_safe('研修の<a href="/x?a=1&amp;b=2">体系と受講</a>のご案内&lt;注&gt;')))
    assert '<a href="/x?a=1&amp;b=2">' in html and "&lt;注&gt;" in html
    assert (
        html.replace("<wbr>", "")
        == typography.OPEN + '研修の<a href="/x?a=1&amp;b=2">体系と受講</a>のご案内&lt;注&gt;</span>'
    )


def test_empty_and_none_give_nothing():
    assert typography.phrases("") == "" and typography.phrases(None) == ""


# --------------------------------------------------------------------------- highlighting


def marked(parts):
    return "".join(f"[{text}]" if match else text for text, match in parts)


def test_matches_are_marked_in_the_text_as_written():
    terms = textsearch.query_terms("ｶﾞｲﾄﾞ kokasen")
    assert marked(textsearch.highlight("ＫＯＫＡＳＥＮのガイドラインとｶﾞｲﾄﾞﾌﾞｯｸ", terms)) == (
        "[ＫＯＫＡＳＥＮ]の[ガイド]ラインと[ｶﾞｲﾄﾞ]ﾌﾞｯｸ"
    )
    # One character that normalises to two (㍻ → 平成) is marked whole.
    assert marked(textsearch.highlight("㍻の記録", ["平"])) == "[㍻]の記録"
    # Overlapping matches become one mark; no match leaves the text alone.
    assert marked(textsearch.highlight("研修体系", ["研修", "修体"])) == "[研修体]系"
    assert textsearch.highlight("研修", ["なし"]) == [("研修", False)]


def test_the_excerpt_is_cut_around_the_first_match():
    document = textsearch.Document.build(
        url="/a/", title="題", summary="", body="あ" * 100 + "ＫＯＫＡＳＥＮの研修" + "い" * 100
    )
    parts = textsearch.excerpt(document, "kokasen", width=20)
    assert parts[0] == ("…", False) and parts[-1] == ("…", False)
    assert ("ＫＯＫＡＳＥＮ", True) in parts


@pytest.mark.django_db
def test_live_search_shows_the_original_text_with_marks_and_escapes_the_query(client, demo_site):
    from kokasen.pages.models import ArticlePage

    article = ArticlePage.objects.live().get(slug="training-programs")
    article.body = [("paragraph", "<p>ＫＯＫＡＳＥＮ研修の手引き。&lt;b&gt;太字&lt;/b&gt;のタグを含む説明。</p>")]
    article.save_revision().publish()

    html = client.get("/search/", {"q": "kokasen"}).content.decode()
    assert '<mark class="app-search-results__mark">ＫＯＫＡＳＥＮ</mark>研修の手引き' in html
    assert "kokasen研修" not in html  # not the normalised text

    html = client.get("/search/", {"q": "<b>太字"}).content.decode()
    assert '<mark class="app-search-results__mark">&lt;b&gt;太字</mark>&lt;/b&gt;のタグ' in html
    assert "<b>" not in html

    html = client.get("/search/", {"q": '"><script>alert(1)</script> 研修'}).content.decode()
    assert "<script>alert(1)" not in html
