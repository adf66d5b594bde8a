"""Checks for the demo content as read from kokasen/demo/data/ (no Django needed).

Run: python -m pytest -p no:django kokasen/demo/tests/test_content.py -q
"""

import datetime
import re
import xml.etree.ElementTree as ET

from kokasen.demo import content

SPEC_MENU_ORDER = [
    "概要",  # ① こども家庭センターの概要及び概念図
    "お知らせ",  # ②
    "設置・運営",  # ③
    "運営に関する財政支援",  # ④
    "取組事例",  # ⑤
    "ガイドライン",  # ⑥
    "支援事業",  # ⑦
    "要保護児童対策地域協議会",  # ⑧
    "研修",  # ⑨
    "働く",  # ⑩
    "会議資料",  # ⑪
]
BLOCK_TYPES = {"heading", "paragraph", "accordion", "documents", "image", "links", "notice", "table"}
ANCHOR_RE = re.compile(r"^[a-z][a-z0-9-]*$")
ASCII_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _pages():
    """Every page that has a body: (label, body)."""
    for section, article in content.all_articles():
        yield f"{section['slug']}/{article['slug']}", article["body"]
    for item in content.NEWS:
        yield f"news/{item['slug']}", item["body"]


def _blocks(kind):
    for label, body in _pages():
        for block_type, value in body:
            if block_type == kind:
                yield label, value


def test_eleven_sections_in_spec_order():
    sections = content.SECTIONS
    assert len(sections) == 11
    for section, needle in zip(sections, SPEC_MENU_ORDER):
        assert needle in section["title"], (section["title"], needle)
    slugs = [s["slug"] for s in sections]
    assert len(set(slugs)) == 11
    assert all(ASCII_SLUG_RE.match(s) for s in slugs)


def test_section_fields_and_groups():
    groups = {}
    for index, section in enumerate(content.SECTIONS, start=1):
        assert section["kind"] in {"section", "news"}
        assert section["group"] in {"about", "support", "practice", "materials"}
        assert section["summary"]
        groups.setdefault(section["group"], []).append(index)
        if section["kind"] == "section":
            assert 2 <= len(section["articles"]) <= 4, section["slug"]
    assert groups == {"about": [1, 3, 10], "support": [4, 6, 7], "practice": [5, 8, 9], "materials": [2, 11]}


def test_exactly_one_news_section():
    news = [s for s in content.SECTIONS if s["kind"] == "news"]
    assert len(news) == 1
    assert news[0]["slug"] == "news"
    assert news[0]["articles"] == []


def test_news_items():
    assert len(content.NEWS) >= 10
    slugs = [n["slug"] for n in content.NEWS]
    assert len(set(slugs)) == len(slugs)
    for item in content.NEWS:
        date = datetime.date.fromisoformat(item["date"])
        assert datetime.date(2025, 4, 1) <= date <= datetime.date(2026, 11, 30)
        assert item["category"] in {"お知らせ", "研修・イベント", "資料掲載", "システム"}
        assert ASCII_SLUG_RE.match(item["slug"])
        assert item["title"] and item["summary"] and item["body"]


def test_article_slugs_unique_within_section():
    for section in content.SECTIONS:
        slugs = [a["slug"] for a in section["articles"]]
        assert len(set(slugs)) == len(slugs), section["slug"]


def test_block_types_are_known():
    for label, body in _pages():
        assert body, label
        for block in body:
            assert isinstance(block, tuple) and len(block) == 2, label
            assert block[0] in BLOCK_TYPES, (label, block[0])


def test_every_page_is_marked_as_sample():
    for _section, article in content.all_articles():
        first_type, first_value = article["body"][0]
        marked = "サンプル" in article["summary"] or (first_type == "notice" and "サンプル" in first_value["text"])
        assert marked, article["slug"]
    for item in content.NEWS:
        assert "サンプル" in item["summary"], item["slug"]


def test_anchors_unique_per_page():
    for label, body in _pages():
        anchors = [v["anchor"] for t, v in body if t == "heading"]
        assert len(anchors) == len(set(anchors)), label
        for anchor in anchors:
            assert ANCHOR_RE.match(anchor), (label, anchor)


def test_document_references_exist():
    refs = [key for _, value in _blocks("documents") for key in value["documents"]]
    assert refs
    for key in refs:
        assert key in content.DOCUMENTS, key


def test_image_references_exist():
    refs = [value["image"] for _, value in _blocks("image")]
    assert "concept-diagram" in refs
    for _, value in _blocks("image"):
        assert value["image"] in content.IMAGES
        assert value["alt"].strip()


