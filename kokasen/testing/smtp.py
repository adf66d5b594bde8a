"""A real SMTP server on loopback for tests: aiosmtpd with STARTTLS required."""

import email
import email.policy
import logging
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command at INFO


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage
    tls: bool


@dataclass
class RecordingHandler:
    """Keeps every message; ``refuse`` maps an address to the reply that refuses it."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, session.ssl is not None))
        return "250 Message accepted for delivery"


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class TLSController(Controller):
    def __init__(self, handler, cert: Path, key: Path):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self._tls = context
        super().__init__(handler, hostname="127.0.0.1", port=free_port())

    def factory(self):
        return SMTP(self.handler, tls_context=self._tls, require_starttls=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SlowHandler(RecordingHandler):
    """Takes 10 ms per message, so that a kill lands part way through a run."""

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


ROOT = Path(__file__).resolve().parents[2]


def subprocess_env(database: Path, port: int, cert: Path) -> dict[str, str]:
    """Environment for ``manage.py`` subprocesses with production settings, a SQLite file and
    the loopback SMTP server (STARTTLS, its self-signed certificate trusted)."""
    import os

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kokasen.settings.base",
        "SECRET_KEY": "crash-test-secret-key-that-is-long-enough-for-django",
        "DATABASE_URL": f"sqlite:///{database}",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "true",
        "DEFAULT_FROM_EMAIL": "kokasen@portal.example.go.jp",
        "SSL_CERT_FILE": str(cert),
        "LOG_LEVEL": "WARNING",
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    import sys

    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def send_outbox_killed_part_way(env: dict[str, str], handler: RecordingHandler, *, after: int) -> int:
    """Start ``manage.py send_outbox``, SIGKILL it once ``after`` messages have arrived;
    return how many had arrived when it died."""
    import os
    import signal
    import sys
    import time

    process = subprocess.Popen(
        [sys.executable, "manage.py", "send_outbox"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while len(handler.received) < after and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return len(handler.received)


def serve_until_stdin_closes() -> None:
    """``python -m kokasen.testing.smtp CERT KEY``: a STARTTLS server in its own
    process (benchmarks: no GIL shared with the sender). Prints its port, then, when stdin
    closes, the number of messages and recipients it received."""
    import sys

    handler = RecordingHandler()
    controller = TLSController(handler, Path(sys.argv[1]), Path(sys.argv[2]))
    controller.start()
    print(controller.port, flush=True)
    sys.stdin.read()
    controller.stop()
    print(len(handler.received), sum(len(r.rcpt_tos) for r in handler.received), flush=True)


if __name__ == "__main__":
    serve_until_stdin_closes()
