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
gunicorn master coming back after SIGKILL. Then the service monitor: deploy/monit/kokasen passes
`monit -t`, and monit itself, in the foreground, mails a killed and a hung gunicorn to an SMTP
server on loopback and restarts the hung one (decision 0040).

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
import smtplib
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from kokasen.core.tests.nginx_loopback import NGINX_DIR
from kokasen.testing.smtp import RecordingHandler, free_port, self_signed_certificate
from kokasen.testing.stack import HOST, HSTS, MEMBER_CODES, Stack, restarts, unit_settings

pytestmark = pytest.mark.stack

ATTACKER, PERSON = "127.0.0.3", "127.0.0.2"
SPOOFED = {"X-Forwarded-For": PERSON, "X-Real-IP": PERSON, "Forwarded": f"for={PERSON}"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with Stack(tmp_path_factory.mktemp("full-stack")) as running:
        yield running


def nginx_permissions_policy() -> str:
    """The one Permissions-Policy value that deploy/nginx/ sends itself (besides the app's own
    value, which portal.conf repeats on the public pages it sends from files: decision 0061)."""
    values = set()
    for path in NGINX_DIR.glob("*.conf"):
        values.update(re.findall(r'add_header Permissions-Policy "([^"]+)" always;', path.read_text(encoding="utf-8")))
    values.discard(settings.PERMISSIONS_POLICY)
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


def gunicorn_workers(stack) -> set[int]:
    master = stack.gunicorn.main_pid
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return {int(pid) for pid in found.stdout.split()}


def test_every_worker_fills_the_shared_cached_page_with_this_sessions_token(stack):
    """The members' pages are cached whole and shared by gunicorn's workers through Redis
    (decision 0068): whichever worker answers, the open 小ネタ topic's page (its post form is in
    the cached copy, with a marker for the token) carries this session's masked token in every
    form, and a post with it is accepted. gunicorn is reloaded first (new workers, empty
    memories); one answer puts the copy in Redis, then three tabs ask at once, so the other
    workers answer from that copy."""
    from concurrent.futures import ThreadPoolExecutor

    member = logged_in(stack, MEMBER_CODES[1], "127.0.0.6")
    member.get("/members/")  # the login's message is shown (that answer is never cached)
    topic = stack.info["topic_page"]
    old = gunicorn_workers(stack)
    os.kill(stack.gunicorn.main_pid, signal.SIGHUP)  # systemctl reload
    deadline = time.monotonic() + 60
    while not (len(gunicorn_workers(stack) - old) == 3 and not gunicorn_workers(stack) & old):
        assert time.monotonic() < deadline, "gunicorn did not replace its workers"
        time.sleep(0.2)
    assert "このお題に投稿する" in member.get(topic).text  # one worker renders the copy and stores it
    tabs = []
    for _ in range(3):
        tab = stack.browser("127.0.0.6")
        tab.cookies.update(member.cookies)
        tabs.append(tab)

    def read(tab):
        return [tab.get(topic) for _ in range(8)]

    with ThreadPoolExecutor(len(tabs)) as pool:
        answers = [answer for tab_answers in pool.map(read, tabs) for answer in tab_answers]
    tokens = []
    for answer in answers:
        assert answer.status == 200
        found = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer.text))
        assert len(found) == 1 and re.fullmatch(r"[A-Za-z0-9]{64}", next(iter(found))), found
        tokens.append(found.pop())
    for token in tokens[::8]:  # one of each tab (a login is extended at most 10 times)
        response = member.post("/session/", {"csrfmiddlewaretoken": token})
        assert response.status == 200, response.text[:300]


def test_the_apps_pages_are_not_compressed(stack):
    """BREACH: no compressed page shows a secret next to what the visitor typed (portal.conf).
    The public pages nginx sends anonymous visitors from files (decision 0061) may be: the same
    bytes for everyone, nothing secret, nothing typed."""
    browser = stack.browser()
    response = browser.get("/login/?next=/members/", {"Accept-Encoding": "gzip, deflate, br"})
    assert response.status == 200 and response.values("Content-Encoding") == []
    member = logged_in(stack, MEMBER_CODES[1], "127.0.0.6")
    response = member.get("/", {"Accept-Encoding": "gzip, deflate, br"})
    assert response.status == 200 and response.values("Content-Encoding") == []


