"""The production stack on loopback, in one piece: nginx with deploy/nginx/ (Debian's nginx.conf
around it, a certificate from a throw-away CA), gunicorn with the command line of
deploy/systemd/kokasen-web.service and the production settings, PostgreSQL (a database of its
own, with a role of its own, in Debian's cluster on 127.0.0.1:5432, created and dropped here), a private Redis, clamd with the sigtool test
database (clamd.py), and the throw-away CA's OCSP responder. The demo content, two local
governments' accounts, collectstatic and a static export are put in place through
deploy/bin/kokasen-manage, the production command path (kokasen/demo/stack.py).

Used by the full-stack test (kokasen/ops/tests/test_full_stack.py) and by `make measure-stack`
(kokasen/bench/stack.py): one piece, so that what is measured is what is tested.

systemd cannot run here (it is not PID 1), so ``Supervisor`` applies the unit's ``Restart=`` and
``RestartSec=`` to the gunicorn master itself, as systemd would: when the master ends, whatever is
left of its process group is killed (systemd stops what remains of the unit's control group
before a restart), and the master is started again after ``RestartSec`` if ``Restart=`` says so
for the way it ended. What this does not show: systemd's sandbox, the unit's user, sd_notify
(``Type=notify``) and the start limit; the installer's test on a machine running systemd does.

Every piece that is missing fails with the Debian package that brings it; nothing is skipped.
"""

from __future__ import annotations

import base64
import datetime
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from kokasen.core.tests.nginx_loopback import NGINX_DIR, debian_main_conf, nginx_binary, write_http_conf, write_sites

from .clamd import ClamdServer
from .postgres import ensure_cluster, psql
from .redis_server import RedisServer
from .smtp import free_port

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "kokasen-web.service"
MANAGE = ROOT / "deploy" / "bin" / "kokasen-manage"
HOST = "localhost"  # the portal's name here: the certificate's, and what the measuring tools resolve
EXPORT_HOST = "export.localhost"
HSTS = "max-age=31536000; includeSubDomains"
# Two local governments (北海道札幌市, 東京都千代田区) with accounts on the stack.
MEMBER_CODES = ("011002", "131016")


class StackMissing(RuntimeError):
    """A piece of the stack is not on this machine (the message names the package)."""


# --- The systemd unit and its Restart= ----------------------------------------------------------


def unit_settings(path: Path = UNIT) -> dict[str, dict[str, str]]:
    """Sections → key → value of a unit file (a repeated key keeps its last value)."""
    sections: dict[str, dict[str, str]] = {}
    current = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        name, _, value = line.partition("=")
        assert current is not None, f"{path.name}: {line!r} outside a section"
        current[name.strip()] = value.strip()
    return sections


