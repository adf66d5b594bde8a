"""The static export in a real browser, opened from file:// (REQUIREMENTS D1).

Headless Debian Chromium drives every variant (structure × design): navigation through the
drop-down menus and breadcrumbs, the client-side search, keyboard use of the disclosure
menus and accordions, axe-core (WCAG 2.2 AA), horizontal overflow, and full-page
screenshots written to artifacts/screenshots/ for a human to look at.

The tests touch no database themselves: the session fixture ``exports`` builds the folders
(in the test database, which kokasen/conftest.py checks) before the browser starts. They
carry no django_db mark on purpose: Playwright's sync API runs an event loop, and a
database connection opened inside it would outlive the test database.
"""

import re
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest

from kokasen.conftest import VARIANTS
from kokasen.testing.browser import chromium

pytestmark = pytest.mark.browser

AXE_JS = Path(__file__).resolve().parents[3] / "tools" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

VARIANT_IDS = ["-".join(v) for v in VARIANTS]
# name -> path inside the export ("news-item" is resolved from the folder, see page_path)
PAGES = {
    "home": "index.html",
    "section": "training/index.html",
    "accordion": "status/faq/index.html",
    "news-list": "news/index.html",
    "news-item": None,
    "search": "search/index.html",
    "not-found": "404.html",
}
SEARCH_WORD = "研修"
WIDTHS = (375, 1280)
SCROLL_WIDTHS = (320, 375, 768, 1280)
# A section with a drop-down in both structures; in "grouped" it sits in this category.
SECTION_TITLE = "研修・人材育成"
SECTION_DIR = "training"
CATEGORY_TITLE = "実践・連携・人材育成"
CATEGORY_ANCHOR = "group-practice"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser(exports):
    """One headless Chromium for the whole module (exports are built first)."""
    with chromium() as browser:
        yield browser


@pytest.fixture
def open_page(browser):
    """open_page(width, height=800) -> a fresh page in a new context, recording JS errors,
    console errors and failed requests on ``page.problems``."""
    contexts = []

    def factory(width, height=800):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.problems = []
        page.on("pageerror", lambda error: page.problems.append(f"JS error: {error}"))
        page.on("console", lambda msg: msg.type == "error" and page.problems.append(f"console: {msg.text}"))
        page.on("requestfailed", lambda req: page.problems.append(f"failed request: {req.url} {req.failure}"))
        return page

    yield factory
    for context in contexts:
        context.close()


# --------------------------------------------------------------------------- helpers


def page_path(folder: Path, name: str) -> Path:
    if name == "news-item":
        items = sorted(p for p in folder.glob("news/*/index.html"))
        assert items, f"{folder}: no news item exported"
        return items[0]
    return folder / PAGES[name]


def page_url(folder: Path, name: str) -> str:
    url = page_path(folder, name).as_uri()
    if name == "search":
        url += "?q=" + quote(SEARCH_WORD)
    return url


def url_file(url: str) -> Path:
    """The local file a file:// URL points at (query and fragment dropped)."""
    parts = urlsplit(url)
    assert parts.scheme == "file", url
    return Path(unquote(parts.path)).resolve()


def goto(page, folder: Path, name: str):
    page.goto(page_url(folder, name))
    page.wait_for_load_state("load")
    if name == "search":
        page.wait_for_selector(".app-search-results__item")
    page.evaluate("document.fonts.ready.then(() => true)")


def follow(page, link):
    """Click a link and wait for the new document; return the file it shows."""
    with page.expect_navigation():
        link.click()
    page.wait_for_load_state("load")
    return url_file(page.url)


def h1_text(page) -> str:
    headings = page.locator("h1")
    assert headings.count() == 1, f"{page.url}: {headings.count()} h1 elements"
    return headings.inner_text().strip()


def nav_item(page, title):
    """The top-level nav item whose own link reads ``title`` exactly."""
    link = page.locator(".app-global-nav__link", has_text=re.compile(rf"^\s*{re.escape(title)}\s*$"))
    return page.locator(".app-global-nav__item").filter(has=link)


def open_dropdown(page, item):
    toggle = item.locator(".app-global-nav__toggle")
    assert toggle.is_visible(), f"{page.url}: the drop-down toggle is not visible (JS did not run?)"
    toggle.click()
    submenu = page.locator("#" + toggle.get_attribute("aria-controls"))
    assert toggle.get_attribute("aria-expanded") == "true"
    submenu.wait_for(state="visible")
    return submenu


def breadcrumb_links(page):
    return page.locator("nav.app-breadcrumbs ol li a")


def shoot(page, artifacts_dir, variant, name, width, full_page=True):
    out = artifacts_dir / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=out / f"{variant[0]}-{variant[1]}-{name}-{width}.png", full_page=full_page)


