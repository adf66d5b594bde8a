"""The automated part of the JIS X 8341-3 test (decision 0059), run over every page of the
sample in kokasen/pages/accessibility/sample.toml on the live demo site, each as its persona:
the Nu HTML Checker finds no error (4.1.1) and axe-core (WCAG 2.0–2.2 A/AA tags) finds no
violation in Chromium at 375 and 1280 px. The checklist's automated verdicts cite these tests.
Full-page screenshots of the generated 方針 and 試験結果 pages go to artifacts/screenshots/jis/."""

import pytest
from django.test import Client

from kokasen.pages import accessibility
from kokasen.static_export.tests.test_browser import AXE_JS, AXE_TAGS, axe_report
from kokasen.static_export.tests.test_html_validity import run_vnu
from kokasen.testing import login_member
from kokasen.testing.browser import chromium, cookie_of

WIDTHS = (375, 1280)
SHOTS = {"/accessibility/": "policy", "/accessibility-results/": "results"}


@pytest.mark.django_db
def test_the_sample_pages_are_valid_html(demo_site, member_a, tmp_path):
    files = []
    client = Client()
    for persona in ("anonymous", "member"):
        if persona == "member":
            login_member(client, member_a)
        for i, page in enumerate(p for p in accessibility.sample() if p.persona == persona):
            response = client.get(page.url)
            assert response.status_code in (200, 404), page.url
            files.append(tmp_path / f"{persona}-{i:02d}.html")
            files[-1].write_bytes(response.content)
    assert len(files) == len(accessibility.sample())
    messages = run_vnu(files)
    errors = [f"{m.get('url', '?').rsplit('/', 1)[-1]}:{m.get('lastLine', '?')}: {m.get('message')}" for m in messages]
    assert not errors, "\n".join(errors)


@pytest.fixture(scope="module")
def member_cookie(live_site, django_db_blocker):
    from django.contrib.auth import get_user_model

    from kokasen.testing import CODE_B, make_member

    with django_db_blocker.unblock():
        get_user_model().objects.filter(username=CODE_B).delete()
        member = make_member(CODE_B)
        client = Client()
        login_member(client, member)
        cookie = cookie_of(client, live_site)
    try:
        yield cookie
    finally:
        with django_db_blocker.unblock():
            get_user_model().objects.filter(pk=member.pk).delete()


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_axe_finds_nothing_on_the_sample(live_site, member_cookie, artifacts_dir, width):
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS} is missing; `make` installs tools/node_modules (axe-core)")
    shots = artifacts_dir / "screenshots" / "jis"
    shots.mkdir(parents=True, exist_ok=True)
    found, checked = [], 0
    with chromium() as browser:
        for persona in ("anonymous", "member"):
            context = browser.new_context(viewport={"width": width, "height": 800}, locale="ja-JP", bypass_csp=True)
            context.add_init_script(path=str(AXE_JS))  # on every page, before its own scripts
            if persona == "member":
                context.add_cookies([member_cookie])
            tab = context.new_page()
            tab.set_default_timeout(15_000)
            for page in (p for p in accessibility.sample() if p.persona == persona):
                tab.goto(live_site + page.url)
                result = tab.evaluate(
                    "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
                    AXE_TAGS,
                )
                checked += 1
                if result["violations"]:
                    found.append(f"{page.url} at {width}px:\n{axe_report(result['violations'])}")
                if page.url in SHOTS:
                    tab.screenshot(path=str(shots / f"{SHOTS[page.url]}-{width}.png"), full_page=True)
            context.close()
    assert checked == len(accessibility.sample())
    assert not found, "\n".join(found)