def seconds(value: str) -> float:
    """A systemd time span as the unit writes it ("2s", "500ms", "1min", "2")."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s|sec|min|m)?", value.strip())
    assert match, f"time span {value!r}: extend kokasen/testing/stack.py"
    number, unit = float(match[1]), match[2] or "s"
    return number * {"ms": 0.001, "s": 1, "sec": 1, "min": 60, "m": 60}[unit]


# systemd.service(5), "Restart=": clean = exit code 0 or one of these signals.
CLEAN_SIGNALS = {signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE}


def restarts(policy: str, returncode: int) -> bool:
    """Whether systemd restarts a main process that ended with ``returncode`` (negative: the
    signal that killed it) under ``Restart=policy``; the table of systemd.service(5) without
    the timeout and watchdog columns, which cannot happen here."""
    by_signal = returncode < 0
    clean = returncode == 0 or (by_signal and signal.Signals(-returncode) in CLEAN_SIGNALS)
    table = {
        "no": False,
        "always": True,
        "on-success": clean,
        "on-failure": not clean,
        "on-abnormal": by_signal and not clean,
        "on-abort": by_signal and not clean,
        "on-watchdog": False,
    }
    assert policy in table, f"Restart={policy} is not a systemd value"
    return table[policy]


class Supervisor:
    """Runs ``command`` as systemd runs the unit's main process, restarting it by the unit's
    Restart= and RestartSec= (see the module docstring for what is and is not emulated)."""

    def __init__(self, command: list[str], *, env: dict[str, str], cwd: Path, log: Path, unit: Path = UNIT):
        service = unit_settings(unit)["Service"]
        self.policy = service.get("Restart", "no")
        self.restart_seconds = seconds(service.get("RestartSec", "100ms"))
        self.command, self.env, self.cwd, self.log_path = command, env, cwd, log
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.exits: list[int] = []  # return codes of the main processes that ended
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def main_pid(self) -> int | None:
        with self._lock:
            return self.process.pid if self.process is not None and self.process.poll() is None else None

    def start(self) -> Supervisor:
        self._spawn()
        self._thread = threading.Thread(target=self._watch, name="kokasen-web supervisor", daemon=True)
        self._thread.start()
        return self

    def _spawn(self) -> None:
        with open(self.log_path, "ab") as log, self._lock:
            # A process group of its own: what systemd would find in the unit's control group.
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            self.starts += 1

    def _kill_leftovers(self, process: subprocess.Popen) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the group we started, by its id
        except ProcessLookupError:
            pass

    def _watch(self) -> None:
        while True:
            process = self.process
            returncode = process.wait()
            self._kill_leftovers(process)
            if self._stopping.is_set():
                return
            self.exits.append(returncode)
            if not restarts(self.policy, returncode):
                return
            if self._stopping.wait(self.restart_seconds):
                return
            self._spawn()

    def stop(self, timeout: float = 60) -> None:
        self._stopping.set()
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()  # gunicorn's graceful stop, as `systemctl stop` (KillMode=mixed)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        if process is not None:
            self._kill_leftovers(process)
        if self._thread is not None:
            self._thread.join(timeout=timeout)


def gunicorn_command(port: int) -> list[str]:
    """ExecStart= of kokasen-web.service with this checkout's gunicorn and ``port``."""
    service = unit_settings()["Service"]
    command = shlex.split(service["ExecStart"])
    assert command[0] == "/srv/kokasen/app/.venv/bin/gunicorn", command
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        raise StackMissing(f"{gunicorn} is missing: `make setup` installs the pinned requirements")
    text = " ".join(command[1:])
    assert "--bind 127.0.0.1:8001" in text, f"kokasen-web.service's ExecStart changed shape: {text}"
    return [str(gunicorn), *shlex.split(text.replace("--bind 127.0.0.1:8001", f"--bind 127.0.0.1:{port}"))]


# --- Certificates ---------------------------------------------------------------------------------


