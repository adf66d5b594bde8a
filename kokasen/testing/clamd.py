"""A real clamd on this machine for the tests (Debian's clamav-daemon), with its own signature
database made by ``sigtool`` and never the official one (no freshclam, nothing downloaded).

The configuration is deploy/clamav/clamd.conf, the file a server installs, with only its paths
moved into a scratch folder (and, when asked, a TCP port on 127.0.0.1 added). The database holds
one signature for a harmless test string, ``TEST_SIGNATURE_TEXT``: any file containing it (also
inside a ZIP) is reported as ``TEST_SIGNATURE_NAME``. It is built as a ``daily`` database, so
clamd's VERSION reports its version and build time, as it does for the official ``daily.cvd``.

Used by the ``clamd_server`` fixture (kokasen/conftest.py). A missing binary fails the test
with the package that brings it: `make test-tools` installs clamav-daemon and clamav.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_CONF = ROOT / "deploy" / "clamav" / "clamd.conf"
TEST_SIGNATURE_TEXT = b"KOKASEN-TEST-SIGNATURE: a harmless test string, not a virus"
# clamd adds ".UNOFFICIAL" to the names of signatures that did not come from ClamAV's own databases.
TEST_SIGNATURE_NAME = "Kokasen.Test.Signature.UNOFFICIAL"
PACKAGES = {"clamd": "clamav-daemon", "sigtool": "clamav"}


class ClamdMissing(RuntimeError):
    pass


def binary(name: str) -> str:
    found = shutil.which(name, path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin")
    if not found:
        raise ClamdMissing(
            f"{name} is missing: install Debian's {PACKAGES[name]} package (`make test-tools`, or "
            f"apt-get install clamav-daemon clamav); the virus-checking tests run a real clamd"
        )
    return found


def build_signature_database(folder: Path, *, version: int = 1) -> Path:
    """``folder``/db/daily.cud: one .ndb signature for TEST_SIGNATURE_TEXT, in an unsigned
    database container built by sigtool (version ``version``, build time now)."""
    sigtool = binary("sigtool")
    build = folder / "signature-build"
    build.mkdir(parents=True, exist_ok=True)
    hex_text = (
        subprocess.run([sigtool, "--hex-dump"], input=TEST_SIGNATURE_TEXT, capture_output=True, check=True, timeout=30)
        .stdout.decode()
        .strip()
    )
    (build / "daily.ndb").write_text(f"Kokasen.Test.Signature:0:*:{hex_text}\n", encoding="ascii")
    (build / "COPYING").write_text("Test signatures of the kokasen test suite. Not a virus database.\n")
    done = subprocess.run(
        [sigtool, "--build=daily.cud", "--unsigned", f"--cvd-version={version}", "--no-cdiff", f"--datadir={build}"],
        input="kokasen-tests\n",
        text=True,
        capture_output=True,
        cwd=build,
        timeout=60,
    )
    assert done.returncode == 0 and (build / "daily.cud").exists(), (
        f"sigtool --build failed: {done.stdout}{done.stderr}"
    )
    database = folder / "db"
    database.mkdir(exist_ok=True)
    shutil.copyfile(build / "daily.cud", database / "daily.cud")
    return database


def write_config(folder: Path, database: Path, *, tcp_port: int | None = None) -> Path:
    """deploy/clamav/clamd.conf with its paths in ``folder`` (and a loopback TCP port)."""
    text = DEPLOY_CONF.read_text(encoding="utf-8")
    replacements = [
        ("LocalSocket /run/clamav/clamd.ctl", f"LocalSocket {folder / 'clamd.sock'}"),
        ("DatabaseDirectory /var/lib/clamav", f"DatabaseDirectory {database}"),
        ("LogFile /var/log/clamav/clamav.log", f"LogFile {folder / 'clamd.log'}"),
        # The tests' files belong to whoever runs them; clamd stays that user.
        ("User clamav\n", ""),
        ("LocalSocketGroup clamav\n", ""),
    ]
    for old, new in replacements:
        assert old in text, (
            f"deploy/clamav/clamd.conf changed shape: {old!r} not found; update kokasen/testing/clamd.py"
        )
        text = text.replace(old, new)
    text += f"PidFile {folder / 'clamd.pid'}\nTemporaryDirectory {folder}\nForeground yes\n"
    if tcp_port is not None:
        text += f"TCPSocket {tcp_port}\nTCPAddr 127.0.0.1\n"
    path = folder / "clamd.conf"
    path.write_text(text, encoding="utf-8")
    return path


class ClamdServer:
    """clamd started from ``write_config``; ``socket_path`` and ``tcp_address`` for the client."""

    def __init__(self, folder: Path, *, tcp_port: int | None = None, database: Path | None = None):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.database = database or build_signature_database(folder)
        self.tcp_port = tcp_port
        self.config = write_config(folder, self.database, tcp_port=tcp_port)
        self.process: subprocess.Popen | None = None

    @property
    def socket_path(self) -> str:
        return str(self.folder / "clamd.sock")

    @property
    def tcp_address(self) -> str:
        assert self.tcp_port is not None
        return f"tcp://127.0.0.1:{self.tcp_port}"

    def start(self, timeout: float = 60) -> ClamdServer:
        clamd = binary("clamd")
        # Without TZ clamd writes its dates in the machine's zone, as under systemd (Django set TZ
        # for this process).
        env = {k: v for k, v in os.environ.items() if k != "TZ"}
        log = open(self.folder / "clamd.stderr", "wb")  # noqa: SIM115 - closed in stop()
        self._stderr = log
        self.process = subprocess.Popen([clamd, "-c", str(self.config)], stdout=log, stderr=log, env=env)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"clamd ended at start: {self.log_text()}")
            if self._pong():
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"clamd did not answer within {timeout} s: {self.log_text()}")
            time.sleep(0.05)

    def _pong(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(1)
                sock.connect(self.socket_path)
                sock.sendall(b"zPING\0")
                return sock.recv(16).startswith(b"PONG")
        except OSError:
            return False

    def log_text(self) -> str:
        parts = []
        for name in ("clamd.stderr", "clamd.log"):
            path = self.folder / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # our own clamd, by its process id
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self.process = None
        if getattr(self, "_stderr", None) is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> ClamdServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