def test_anonymous_public_pages_come_from_files_and_a_member_always_from_the_app(stack):
    """Decision 0061: nginx answers the anonymous home page from the file the app wrote (nginx's
    ETag; the app sends none), with the login link; a member's session reaches the app."""
    anonymous = stack.browser().get("/")
    assert anonymous.status == 200 and anonymous.values("ETag"), anonymous.headers
    assert "ログイン</a>" in anonymous.text and "ログアウト" not in anonymous.text
    check_security_headers(anonymous, "home page from its file", document=True, from_app=True)
    member = logged_in(stack, MEMBER_CODES[1], "127.0.0.6")
    page = member.get("/")
    assert page.status == 200 and page.values("ETag") == [] and "ログアウト" in page.text


def test_nginx_staples_the_cas_ocsp_answer(stack):
    """ssl_stapling with the CA's responder (each nginx worker asks it on its first handshake)."""
    assert stack.prime_ocsp_stapling(), "nginx staples no good OCSP answer"
    # A handshake may still reach an nginx worker that is fetching its answer again (seen once in
    # CI after priming): the stapled answer must come within a few handshakes, chain verified.
    for _ in range(5):
        done = stack.s_client("-status")
        if "Cert Status: good" in done.stdout:
            break
        time.sleep(0.3)
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


# --- The service monitor (deploy/monit/kokasen, decision 0040) ------------------------------------

MONIT_TEMPLATE = Path(settings.BASE_DIR) / "deploy" / "monit" / "kokasen"


class SMTPSController(Controller):
    """The loopback SMTP server over implicit TLS (port 465's way), as monit sends."""

    def __init__(self, handler, cert: Path, key: Path):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        super().__init__(handler, hostname="127.0.0.1", port=free_port(), ssl_context=context)


def monit_test_config(folder: Path, *, smtp_port: int, app_port: int, restart_program: Path) -> Path:
    """deploy/monit/kokasen as the installer fills it in, cut to its mail settings and the
    kokasen-web check, pointed at this stack: a 1 s cycle instead of 30 s, a 2 s answer timeout
    instead of 10 s, and systemd's part played by the stack's supervisor (``systemctl start`` of a
    unit that systemd is restarting anyway does nothing: /bin/true; ``systemctl restart`` kills the
    unit's processes and the supervisor starts them: ``restart_program``)."""
    text = MONIT_TEMPLATE.read_text(encoding="utf-8")
    head, rest = text.split("# `monit summary`", 1)
    web = "check process kokasen-web" + rest.split("check process kokasen-web", 1)[1].split("\n# /readyz", 1)[0]
    config = (
        head.replace("set daemon 30 with start delay 60", "set daemon 1")
        .replace("@MAILSERVER@", f"127.0.0.1 port {smtp_port} using ssl")
        .replace("@MAIL_FROM@", "kokasen-monitor@portal.example.go.jp")
        .replace("@ALERTS@", "set alert unyou@example.go.jp")
        + f"set logfile {folder / 'monit.log'}\nset idfile {folder / 'monit.id'}\n"
        + f"set statefile {folder / 'monit.state'}\nset pidfile {folder / 'monit.pid'}\n\n"
        + web.replace("@DOMAIN@", HOST)
        .replace("127.0.0.1:8001", f"127.0.0.1:{app_port}")
        .replace("port 8001", f"port {app_port}")
        .replace("with timeout 10 seconds for 2 cycles", "with timeout 2 seconds for 2 cycles")
        .replace('"/bin/systemctl start kokasen-web.service"', '"/bin/true"')
        .replace('"/bin/systemctl restart kokasen-web.service"', f'"{restart_program}"')
    )
    assert not re.search(r"@[A-Z_]+@", config), config
    path = folder / "monitrc"
    path.write_text(config, encoding="utf-8")
    path.chmod(0o600)  # monit refuses a control file others can read
    return path


def test_the_monitor_configuration_passes_monits_own_check(tmp_path):
    path = monit_test_config(tmp_path, smtp_port=25, app_port=8001, restart_program=Path("/bin/true"))
    checked = subprocess.run(["monit", "-t", "-c", str(path)], capture_output=True, text=True)
    # monit -t prints some errors and still says OK with status 0: only its one line passes.
    assert checked.returncode == 0 and checked.stdout.strip().splitlines()[-1] == "Control file syntax OK", checked
    assert "error" not in (checked.stdout + checked.stderr).lower() and "invalid" not in checked.stderr.lower()