def certificate_authority(folder: Path, names: list[str], *, ocsp_port: int) -> dict[str, Path]:
    """A throw-away CA and a server certificate for ``names`` (and 127.0.0.1) signed by it, valid
    for a year and naming an OCSP responder on 127.0.0.1:``ocsp_port``: {"ca", "ca_key", "cert",
    "key", "index"}. Clients that trust ``ca`` check the chain and the name like a browser would,
    so nothing needs to be told to ignore the certificate; nginx staples the responder's answers
    as it does the agency's CA's."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, request, cert = (folder / name for name in ("ca.key", "ca.pem", "key.pem", "req.pem", "cert.pem"))
    extensions = folder / "server.ext"
    san = ",".join([*(f"DNS:{name}" for name in names), "IP:127.0.0.1"])
    extensions.write_text(
        f"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        f"extendedKeyUsage=serverAuth\nsubjectAltName={san}\n"
        f"authorityInfoAccess=OCSP;URI:http://127.0.0.1:{ocsp_port}/\n",
        encoding="ascii",
    )

    def openssl(*args) -> str:
        done = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"openssl {' '.join(args[:2])}: {done.stderr}"
        return done.stdout

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca),
        "-days",
        "400",
        "-subj",
        "/CN=kokasen stack test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(request), "-subj", f"/CN={names[0]}"
    )
    openssl(
        "x509",
        "-req",
        "-in",
        str(request),
        "-CA",
        str(ca),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-out",
        str(cert),
        "-days",
        "365",
        "-sha256",
        "-extfile",
        str(extensions),
    )
    # The CA's database of issued certificates, as `openssl ca` keeps it, for `openssl ocsp -index`.
    serial = openssl("x509", "-in", str(cert), "-noout", "-serial").strip().partition("=")[2]
    not_after = openssl("x509", "-in", str(cert), "-noout", "-enddate").strip().partition("=")[2]
    expires = time.strftime("%y%m%d%H%M%SZ", time.strptime(not_after, "%b %d %H:%M:%S %Y %Z"))
    index = folder / "index.txt"
    index.write_text(f"V\t{expires}\t\t{serial}\tunknown\t/CN={names[0]}\n", encoding="ascii")
    return {"ca": ca, "ca_key": ca_key, "cert": cert, "key": key, "index": index}


class OcspResponder:
    """The test CA's OCSP responder on 127.0.0.1: ``openssl ocsp`` answers each request (GET with
    the request in the path, as nginx asks, or POST) from the CA's index. openssl's own server
    would listen on every interface, hence this small one in front of it."""

    def __init__(self, tls: dict[str, Path], port: int):
        self.tls, self.port = tls, port
        self.answered = 0
        self._server: ThreadingHTTPServer | None = None

    def answer(self, request: bytes) -> bytes:
        with tempfile.TemporaryDirectory() as scratch:
            asked, answer = Path(scratch) / "request.der", Path(scratch) / "response.der"
            asked.write_bytes(request)
            done = subprocess.run(
                [
                    "openssl",
                    "ocsp",
                    "-index",
                    str(self.tls["index"]),
                    "-CA",
                    str(self.tls["ca"]),
                    "-rsigner",
                    str(self.tls["ca"]),
                    "-rkey",
                    str(self.tls["ca_key"]),
                    "-ndays",
                    "1",
                    "-reqin",
                    str(asked),
                    "-respout",
                    str(answer),
                ],
                capture_output=True,
                timeout=30,
            )
            assert done.returncode == 0, done.stderr.decode(errors="replace")
            self.answered += 1
            return answer.read_bytes()

    def start(self) -> OcspResponder:
        responder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                self.reply(base64.b64decode(urllib.parse.unquote(self.path.lstrip("/"))))

            def do_POST(self):  # noqa: N802
                self.reply(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

            def reply(self, request: bytes):
                body = responder.answer(request)
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="OCSP responder", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


# --- A browser-like HTTPS client --------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.values(name)
        return values[-1] if values else None

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _Connection(http.client.HTTPSConnection):
    def __init__(self, port, *, source, sni, context, timeout):
        super().__init__("127.0.0.1", port, timeout=timeout, source_address=(source, 0), context=context)
        self.sni = sni

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout, self.source_address)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.sni)


@dataclass
class Browser:
    """One person's browser: HTTPS from ``source`` (a loopback address) to nginx, verifying the
    stack's certificate for the portal's name, with cookies, Origin and Referer as a browser
    sends them, and CSRF tokens taken from the cookie for form posts."""

    port: int
    ca: Path
    source: str = "127.0.0.1"
    host: str = HOST
    timeout: float = 30
    cookies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self._context = ssl.create_default_context(cafile=str(self.ca))
        self._connection: _Connection | None = None

    @property
    def origin(self) -> str:
        return f"https://{self.host}" + ("" if self.port == 443 else f":{self.port}")

    def close(self):
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None) -> Response:
        sent = {"Host": self.host, "User-Agent": "kokasen-stack-test", "Accept-Encoding": "identity"}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        sent.update(headers or {})
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = _Connection(
                    self.port, source=self.source, sni=self.host, context=self._context, timeout=self.timeout
                )
            try:
                self._connection.request(method, path, body=body, headers=sent)
                raw = self._connection.getresponse()
                response = Response(raw.status, raw.getheaders(), raw.read())
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # a kept-alive connection the server had closed: once more on a new one
                if attempt == 2:
                    raise
        if (response.header("Connection") or "").lower() == "close":
            self.close()
        for value in response.values("Set-Cookie"):
            for name, morsel in SimpleCookie(value).items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, path: str, headers: dict | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, data: dict[str, str], *, headers: dict | None = None) -> Response:
        fields = dict(data)
        if "csrftoken" in self.cookies:
            fields.setdefault("csrfmiddlewaretoken", self.cookies["csrftoken"])
        return self.request(
            "POST",
            path,
            body=urllib.parse.urlencode(fields).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": self.origin,
                "Referer": f"{self.origin}{path}",
                **(headers or {}),
            },
        )

    def log_in(self, username: str, password: str, *, headers: dict | None = None) -> Response:
        """The login page as a person uses it: the form, then the post; returns the post's answer."""
        self.get("/login/", headers)
        return self.post("/login/", {"username": username, "password": password}, headers=headers)


