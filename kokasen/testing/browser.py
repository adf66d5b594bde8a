"""Debian's Chromium driven by Playwright, as every browser test starts it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-file-access-from-files",  # the static export opened from file://
]


@contextmanager
def chromium() -> Iterator:
    """A headless Chromium (a Playwright ``Browser``), closed on exit. A missing Chromium fails
    the test, naming the package, rather than skipping it."""
    import pytest
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium package (`make test` installs it)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def cookie_of(client, url: str) -> dict:
    """The session of a logged-in Django test ``client`` as a Playwright cookie for ``url``, so
    that a browser test starts logged in without typing a password (and a TOTP code) itself."""
    from django.conf import settings

    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": url,
    }


# Short CSS animations and transitions still running (a message fading in, a panel sliding):
# axe measures colours as they are painted, so a check made mid-fade reports a contrast that
# nobody sees once the page has settled. Long or endless ones (Wagtail's help badge pings five
# times over 25 s) are decoration, not a change of state, and are not waited for.
_MOVING = """() => document.getAnimations().filter(a => {
    const timing = a.effect && a.effect.getComputedTiming();
    return timing && timing.activeDuration <= 2000 && a.playState === "running";
}).length === 0"""


def settled(page, timeout_ms: int = 5000) -> None:
    """Wait until the page's short animations and transitions have finished."""
    page.wait_for_function(_MOVING, timeout=timeout_ms)
