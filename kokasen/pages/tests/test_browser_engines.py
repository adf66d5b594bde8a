"""The key public journeys in three engines (issue 18 item 3, decision 0046): Debian's Chromium,
Firefox ESR and WebKitGTK, each through ``kokasen.testing.engines`` so every journey is written
once. At each width: the home page with the navigation (the menu button below 768 px, a
drop-down at 768 px and up), the FAQ page's accordion, and a search typed into the header's
search box; then, once at 375 px, a member logging in through the login form and sending an\nopinion through the 意見箱. Every page: no horizontal overflow, no console error, a full-page screenshot in
``artifacts/screenshots/engines/<engine>/``.

WebKitGTK's MiniBrowser cannot make its window narrower than its toolbar (447 px): there the
narrow widths run at that minimum, which is still the phone layout (below 768 px), and the test
says which width it ran (the screenshot's name too).
"""

import pytest

from kokasen.testing.engines import ENGINES, engine

pytestmark = pytest.mark.browser

WIDTHS = (320, 375, 768, 1280)
PHONE = 768  # the navigation's breakpoint (48rem)

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
VISIBLE = "(el => !!el && getComputedStyle(el).display !== 'none' && el.getBoundingClientRect().height > 0)"


def check_page(driver, shots, label: str):
    assert driver.js("document.readyState") == "complete"
    assert driver.js(OVERFLOW) <= 0, f"{driver.name} {driver.width}px {label}: horizontal overflow"
    driver.screenshot(shots / f"{driver.width:04d}-{label}.png")


def navigation(driver, base):
    driver.open(base + "/")
    # The script ran: the menu button (phone) or the drop-down toggles (wider) are shown.
    if driver.width < PHONE:
        driver.wait_for("!document.querySelector('.app-menu-button').hidden", "the menu button")
        assert not driver.js(f"{VISIBLE}(document.querySelector('#global-nav'))"), "menu open before the tap"
        driver.click(".app-menu-button")
        driver.wait_for(f"{VISIBLE}(document.querySelector('#global-nav'))", "the opened menu")
        assert driver.js("document.querySelector('.app-menu-button').getAttribute('aria-expanded')") == "true"
        driver.click(".app-global-nav__toggle")
    else:
        driver.wait_for("!document.querySelector('.app-global-nav__toggle').hidden", "the drop-down toggles")
        driver.click(".app-global-nav__toggle")
    submenu = "document.getElementById(document.querySelector('.app-global-nav__toggle').getAttribute('aria-controls'))"
    driver.wait_for(f"{VISIBLE}({submenu})", "the opened submenu")
    assert driver.js("document.querySelector('.app-global-nav__toggle').getAttribute('aria-expanded')") == "true"


def accordion(driver, base):
    driver.open(base + "/status/faq/")
    assert driver.js("document.querySelectorAll('.app-accordion__item').length") > 0
    assert not driver.js("document.querySelector('.app-accordion__item').open")
    driver.click(".app-accordion__item > summary")
    driver.wait_for("document.querySelector('.app-accordion__item').open", "the opened accordion item")


def search(driver, base):
    driver.open(base + "/")
    if driver.width < PHONE:
        # The search box sits in the header at every width; on a phone it is not in the menu.
        assert driver.js(f"{VISIBLE}(document.querySelector('#header-search'))")
    driver.type("#header-search", "研修")
    driver.click(".app-search-box__button")
    driver.wait_for("location.pathname.startsWith('/search/') && document.readyState === 'complete'", "search page")
    assert driver.js("document.querySelectorAll('.app-search-results__item').length") > 0
    assert driver.js("document.querySelector('.app-search-form__input').value") == "研修"


JOURNEYS = {"navigation": navigation, "accordion": accordion, "search": search}
PASSWORD = "engines-login-pass-2026"


def login(driver, base, username):
    """A member logs in through the login form and lands on the members' home."""
    driver.open(base + "/members/")
    driver.wait_for("location.pathname === '/login/'", "the login page")
    driver.type("input[name=username]", username)
    driver.type("input[name=password]", PASSWORD)
    driver.click("main form button[type=submit]")
    driver.wait_for("location.pathname === '/members/' && document.readyState === 'complete'", "the members' home")
    assert driver.js("document.querySelector('h1').textContent.trim()") == "会員エリア"


OPINION = "会議資料のページに日付で並べ替える機能がほしいです。"


def feedback(driver, base):
    """The logged-in member sends an opinion through the 意見箱 and sees the thanks page."""
    driver.open(base + "/members/feedback/")
    driver.type("textarea[name=body]", OPINION)
    driver.click("main form button[type=submit]")
    driver.wait_for("location.pathname === '/members/feedback/thanks/' && document.readyState === 'complete'", "thanks")


@pytest.fixture
def member(live_site, django_db_blocker):
    """A member with a known password, made before the browser starts and deleted afterwards
    (the live server shares the session's database)."""
    from django.contrib.auth import get_user_model

    from kokasen.testing import CODE_A, make_member

    with django_db_blocker.unblock():
        get_user_model().objects.filter(username=CODE_A).delete()
        make_member(CODE_A, password=PASSWORD)
    try:
        yield CODE_A
    finally:
        with django_db_blocker.unblock():
            from kokasen.feedback.models import Opinion
            from kokasen.notifications.models import OutboxMessage

            Opinion.objects.filter(body=OPINION).delete()
            OutboxMessage.objects.filter(kind="feedback_received").delete()
            get_user_model().objects.filter(username=CODE_A).delete()


@pytest.mark.parametrize("name", ENGINES)
def test_key_journeys_in_three_engines(name, live_site, member, artifacts_dir, django_db_blocker):
    shots = artifacts_dir / "engines" / name
    shots.mkdir(parents=True, exist_ok=True)
    ran = []
    with engine(name) as make:
        for width in WIDTHS:
            driver = make(width)
            if name != "webkit":
                assert driver.width == width
            else:
                assert driver.width == width or (width < PHONE and driver.width < PHONE)
            for label, journey in JOURNEYS.items():
                journey(driver, live_site)
                check_page(driver, shots, label)
                errors = driver.console_errors()
                assert errors == [], f"{name} {driver.width}px {label}: console errors {errors}"
            ran.append(driver.width)
        # Logging in, once, at a phone's width (the last journey: the session then stays).
        driver = make(375)
        login(driver, live_site, member)
        check_page(driver, shots, "login")
        assert driver.console_errors() == []
        feedback(driver, live_site)
        check_page(driver, shots, "feedback")
        assert driver.console_errors() == []
    with django_db_blocker.unblock():
        from kokasen.feedback.models import Opinion

        assert Opinion.objects.filter(body=OPINION).count() == 1
    print(f"{name}: widths {ran}, screenshots in {shots}")