# --- PostgreSQL ---------------------------------------------------------------------------------------


def _create_database(name: str, password: str) -> None:
    """A role and a database of that name, the role's password for gunicorn's TCP connection
    (Debian's default authentication on 127.0.0.1; a trust setup accepts it as well)."""
    try:
        ensure_cluster()
        _drop_database(name)
        psql(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'", f'CREATE DATABASE "{name}" OWNER "{name}"')
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        raise StackMissing(
            f"PostgreSQL: {exc}. The stack uses Debian's cluster through runuser -u postgres "
            "(install Debian's postgresql package: `make test-tools`)"
        ) from None


def _drop_database(name: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'DROP ROLE IF EXISTS "{name}"')


# --- The stack -------------------------------------------------------------------------------------------


def _wait_for(what: str, probe, *, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if probe():
                return
        except OSError:
            pass
        if (process is not None and process.poll() is not None) or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
            raise RuntimeError(f"{what} did not come up within {timeout:.0f} s\n{tail}")
        time.sleep(0.1)


class Stack:
    """``Stack(folder).start()`` … ``stop()`` (or ``with Stack(folder) as stack``). Ports are
    free loopback ports unless given (``make measure-stack`` puts nginx on 80 and 443 so that
    the measuring tools see a standard site)."""

    def __init__(
        self,
        folder: Path,
        *,
        http_port: int | None = None,
        https_port: int | None = None,
        export_port: int | None = None,
        database: str | None = None,
    ):
        self.folder = folder
        self.ports = {
            "http": http_port or free_port(),
            "https": https_port or free_port(),
            "export": export_port or free_port(),
            "gunicorn": free_port(),
            "ocsp": free_port(),
        }
        self.database = database or f"kokasen_stack_{os.getpid()}"
        self.database_password = secrets.token_hex(16)
        self.srv = folder / "srv"
        self.logs = folder / "nginx" / "logs"
        self.members = {code: secrets.token_urlsafe(18) for code in MEMBER_CODES}
        self.info: dict = {}
        self.redis = RedisServer(folder / "redis")
        self.clamd = ClamdServer(folder / "clamd")
        self.nginx: subprocess.Popen | None = None
        self.gunicorn: Supervisor | None = None
        self.ocsp: OcspResponder | None = None
        self._database_created = False

    # -- start and stop

    def start(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        nginx = nginx_binary()
        for name, package in (("openssl", "openssl"),):
            if shutil.which(name) is None:
                raise StackMissing(f"{name} is missing: install Debian's {package} package (`make test-tools`)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.certificates = certificate_authority(
            self.folder / "tls", [HOST, EXPORT_HOST], ocsp_port=self.ports["ocsp"]
        )
        self.ocsp = OcspResponder(self.certificates, self.ports["ocsp"]).start()
        _create_database(self.database, self.database_password)
        self._database_created = True
        self.redis.start()
        clamd_error: list[BaseException] = []
        clamd_thread = threading.Thread(target=self._start_clamd, args=(clamd_error,), daemon=True)
        clamd_thread.start()  # loads its database while the content is put in place
        self.env_file = self._write_env_file()
        self._seed()
        clamd_thread.join(timeout=120)
        if clamd_error:
            raise clamd_error[0]
        self._start_nginx(nginx)
        self.gunicorn = Supervisor(
            gunicorn_command(self.ports["gunicorn"]), env=self.process_env(), cwd=ROOT, log=self.folder / "gunicorn.log"
        ).start()
        self.wait_until_answering(timeout=90)

    def _start_clamd(self, errors: list) -> None:
        try:
            self.clamd.start()
        except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
            errors.append(exc)

    def stop(self) -> None:
        if self.gunicorn is not None:
            self.gunicorn.stop()
            self.gunicorn = None
        if self.nginx is not None:
            if self.nginx.poll() is None:
                self.nginx.terminate()  # our own nginx master, by its process id
                self.nginx.wait(timeout=30)
            self.nginx = None
        if self.ocsp is not None:
            self.ocsp.stop()
            self.ocsp = None
        self.redis.stop()
        self.clamd.stop()
        if self._database_created:
            _drop_database(self.database)
            self._database_created = False

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the pieces

    def _write_env_file(self) -> Path:
        """/etc/kokasen/kokasen.env as the installer writes it (deploy/kokasen.env.example), for
        this stack; mode 0600 (the production settings refuse a file others can read)."""
        (self.srv / "media").mkdir(parents=True, exist_ok=True)
        secret = self.folder / "secret_key"
        secret.write_text(secrets.token_urlsafe(50), encoding="ascii")
        secret.chmod(0o600)
        https = "" if self.ports["https"] == 443 else f":{self.ports['https']}"
        values = {
            "SECRET_KEY_FILE": secret,
            "ALLOWED_HOSTS": HOST,
            "DATABASE_URL": self._database_url(),
            "REDIS_URL": self.redis.url(0),
            # Nothing listens there: nothing is sent (a queued message would wait in the outbox).
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": free_port(),
            "EMAIL_USE_TLS": "true",
            "DEFAULT_FROM_EMAIL": f"kokasen@{HOST}",
            "PORTAL_BASE_URL": f"https://{HOST}{https}",
            "CSRF_TRUSTED_ORIGINS": f"https://{HOST}{https}",
            "WAGTAILADMIN_BASE_URL": f"https://{HOST}{https}",
            "STATIC_ROOT": self.srv / "static",
            "MEDIA_ROOT": self.srv / "media",
            "PUBLISHED_PAGES_ROOT": self.srv / "public-pages",
            "PROTECTED_FILES_X_ACCEL_PREFIX": "/protected-media",
            "CLAMD_ADDRESS": self.clamd.socket_path,
            # The stack shows the wiring, not this machine's free space (production: 4096).
            "HEALTH_DISK_MIN_FREE_MB": 64,
            # A backup record as kokasen-backup.service writes it, fresh (/readyz checks its age).
            "OPS_BACKUP_STATUS_FILE": self._backup_record(),
            "LOG_LEVEL": "WARNING",
        }
        path = self.folder / "kokasen.env"
        path.write_text("".join(f"{name}={value}\n" for name, value in values.items()), encoding="utf-8")
        path.chmod(0o600)
        return path

    def _backup_record(self) -> Path:
        path = self.folder / "backup" / "last-success.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        finished = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        path.write_text(json.dumps({"finished_at": finished, "snapshot_id": "stack"}), encoding="utf-8")
        return path

    def process_env(self) -> dict[str, str]:
        """What a systemd unit's process gets: no variables of this shell (the test runner's
        DJANGO_SETTINGS_MODULE or DATABASE_URL must not reach the stack), only the path to the
        environment file (the installer's default path on a server)."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.folder),
            "KOKASEN_ENV_FILE": str(self.env_file),
        }

    def manage(self, *args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        """deploy/bin/kokasen-manage ARGS, as an operator runs it on the server."""
        return subprocess.run(
            ["sh", str(MANAGE), *args],
            cwd=ROOT,
            env={**self.process_env(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def _seed(self) -> None:
        info = self.folder / "seed.json"
        done = self.manage(
            "shell",
            "-c",
            "from kokasen.demo.stack import seed; seed()",
            env={
                "KOKASEN_STACK_MEMBERS": json.dumps(self.members),
                "KOKASEN_STACK_INFO": str(info),
                "KOKASEN_STACK_EXPORT": str(self.folder / "export"),
            },
        )
        if done.returncode != 0 or not info.exists():
            raise RuntimeError(
                f"kokasen-manage shell (migrate, demo content, collectstatic, export) failed:\n"
                f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
            )
        self.info = json.loads(info.read_text(encoding="utf-8"))

    def _start_nginx(self, binary: str) -> None:
        folder = self.folder / "nginx"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(NGINX_DIR / "errors", self.srv / "errors", dirs_exist_ok=True)
        http_conf = write_http_conf(folder)  # the installed defaults: every admin network, monitors on loopback
        sites = write_sites(
            folder,
            ports=self.ports,
            cert=self.certificates["cert"],
            key=self.certificates["key"],
            chain=self.certificates["ca"],
            app_port=self.ports["gunicorn"],
            srv=self.srv,
            export_root=self.folder / "export",
            export_host=EXPORT_HOST,
            host=HOST,
        )
        conf = debian_main_conf(folder, [http_conf, *sites], worker_connections=4096)
        command = [binary, "-c", str(conf), "-e", str(self.logs / "main-error.log"), "-g", "daemon off;"]
        self.nginx_test = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=60)
        if self.nginx_test.returncode != 0:
            raise RuntimeError(f"nginx -t refused the configuration:\n{self.nginx_test.stderr}")
        for port in (self.ports["http"], self.ports["https"]):
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError as exc:
                    raise RuntimeError(
                        f"127.0.0.1:{port} is taken ({exc.strerror}): stop what listens there "
                        f"(`ss -ltnp 'sport = :{port}'`)"
                    ) from None
        self.nginx = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for(
            "nginx",
            lambda: socket.create_connection(("127.0.0.1", self.ports["export"]), timeout=1).close() is None,
            timeout=30,
            process=self.nginx,
            log=self.logs / "main-error.log",
        )

    # -- using it

    def browser(self, source: str = "127.0.0.1", **options) -> Browser:
        return Browser(self.ports["https"], self.certificates["ca"], source=source, **options)

    def export_browser(self, source: str = "127.0.0.1") -> Browser:
        return Browser(self.ports["export"], self.certificates["ca"], source=source, host=EXPORT_HOST)

    @property
    def url(self) -> str:
        return f"https://{HOST}" + ("" if self.ports["https"] == 443 else f":{self.ports['https']}")

    def wait_until_answering(self, timeout: float = 90) -> None:
        """Until nginx passes /healthz to a gunicorn that answers 200."""
        browser = self.browser()

        def healthy():
            try:
                return browser.get("/healthz").status == 200
            finally:
                browser.close()

        _wait_for("gunicorn behind nginx (/healthz)", healthy, timeout=timeout, log=self.folder / "gunicorn.log")

    def s_client_command(self, *options: str) -> list[str]:
        """``openssl s_client`` to the portal with its name and the stack's CA, plus ``options``."""
        return ["openssl", "s_client", "-connect", f"127.0.0.1:{self.ports['https']}", "-servername", HOST,
                *options, "-CAfile", str(self.certificates["ca"])]  # fmt: skip

    def s_client(self, *options: str) -> subprocess.CompletedProcess:
        """One handshake (``s_client_command``), stdin closed at once."""
        command = self.s_client_command(*options)
        return subprocess.run(command, input="", capture_output=True, text=True, timeout=30)

    def stapled(self) -> bool:
        """Whether one TLS handshake with the portal's name got a good stapled OCSP answer."""
        done = self.s_client("-status")
        return "OCSP Response Status: successful" in done.stdout and "Cert Status: good" in done.stdout

    def prime_ocsp_stapling(self, timeout: float = 60) -> bool:
        """Each nginx worker asks the responder on its first handshake and staples from the next
        one on: handshake until several in a row are stapled (every worker has its answer)."""
        deadline, in_a_row = time.monotonic() + timeout, 0
        while in_a_row < 6 and time.monotonic() < deadline:
            in_a_row = in_a_row + 1 if self.stapled() else 0
            if not in_a_row:
                time.sleep(0.3)
        return in_a_row >= 6

    def _database_url(self) -> str:
        return f"postgresql://{self.database}:{self.database_password}@127.0.0.1:5432/{self.database}"

    def flush_logs(self) -> None:
        """nginx buffers its access logs (buffer=64k flush=5s); SIGUSR1 makes it write them."""
        os.kill(self.nginx.pid, signal.SIGUSR1)
        time.sleep(0.5)

    def log_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.logs.iterdir() if path.is_file())

    def audit_events(self, actions: tuple[str, ...]) -> list[dict]:
        """The audit trail's rows with these actions, oldest first (the database, read directly)."""
        import psycopg

        with psycopg.connect(self._database_url(), connect_timeout=5, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT action, host(ip_address), target_label, detail FROM core_auditevent "
                "WHERE action = ANY(%s) ORDER BY id",
                (list(actions),),
            ).fetchall()
        return [{"action": a, "ip": ip, "target": t, "detail": d} for a, ip, t, d in rows]

    def stop_redis(self) -> None:
        self.redis.stop()

    def start_redis(self) -> None:
        self.redis.start()