def assert_no_problems(page):
    assert not page.problems, f"{page.url}:\n" + "\n".join(page.problems)


def focus_summary(page) -> str:
    return page.evaluate(
        """() => { const e = document.activeElement; if (!e || e === document.body) return "body";
        return e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
          + (e.className ? "." + String(e.className).split(" ").join(".") : "")
        + " " + JSON.stringify((e.textContent || "").trim().slice(0, 20)); }"""
    )


# --------------------------------------------------------------------------- a. navigation


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_drop_down_to_an_article_and_breadcrumb_home(exports, open_page, variant):
    folder = Path(exports[variant]).resolve()
    structure, _ = variant
    page = open_page(1280)
    goto(page, folder, "home")

    if structure == "flat":
        submenu = open_dropdown(page, nav_item(page, SECTION_TITLE))
        link = submenu.locator("a.app-global-nav__sublink").first
        title = link.inner_text().strip()
        target = follow(page, link)
        assert target.parent.parent == folder / SECTION_DIR, target
    else:
        submenu = open_dropdown(page, nav_item(page, CATEGORY_TITLE))
        section_link = submenu.locator("a.app-global-nav__sublink", has_text=SECTION_TITLE)
        assert follow(page, section_link) == folder / SECTION_DIR / "index.html"
        assert h1_text(page) == SECTION_TITLE
        link = page.locator(".app-card__link").first
        title = link.inner_text().strip()
        target = follow(page, link)
    assert target.is_file() and target.is_relative_to(folder), target
    assert title and h1_text(page) == title

    home = breadcrumb_links(page).first
    assert home.inner_text().strip() == "ホーム"
    assert follow(page, home) == folder / "index.html"
    assert_no_problems(page)


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_menu_link_then_drop_down_then_breadcrumb_back_to_the_section(exports, open_page, variant):
    """flat: home → section (nav link) → article (that section's drop-down, by keyboard)
    → section (breadcrumb). grouped: the nav link is the category's anchor in the site map;
    from there the category drop-down leads to the section and its card list to an article."""
    folder = Path(exports[variant]).resolve()
    structure, _ = variant
    page = open_page(1280)
    goto(page, folder, "home")

    if structure == "flat":
        nav_link = nav_item(page, SECTION_TITLE).locator(".app-global-nav__link")
        assert follow(page, nav_link) == folder / SECTION_DIR / "index.html"
        assert h1_text(page) == SECTION_TITLE
        item = nav_item(page, SECTION_TITLE)
        assert item.get_attribute("data-current") == "true", "the current section is not marked in the nav"
        toggle = item.locator(".app-global-nav__toggle")
        toggle.focus()
        page.keyboard.press("Enter")
        submenu = page.locator("#" + toggle.get_attribute("aria-controls"))
        submenu.wait_for(state="visible")
        link = submenu.locator("a.app-global-nav__sublink").last
    else:
        nav_link = nav_item(page, CATEGORY_TITLE).locator(".app-global-nav__link")
        target = follow(page, nav_link)
        assert target == folder / "sitemap" / "index.html"
        assert urlsplit(page.url).fragment == CATEGORY_ANCHOR
        assert page.locator(f"#{CATEGORY_ANCHOR}").count() == 1, "the category anchor is missing from the site map"
        submenu = open_dropdown(page, nav_item(page, CATEGORY_TITLE))
        section_link = submenu.locator("a.app-global-nav__sublink", has_text=SECTION_TITLE)
        assert follow(page, section_link) == folder / SECTION_DIR / "index.html"
        link = page.locator(".app-card__link").last
    title = link.inner_text().strip()
    target = follow(page, link)
    assert target.parent.parent == folder / SECTION_DIR and target.is_file(), target
    assert h1_text(page) == title

    crumbs = breadcrumb_links(page)
    assert [crumbs.nth(i).inner_text().strip() for i in range(crumbs.count())] == ["ホーム", SECTION_TITLE]
    assert follow(page, crumbs.last) == folder / SECTION_DIR / "index.html"
    assert h1_text(page) == SECTION_TITLE
    assert_no_problems(page)


