"""kill -9 in the middle of sending, then run again: every local government still gets its
message, and no local government gets two different messages."""

from collections import defaultdict

from kokasen.testing.smtp import SlowHandler, TLSController, manage, send_outbox_killed_part_way, subprocess_env

COUNT = 300

QUEUE_SCRIPT = f"""
from kokasen.localgov.models import LocalGovernment
from kokasen.notifications import services
for lg in LocalGovernment.objects.order_by("code")[:{COUNT}]:
    services.message_queue(kind="credentials", to=[f"kodomo-{{lg.code}}@example.jp"], subject="お知らせ",
                           body=f"{{lg}} 様", local_government=lg, dedupe_key=f"credentials:{{lg.code}}")
"""
COUNT_SCRIPT = (
    "from kokasen.notifications.models import OutboxMessage as M; print(M.objects.filter(status='sent').count())"
)


def test_a_killed_sender_resumes_without_losing_or_duplicating(smtp_certificate, fresh_sqlite_file):
    cert, key = smtp_certificate
    handler = SlowHandler()
    controller = TLSController(handler, cert, key)
    controller.start()
    env = subprocess_env(fresh_sqlite_file, controller.port, cert)
    try:
        assert manage(env, "shell", "-v0", "-c", QUEUE_SCRIPT).returncode == 0
        delivered_before = send_outbox_killed_part_way(env, handler, after=COUNT // 3)
        assert 0 < delivered_before < COUNT, "the kill must land part way"
        assert int(manage(env, "shell", "-v0", "-c", COUNT_SCRIPT).stdout) < COUNT

        second = manage(env, "send_outbox")
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
    assert int(manage(env, "shell", "-v0", "-c", COUNT_SCRIPT).stdout) == COUNT
