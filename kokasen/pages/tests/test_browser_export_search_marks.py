"""The static export's search (site-search.js, decision 0055) in Chromium, on a page of its own:
the title and excerpt as written, the match in <mark>, hostile index text shown as text. Its own
module: it starts its own Chromium and needs no database."""

import json
from pathlib import Path

import pytest

from kokasen.testing.browser import chromium

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).resolve().parents[3] / "static" / "js" / "components" / "site-search.js"


def test_the_export_search_marks_the_match_as_written_and_escapes(tmp_path):
    entries = [
        {"u": "a.html", "t": "ＫＯＫＡＳＥＮ研修のご案内", "s": "", "x": "本文 <img src=x onerror=alert(1)> ｶﾞｲﾄﾞ"},
    ]
    (tmp_path / "index.js").write_text(f"window.KOKASEN_SEARCH_INDEX={json.dumps(entries, ensure_ascii=False)};")
    (tmp_path / "search.html").write_text(
        '<!doctype html><html lang="ja"><meta charset="utf-8"><title>t</title>'
        '<input id="search-query"><div data-search-results data-count-text="{count}件" data-empty-text="なし"></div>'
        f'<script src="index.js"></script><script src="{SCRIPT.as_uri()}"></script></html>',
        encoding="utf-8",
    )
    with chromium() as browser:
        page = browser.new_page()
        page.goto((tmp_path / "search.html").as_uri() + "?q=kokasen%20ガイド")
        title = page.locator(".app-search-results__title").inner_html()
        snippet = page.locator(".app-search-results__snippet").inner_html()
        images = page.locator("img").count()
    assert '<mark class="app-search-results__mark">ＫＯＫＡＳＥＮ</mark>研修のご案内' in title
    assert '&lt;img src=x onerror=alert(1)&gt; <mark class="app-search-results__mark">ｶﾞｲﾄﾞ</mark>' in snippet
    assert images == 0