def test_concept_diagram_in_overview_section():
    overview = content.SECTIONS[0]
    images = [v["image"] for a in overview["articles"] for t, v in a["body"] if t == "image"]
    assert "concept-diagram" in images


def test_documents_appear_in_required_sections():
    for slug in ("operating-grants", "guidelines", "meetings"):
        section = next(s for s in content.SECTIONS if s["slug"] == slug)
        assert any(t == "documents" for a in section["articles"] for t, _ in a["body"]), slug


def test_documents_well_formed():
    assert 6 <= len(content.DOCUMENTS) <= 8
    filenames = [d["filename"] for d in content.DOCUMENTS.values()]
    assert len(set(filenames)) == len(filenames)
    for key, doc in content.DOCUMENTS.items():
        assert doc["title"], key
        assert re.match(r"^[a-z0-9-]+\.pdf$", doc["filename"]), doc["filename"]
        assert doc["pages"] and all(p["heading"] and p["paragraphs"] for p in doc["pages"])


def test_svgs_parse_and_have_title():
    for key, image in content.IMAGES.items():
        svg = image["svg"]
        assert len(svg.encode("utf-8")) < 8 * 1024, key
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg", key
        assert root.get("viewBox") and root.get("width") and root.get("height"), key
        title = root.find("{http://www.w3.org/2000/svg}title")
        assert title is not None and title.text.strip(), key
        assert "<script" not in svg and "href" not in svg, key
        assert image["filename"].endswith(".svg")


def test_long_articles_and_faqs():
    long_articles = [a for _, a in content.all_articles() if sum(1 for t, _ in a["body"] if t == "heading") >= 6]
    assert len(long_articles) >= 3
    faq_articles = [a for _, a in content.all_articles() if any(t == "accordion" for t, _ in a["body"])]
    assert len(faq_articles) >= 3
    for _, value in _blocks("accordion"):
        assert value["items"] and all(i["question"] and i["answer"] for i in value["items"])


def test_links_are_https():
    for _, value in _blocks("links"):
        for link in value["links"]:
            assert link["url"].startswith("https://"), link
    for label, body in _pages():
        for t, v in body:
            if t == "paragraph":
                for href in re.findall(r'href="([^"]+)"', v):
                    assert href.startswith("https://"), (label, href)


def test_training_article_mentions_kenshu():
    training = next(s for s in content.SECTIONS if s["slug"] == "training")
    matches = [
        a
        for a in training["articles"]
        if "研修" in a["title"] and any("研修" in v for t, v in a["body"] if t == "paragraph")
    ]
    assert matches


def test_japanese_slug_exists_once():
    slugs = [a["slug"] for _, a in content.all_articles()]
    assert slugs.count("はたらく魅力") == 1
    owner = next(s for s, a in content.all_articles() if a["slug"] == "はたらく魅力")
    assert owner["slug"] in {"careers", "practice"}


def test_values_fit_the_streamfield_limits():
    # Limits of kokasen.pages.blocks (CharBlock max_length values).
    for label, body in _pages():
        for block_type, value in body:
            if block_type == "heading":
                assert len(value["text"]) <= 120 and len(value["anchor"]) <= 60, label
            elif block_type == "image":
                assert len(value["alt"]) <= 300 and len(value.get("caption", "")) <= 200, label
            elif block_type == "accordion":
                assert all(len(i["question"]) <= 200 for i in value["items"]), label
            elif block_type == "table":
                assert len(value["caption"]) <= 200, label
                assert all(len(row) == len(value["header"]) for row in value["rows"]), label
            elif block_type == "notice":
                assert value["kind"] in {"info", "warning"} and len(value["title"]) <= 120, label


def test_rich_text_uses_only_allowed_tags():
    allowed = {"p", "ul", "ol", "li", "strong", "a"}
    html = [v for _, v in _blocks("paragraph")]
    html += [i["answer"] for _, v in _blocks("accordion") for i in v["items"]]
    for fragment in html:
        tags = set(re.findall(r"</?([a-zA-Z0-9]+)", fragment))
        assert tags <= allowed, tags


def test_article_body_length():
    def plain(body):
        parts = []
        for block_type, value in body:
            if block_type == "heading":
                parts.append(value["text"])
            elif block_type == "paragraph":
                parts.append(re.sub(r"<[^>]+>", "", value))
            elif block_type == "accordion":
                parts += [i["question"] + re.sub(r"<[^>]+>", "", i["answer"]) for i in value["items"]]
            elif block_type == "notice":
                parts.append(value["text"])
            elif block_type == "table":
                parts += value["header"] + [cell for row in value["rows"] for cell in row]
        return "".join(parts)

    for _section, article in content.all_articles():
        assert 250 <= len(plain(article["body"])) <= 1600, article["slug"]
