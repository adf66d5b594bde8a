"""The portal in its production shape, as one piece, on loopback (issue 12, "What it must show").

kokasen/testing/stack.py brings up the real pieces: nginx with deploy/nginx/ inside Debian's
nginx.conf and a certificate from a throw-away CA; gunicorn with the command line of
deploy/systemd/kokasen-web.service, the production settings and an environment file like the
installer's; PostgreSQL (a database of its own on 127.0.0.1:5432, created and dropped here);
its own Redis; clamd with the sigtool test database; the demo content, two local governments'
accounts, collectstatic and the static export through deploy/bin/kokasen-manage. Then, through
nginx only: the HTTP→HTTPS redirect, one HSTS header and every security header on the app's
pages, files, media and the static export, a member's range request for a protected video
(X-Accel-Redirect) and an anonymous one refused, the client's real address (127.0.0.2 against
127.0.0.3) in the audit trail and in the login throttle whatever forwarded headers the client
sends, /readyz naming the cache while Redis is stopped and the pages still answering, and the
gunicorn master coming back after SIGKILL.

systemd cannot run here (it is not PID 1). The restart is therefore shown by a supervisor in the
test (``kokasen.testing.stack.Supervisor``) that applies the unit's own ``Restart=`` and
``RestartSec=`` as systemd does (the unit's ``Restart=always`` is checked here as well); the
sandbox, the unit's user and ``Type=notify`` need a machine running systemd (docs/operations.md,
"Measuring the stack"). Every missing piece fails the test with the package that brings it;
nothing is skipped. About a minute, most of it `migrate` on PostgreSQL.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
from django.conf import settings

from kokasen.core.tests.nginx_loopback import NGINX_DIR
from kokasen.testing.stack import HOST, HSTS, MEMBER_CODES, Stack, restarts, unit_settings

pytestmark = pytest.mark.stack

ATTACKER, PERSON = "127.0.0.3", "127.0.0.2"
SPOOFED = {"X-Forwarded-For": PERSON, "X-Real-IP": PERSON, "Forwarded": f"for={PERSON}"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with Stack(tmp_path_factory.mktemp("full-stack")) as running:
        yield running


def nginx_permissions_policy() -> str:
    """The one Permissions-Policy value that deploy/nginx/ sends itself."""
    values = set()
    for path in NGINX_DIR.glob("*.conf"):
        values.update(re.findall(r'add_header Permissions-Policy "([^"]+)" always;', path.read_text(encoding="utf-8")))
    assert len(values) == 1, values
    return values.pop()


def check_security_headers(response, what: str, *, document: bool, from_app: bool) -> None:
    """Each header exactly once: HSTS; CSP (for a document with frame-ancestors 'none'); nosniff;
    Referrer-Policy; X-Frame-Options DENY; Permissions-Policy as configured (the app's setting on
    its pages, deploy/nginx/'s value on what nginx sends)."""

    def one(name):
        values = response.values(name)
        assert len(values) == 1, f"{what}: {name} {values}"
        return values[0]

    assert one("Strict-Transport-Security") == HSTS, what
    csp = one("Content-Security-Policy")
    if document:
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp, (what, csp)
    else:
        assert csp.startswith("default-src 'none'"), (what, csp)
    assert one("X-Content-Type-Options") == "nosniff", what
    assert one("Referrer-Policy") == "same-origin", what
    assert one("X-Frame-Options") == "DENY", what
    policy = one("Permissions-Policy")
    assert policy == (settings.PERMISSIONS_POLICY if from_app else nginx_permissions_policy()), (what, policy)
    assert response.values("Server") == ["nginx"], what  # server_tokens off


def logged_in(stack, code, source):
    browser = stack.browser(source)
    response = browser.log_in(code, stack.members[code])
    assert (response.status, response.header("Location")) == (302, "/members/"), response.text[:500]
    return browser


# --- Up, and ready ---------------------------------------------------------------------------------


def test_every_piece_is_up_and_readyz_is_green(stack):
    assert "test is successful" in stack.nginx_test.stderr
    response = stack.browser().get("/readyz")
    body = json.loads(response.body)
    assert response.status == 200 and body["failed"] == [], body
    assert {"database", "migrations", "cache", "disk", "outbox", "antivirus"} <= set(body["checks"]), body
    assert body["checks"]["database"]["ok"] and "postgresql" in json.dumps(body["checks"]["database"]), body
    antivirus = body["checks"]["antivirus"]
    assert antivirus["address"] == stack.clamd.socket_path and antivirus["signature_version"] == 1, antivirus


# --- HTTPS and the headers ------------------------------------------------------------------------


def test_plain_http_is_redirected_to_https(stack):
    connection = http.client.HTTPConnection("127.0.0.1", stack.ports["http"], timeout=10)
    connection.request("GET", "/login/?next=/members/", headers={"Host": HOST})
    response = connection.getresponse()
    assert (response.status, response.getheader("Location")) == (301, f"https://{HOST}/login/?next=/members/")
    connection.close()


def test_every_security_header_once_on_the_apps_pages_and_nginxs_own(stack):
    anonymous = stack.browser()
    member = logged_in(stack, MEMBER_CODES[1], "127.0.0.6")
    checked = [
        ("home page", anonymous.get("/"), 200, True, True),
        ("login page", anonymous.get("/login/"), 200, True, True),
        ("members' page", member.get(stack.info["members_page"]), 200, True, True),
        ("app's 404 page", anonymous.get("/no/such/page/"), 404, True, True),
        ("nginx's 404 page", anonymous.get("/media/documents/x.pdf"), 404, True, False),
    ]
    for what, response, status, document, from_app in checked:
        assert response.status == status, (what, response.status)
        check_security_headers(response, what, document=document, from_app=from_app)


def test_the_apps_pages_are_not_compressed(stack):
    """BREACH: no compressed page shows a secret next to what the visitor typed (portal.conf)."""
    browser = stack.browser()
    for path in ("/", "/login/?next=/members/"):
        response = browser.get(path, {"Accept-Encoding": "gzip, deflate, br"})
        assert response.status == 200 and response.values("Content-Encoding") == [], path


def test_nginx_staples_the_cas_ocsp_answer(stack):
    """ssl_stapling with the CA's responder (each nginx worker asks it on its first handshake)."""
    assert stack.prime_ocsp_stapling(), "nginx staples no good OCSP answer"
    done = stack.s_client("-status")
    assert "Cert Status: good" in done.stdout and "Verify return code: 0 (ok)" in done.stdout, done.stdout
    assert stack.ocsp.answered >= 1


def test_every_security_header_once_on_files_and_media(stack):
    anonymous = stack.browser()
    member = logged_in(stack, MEMBER_CODES[1], "127.0.0.6")
    checked = [
        ("static file", anonymous.get("/static/css/portal.css")),
        ("public image (media)", anonymous.get(stack.info["public_image"])),
        ("protected video (X-Accel-Redirect)", member.get(stack.info["video"]["url"])),
    ]
    for what, response in checked:
        assert response.status == 200, (what, response.status)
        check_security_headers(response, what, document=False, from_app=False)


def test_every_security_header_once_on_the_static_export(stack):
    export = stack.export_browser()
    for what, path, status, document in [
        ("export page", "/", 200, True),
        ("export's media file", stack.info["export_file"], 200, False),
        ("export's 404 page", "/no/such/page/", 404, True),
    ]:
        response = export.get(path)
        assert response.status == status, (what, response.status)
        check_security_headers(response, what, document=document, from_app=False)


# --- Protected files --------------------------------------------------------------------------------


def test_a_member_gets_a_range_of_a_protected_video_through_nginx_and_nobody_else_does(stack):
    video = stack.info["video"]
    content = Path(video["path"]).read_bytes()
    assert len(content) == video["size"] > 2000
    member = logged_in(stack, MEMBER_CODES[0], "127.0.0.4")
    response = member.get(video["url"], {"Range": "bytes=1000-1999"})
    assert response.status == 206, response.status
    assert response.header("Content-Range") == f"bytes 1000-1999/{len(content)}"
    assert response.body == content[1000:2000]
    assert response.header("Content-Type") == "video/webm" and response.values("X-Accel-Redirect") == []
    assert "private" in response.header("Cache-Control")

    anonymous = stack.browser("127.0.0.4")
    refused = anonymous.get(video["url"], {"Range": "bytes=1000-1999"})
    assert refused.status == 302 and refused.header("Location").startswith("/login/?next=/documents/")
    assert content[1000:1100] not in refused.body
    stored = Path(video["path"]).relative_to(stack.srv / "media").as_posix()
    for direct in (f"/protected-media/{stored}", f"/media/{stored}"):  # never served by its file name
        response = anonymous.get(direct, {"Range": "bytes=1000-1999"})
        assert response.status == 404 and content[1000:1100] not in response.body, direct


# --- The client's address ---------------------------------------------------------------------------


def test_the_real_client_address_reaches_the_throttle_and_the_audit_trail_and_forwarded_headers_change_nothing(stack):
    code = MEMBER_CODES[0]
    attacker = stack.browser(ATTACKER)
    for attempt in range(settings.LOGIN_PAIR_FAILURE_LIMIT):
        response = attacker.log_in(code, f"wrong-password-{attempt}")
        assert response.status == 200, response.status  # the form again, with its message
    # The right password from the same address: refused by the app (its page, not nginx's).
    refused = attacker.log_in(code, stack.members[code])
    assert refused.status == 429 and "ログイン" in refused.text and "/_errors/" not in refused.text
    # Claiming to be another address changes nothing: nginx overwrites the forwarded headers.
    spoofing = stack.browser(ATTACKER)
    assert spoofing.log_in(code, stack.members[code], headers=SPOOFED).status == 429
    # The person at 127.0.0.2 logs in, even when claiming to be the refused address.
    person = stack.browser(PERSON)
    assert person.log_in(code, stack.members[code], headers={"X-Forwarded-For": ATTACKER}).status == 302
    assert person.get("/members/").status == 200

    events = [
        e
        for e in stack.audit_events(("login.failed", "login.locked_out", "login.succeeded"))
        if e["target"] == code and e["ip"] in (ATTACKER, PERSON)
    ]
    assert [(e["action"], e["ip"]) for e in events] == [
        *[("login.failed", ATTACKER)] * settings.LOGIN_PAIR_FAILURE_LIMIT,
        ("login.locked_out", ATTACKER),
        ("login.locked_out", ATTACKER),
        ("login.succeeded", PERSON),
    ]


# --- Redis down ------------------------------------------------------------------------------------------


def test_readyz_names_the_cache_while_redis_is_stopped_and_the_pages_still_answer(stack):
    browser = stack.browser()
    stack.stop_redis()
    try:
        response = browser.get("/readyz")
        body = json.loads(response.body)
        assert response.status == 503 and body["failed"] == ["cache"], body
        assert browser.get("/").status == 200
        member = logged_in(stack, MEMBER_CODES[1], "127.0.0.7")  # sessions from PostgreSQL
        assert member.get(stack.info["members_page"]).status == 200
    finally:
        stack.start_redis()
    response = browser.get("/readyz")
    assert response.status == 200, response.text


# --- The gunicorn master ---------------------------------------------------------------------------------


def test_the_unit_restarts_gunicorn_whatever_ended_it():
    service = unit_settings()["Service"]
    assert service["Restart"] == "always" and unit_settings()["Unit"]["StartLimitIntervalSec"] == "0"
    # What Restart=always changes against on-failure: a clean stop of the master (SIGTERM, exit 0).
    for ended in (-signal.SIGKILL, -signal.SIGTERM, 0, 1):
        assert restarts("always", ended)
    assert restarts("on-failure", -signal.SIGKILL) and not restarts("on-failure", -signal.SIGTERM)
    assert not restarts("on-failure", 0) and not restarts("no", -signal.SIGKILL)


def test_a_killed_gunicorn_master_comes_back(stack):
    """SIGKILL to the master; the supervisor applies the unit's Restart=always (systemd's part)."""
    supervisor = stack.gunicorn
    assert supervisor.policy == "always"
    before = supervisor.main_pid
    assert before is not None and supervisor.starts == 1
    os.kill(before, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while supervisor.main_pid in (None, before) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert supervisor.main_pid not in (None, before), "gunicorn was not started again"
    stack.wait_until_answering(timeout=120)
    assert supervisor.exits == [-signal.SIGKILL] and supervisor.starts == 2
    assert stack.browser().get("/").status == 200