# --------------------------------------------------------------------------- b. search


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_search_from_a_file_url_finds_pages_and_the_first_result_opens(exports, open_page, variant):
    folder = Path(exports[variant]).resolve()
    page = open_page(1280)
    goto(page, folder, "search")
    assert page.locator("#search-query").input_value() == SEARCH_WORD
    count = page.locator(".app-search-results__count").inner_text()
    assert re.search(rf"「{SEARCH_WORD}」を含むページ：[1-9]\d*件", count), count
    links = page.locator(".app-search-results__item a")
    texts = links.all_inner_texts()
    assert any(SEARCH_WORD in t for t in texts), texts
    first = links.first
    title = first.inner_text().strip()
    target = follow(page, first)
    assert target.is_file() and target.is_relative_to(folder), target
    assert SEARCH_WORD in h1_text(page) and h1_text(page) == title
    assert_no_problems(page)


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_the_header_search_box_leads_to_results(exports, open_page, variant):
    folder = Path(exports[variant]).resolve()
    page = open_page(1280)
    goto(page, folder, "home")
    box = page.locator("#header-search")
    box.fill(SEARCH_WORD)
    with page.expect_navigation():
        box.press("Enter")
    assert url_file(page.url) == folder / "search" / "index.html"
    page.wait_for_selector(".app-search-results__item")
    assert page.locator("#search-query").input_value() == SEARCH_WORD
    assert re.search(r"：[1-9]\d*件", page.locator(".app-search-results__count").inner_text())
    assert_no_problems(page)


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_a_nonsense_query_finds_nothing(exports, open_page, variant):
    folder = Path(exports[variant]).resolve()
    page = open_page(1280)
    query = "ぬぬぬzzqxj存在しない"
    page.goto(page_path(folder, "search").as_uri() + "?q=" + quote(query))
    status = page.locator(".app-search-results__count")
    status.wait_for()
    assert status.inner_text().strip() == f"「{query}」を含むページ：0件"
    assert page.locator(".app-search-results__item").count() == 0
    assert "見つかりませんでした" in page.locator("[data-search-results]").inner_text()
    # the form round-trips: search again from the page's own form
    page.locator("#search-query").fill(SEARCH_WORD)
    with page.expect_navigation():
        page.locator("#search-query").press("Enter")
    page.wait_for_selector(".app-search-results__item")
    assert_no_problems(page)


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_the_404_page_opens_from_a_file_url_styled_and_leads_home(exports, open_page, variant):
    folder = Path(exports[variant]).resolve()
    page = open_page(375)
    goto(page, folder, "not-found")
    assert h1_text(page) == "ページが見つかりません"
    # The stylesheet applied (relative link from file://): the header's accent border.
    assert page.evaluate("getComputedStyle(document.querySelector('.app-header')).borderTopWidth") == "4px"
    assert follow(page, page.get_by_role("link", name="トップページへ戻る")) == folder / "index.html"
    assert_no_problems(page)


# --------------------------------------------------------------------------- c. axe-core


def axe_report(violations) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(map(str, node["target"])) for node in v["nodes"][:3]]
        lines.append(f"  {v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']} -> {targets}")
    return "\n".join(lines)


def axe_problems(page, name: str) -> list[str]:
    """axe-core's WCAG 2.x A/AA violations on ``page`` (its context must bypass the CSP to take the
    script), and any sideways scrolling, as lines naming ``name`` and the width."""
    width = page.viewport_size["width"]
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    problems = [f"{name} at {width} px:\n{axe_report(result['violations'])}"] if result["violations"] else []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        problems.append(f"{name} at {width} px scrolls sideways by {overflow} px")
    return problems


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_axe_finds_no_wcag_violations(exports, open_page, variant, name, width):
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS} is missing; `make` installs tools/node_modules (axe-core)")
    folder = Path(exports[variant]).resolve()
    page = open_page(width)
    goto(page, folder, name)
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        """async (tags) => {
          const r = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
          return {violations: r.violations, passes: r.passes.length};
        }""",
        AXE_TAGS,
    )
    violations = result["violations"]
    assert result["passes"] > 10, "axe ran almost no rules"
    assert not violations, (
        f"{'-'.join(variant)} {name} ({page_path(folder, name).relative_to(folder)}) at {width}px: "
        f"{len(violations)} axe violations\n{axe_report(violations)}"
    )


# --------------------------------------------------------------------------- d. overflow

OVERFLOWING = """() => {
  const limit = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > limit + 0.5 || r.left < -0.5) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
        ` [${Math.round(r.left)}..${Math.round(r.right)}]`);
    }
  }
  return out;
}"""


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_no_horizontal_scrolling(exports, open_page, variant, name):
    folder = Path(exports[variant]).resolve()
    page = open_page(SCROLL_WIDTHS[0])
    goto(page, folder, name)
    failures = []
    for width in SCROLL_WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            culprits = page.evaluate(OVERFLOWING)
            failures.append(f"  {width}px: scrollWidth {scroll} > innerWidth {inner}; overflowing: {culprits[:6]}")
    assert not failures, f"{'-'.join(variant)} {name}: horizontal scrolling\n" + "\n".join(failures)


