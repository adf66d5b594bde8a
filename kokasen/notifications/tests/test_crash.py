"""kill -9 in the middle of sending, then run again: every local government still gets its
message, and no local government gets two different messages."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path


from kokasen.notifications.testing import RecordingHandler, TLSController

ROOT = Path(__file__).resolve().parents[3]
COUNT = 300

QUEUE_SCRIPT = f"""
from kokasen.localgov.models import LocalGovernment
from kokasen.notifications import services
for lg in LocalGovernment.objects.order_by("code")[:{COUNT}]:
    services.message_queue(kind="credentials", to=[f"kodomo-{{lg.code}}@example.jp"], subject="お知らせ",
                           body=f"{{lg}} 様", local_government=lg, dedupe_key=f"credentials:{{lg.code}}")
"""
COUNT_SCRIPT = "from kokasen.notifications.models import OutboxMessage as M; print(M.objects.filter(status='sent').count())"


class SlowHandler(RecordingHandler):
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.01)  # give the kill time to land mid-run
        return await super().handle_DATA(server, session, envelope)


def test_a_killed_sender_resumes_without_losing_or_duplicating(tmp_path, smtp_certificate):
    cert, key = smtp_certificate
    handler = SlowHandler()
    controller = TLSController(handler, cert, key)
    controller.start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kokasen.settings.base",
        "SECRET_KEY": "crash-test-secret-key-that-is-long-enough-for-django",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'crash.sqlite3'}",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(controller.port),
        "EMAIL_USE_TLS": "true",
        "DEFAULT_FROM_EMAIL": "kokasen@portal.example.go.jp",
        "SSL_CERT_FILE": str(cert),
        "LOG_LEVEL": "WARNING",
    }

    def manage(*args, **kwargs):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300, **kwargs)

    try:
        assert manage("migrate", "-v0").returncode == 0
        assert manage("shell", "-v0", "-c", QUEUE_SCRIPT).returncode == 0
        first = subprocess.Popen([sys.executable, "manage.py", "send_outbox"], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while len(handler.received) < COUNT // 3 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.005)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        delivered_before = len(handler.received)
        assert 0 < delivered_before < COUNT, "the kill must land part way"
        assert int(manage("shell", "-v0", "-c", COUNT_SCRIPT).stdout) < COUNT

        second = manage("send_outbox")
        assert second.returncode == 0, second.stderr
    finally:
        controller.stop()

    per_recipient = defaultdict(set)
    for received in handler.received:
        for address in received.rcpt_tos:
            per_recipient[address].add(received.message["Message-ID"].strip())
    assert len(per_recipient) == COUNT, "every local government got its message"
    assert all(len(ids) == 1 for ids in per_recipient.values()), "nobody got two different messages"
    # At most the one message in flight at the kill can arrive twice, with one Message-ID.
    assert COUNT <= len(handler.received) <= COUNT + 1
    assert int(manage("shell", "-v0", "-c", COUNT_SCRIPT).stdout) == COUNT