def test_monit_mails_through_the_relay_and_restarts_a_gunicorn_that_stopped_answering(stack, tmp_path):
    """A SIGKILLed master (systemd restarts it) and a hung one (SIGSTOP: systemd sees nothing,
    monit's /healthz check restarts it): both end in mails at the SMTP server on loopback, over
    SMTPS (implicit TLS: monit 5.33 has no STARTTLS for its mail), sent by monit itself while the
    portal was down."""
    cert, key = self_signed_certificate(tmp_path)
    handler = RecordingHandler()
    relay = SMTPSController(handler, cert, key)
    relay.start()
    restarted = tmp_path / "restarted"
    restart = tmp_path / "restart-kokasen-web"
    # The stand-in for `systemctl restart kokasen-web`: systemd kills the unit's processes (the
    # control group: here the master's process group, whose pid the test writes into unit-pid as
    # systemd would know it) and starts the unit again (here the supervisor does). With no unit
    # process known it only "starts" (the supervisor is already at it).
    unit_pid = tmp_path / "unit-pid"
    restart.write_text(
        f'#!/bin/sh\npid=$(cat {unit_pid} 2>/dev/null || true)\necho "$pid" >> {restarted}\n'
        '[ -n "$pid" ] && exec kill -KILL -- "-$pid"\nexit 0\n'
    )
    restart.chmod(0o755)
    config = monit_test_config(
        tmp_path, smtp_port=relay.port, app_port=stack.ports["gunicorn"], restart_program=restart
    )
    monit = subprocess.Popen(
        ["monit", "-I", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    supervisor = stack.gunicorn

    def subjects():
        return [str(received.message["Subject"]) for received in handler.received]

    def wait(what, condition, timeout=90):
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.2)
        log = (tmp_path / "monit.log").read_text(errors="replace") if (tmp_path / "monit.log").exists() else ""
        assert condition(), f"{what}; mails: {subjects()}; monit log:\n{log[-3000:]}"

    try:
        wait("monit did not start", lambda: (tmp_path / "monit.log").exists())
        time.sleep(3)  # a few cycles: monit has found the master
        # 1. The master is killed: the supervisor (systemd's Restart=always) starts it again, monit mails.
        before = supervisor.main_pid
        os.kill(before, signal.SIGKILL)
        wait("gunicorn did not come back", lambda: supervisor.main_pid not in (None, before))
        stack.wait_until_answering(timeout=120)
        wait("no mail about the killed master", lambda: any("kokasen-web" in s for s in subjects()))
        mails_after_kill = len(handler.received)
        # 2. The master and its workers stop answering (SIGSTOP): only monit's /healthz check sees it.
        hung = supervisor.main_pid
        unit_pid.write_text(str(hung))
        os.killpg(hung, signal.SIGSTOP)
        wait(
            "monit did not restart the hung gunicorn",
            lambda: restarted.exists() and str(hung) in restarted.read_text().split(),
            timeout=180,  # two failed cycles of up to 10 s each, later on a loaded machine
        )
        wait("gunicorn did not come back after monit's restart", lambda: supervisor.main_pid not in (None, hung))
        stack.wait_until_answering(timeout=120)
        assert stack.browser().get("/").status == 200
        wait("no mail about the hung gunicorn", lambda: len(handler.received) > mails_after_kill)
        # The relay speaks only TLS (implicit): a plain SMTP client gets no greeting from it, so
        # every mail above came encrypted.
        with pytest.raises((smtplib.SMTPServerDisconnected, TimeoutError, OSError)):
            smtplib.SMTP("127.0.0.1", relay.port, timeout=2)
    finally:
        monit.terminate()
        monit.wait(timeout=30)
        relay.stop()
    for received in handler.received:
        assert received.rcpt_tos == ["unyou@example.go.jp"]
        assert received.message["Subject"].startswith("[kokasen 監視] ")  # also monit's own start
        assert "kokasen のサービス監視（monit）からのお知らせです。" in received.message.get_content()
    events = subjects()
    for event in ("Does not exist", "Exists", "Connection failed"):  # the kill, its end, the hang
        assert f"[kokasen 監視] kokasen-web: {event}" in events, events