# --------------------------------------------------------------------------- e. keyboard


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_the_drop_down_works_with_the_keyboard_alone(exports, open_page, artifacts_dir, variant):
    folder = Path(exports[variant]).resolve()
    page = open_page(1280)
    goto(page, folder, "home")
    visited = []
    for _ in range(30):
        page.keyboard.press("Tab")
        visited.append(focus_summary(page))
        if page.evaluate("document.activeElement.matches('.app-global-nav__toggle')"):
            break
    else:
        pytest.fail("Tab never reached a .app-global-nav__toggle; focus went through:\n" + "\n".join(visited))
    assert visited[0].startswith("a.app-skip-link"), f"the skip link is not the first Tab stop: {visited}"
    controls = page.evaluate("document.activeElement.getAttribute('aria-controls')")
    toggle = page.locator(f".app-global-nav__toggle[aria-controls='{controls}']")
    submenu = page.locator(f"#{controls}")

    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert submenu.is_visible(), "Enter on the toggle did not show its submenu"

    shoot(page, artifacts_dir, variant, "dropdown-open", 1280, full_page=False)

    page.keyboard.press("Tab")
    first_link = submenu.locator("a").first
    assert page.evaluate("(el) => document.activeElement === el", first_link.element_handle()), (
        f"after Tab from the open toggle, focus is on {focus_summary(page)}, not the submenu's first link"
    )

    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert submenu.is_hidden(), "Escape did not hide the submenu"
    assert page.evaluate("document.activeElement.getAttribute('aria-controls')") == controls, (
        f"after Escape focus is on {focus_summary(page)}, not back on the toggle"
    )

    # Space toggles as well (it is a <button>), and a second Enter closes
    page.keyboard.press(" ")
    assert toggle.get_attribute("aria-expanded") == "true" and submenu.is_visible()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "false" and submenu.is_hidden()
    assert_no_problems(page)


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_the_menu_button_opens_the_nav_on_a_narrow_screen(exports, open_page, artifacts_dir, variant):
    folder = Path(exports[variant]).resolve()
    page = open_page(375)
    goto(page, folder, "home")
    button = page.locator(".app-menu-button")
    assert button.is_visible(), "the menu button is not shown at 375px"
    assert button.get_attribute("aria-expanded") == "false"
    first_nav_link = page.locator(".app-global-nav__link").first
    assert not first_nav_link.is_visible(), "the nav should be collapsed behind the menu button at 375px"

    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    first_nav_link.wait_for(state="visible")
    item = page.locator(".app-global-nav__item").filter(has=page.locator(".app-global-nav__toggle")).first
    submenu = open_dropdown(page, item)
    sublink = submenu.locator("a").first
    assert sublink.is_visible()
    box = sublink.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375 + 0.5, f"the submenu link is off screen: {box}"
    shoot(page, artifacts_dir, variant, "menu-open", 375)

    button.click()
    assert button.get_attribute("aria-expanded") == "false"
    first_nav_link.wait_for(state="hidden")
    assert_no_problems(page)


# --------------------------------------------------------------------------- f. accordions


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_accordions_open_and_close_by_mouse_and_keyboard(exports, open_page, variant):
    folder = Path(exports[variant]).resolve()
    page = open_page(1280)
    goto(page, folder, "accordion")
    items = page.locator("details.app-accordion__item")
    assert items.count() >= 2, "status/faq has no accordions any more"
    details, summary = items.first, items.first.locator("> summary")
    content = details.locator(".app-accordion__content")
    is_open = lambda: details.evaluate("(d) => d.open")  # noqa: E731

    assert not is_open() and not content.is_visible()
    summary.click()
    assert is_open() and content.is_visible()
    summary.click()
    assert not is_open() and not content.is_visible()

    second = items.nth(1)
    second.locator("> summary").focus()
    page.keyboard.press("Enter")
    assert second.evaluate("(d) => d.open")
    page.keyboard.press("Enter")
    assert not second.evaluate("(d) => d.open")
    page.keyboard.press(" ")
    assert second.evaluate("(d) => d.open")
    assert_no_problems(page)


# --------------------------------------------------------------------------- g. screenshots


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_pages_load_without_errors_and_screenshots(exports, open_page, artifacts_dir, variant):
    """Full-page screenshots of every page at every width; also fails on JS errors,
    console errors or failed requests (a missing CSS or script file) on those pages."""
    folder = Path(exports[variant]).resolve()
    design = variant[1]
    problems = []
    for width in WIDTHS:
        page = open_page(width)
        for name in PAGES:
            goto(page, folder, name)
            assert page.evaluate("document.documentElement.dataset.design") == design
            assert page.evaluate("document.documentElement.classList.contains('js')"), f"{name}: portal.js did not run"
            shoot(page, artifacts_dir, variant, name, width)
            problems += [f"{name}@{width}: {p}" for p in page.problems]
            page.problems.clear()
    assert not problems, "\n".join(problems)
