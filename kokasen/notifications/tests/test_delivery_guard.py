"""send_outbox never "sends" through a mail backend that delivers nothing (decision 0021).

Django's console, locmem, file and dummy backends accept every message and deliver none. The
development settings use the console backend, and ``manage.py`` picks the development settings
when nothing else is said, so an operator who ran ``manage.py send_outbox`` by hand used to get
every initial password printed on the terminal and the messages marked 送信済み, with nothing
delivered.
"""

import os
import subprocess

import pytest
from django.core.management import CommandError, call_command

from kokasen.accounts import credentials
from kokasen.localgov.models import LocalGovernment
from kokasen.notifications import message_templates, services
from kokasen.notifications.models import OutboxMessage
from kokasen.testing.smtp import manage

QUEUE_SCRIPT = """
from kokasen.accounts import credentials
from kokasen.localgov.models import LocalGovernment
from kokasen.notifications import message_templates, services
nonce = credentials.new_nonce()
services.message_queue(
    kind="credentials", to=["kodomo@example.jp"], subject="アカウント発行のお知らせ",
    body="初期パスワード: " + message_templates.PASSWORD_SLOT,
    local_government=LocalGovernment.objects.get(code="011002"), secret_nonce=nonce, dedupe_key="credentials:011002",
)
print(credentials.derive_password(nonce))
"""
STATUS_SCRIPT = (
    "from kokasen.notifications.models import OutboxMessage as M; "
    "m = M.objects.get(); print(m.status, bool(m.secret_nonce), m.attempts)"
)
NON_DELIVERING = [
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
]


def by_hand_environment(database) -> dict[str, str]:
    """An operator's shell: no DJANGO_SETTINGS_MODULE (manage.py's default applies), no mail
    settings, no server environment file."""
    dropped = ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "KOKASEN_ENV_FILE")
    environment = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("EMAIL_")}
    environment["DATABASE_URL"] = f"sqlite:///{database}"
    return environment


def test_send_outbox_by_hand_with_the_default_settings_prints_no_password_and_marks_nothing_sent(fresh_sqlite_file):
    environment = by_hand_environment(fresh_sqlite_file)
    queued = manage(environment, "shell", "-v0", "-c", QUEUE_SCRIPT)
    assert queued.returncode == 0, queued.stderr
    password = queued.stdout.strip()
    assert len(password) == credentials.LENGTH

    run = manage(environment, "send_outbox")

    assert password not in run.stdout + run.stderr, "the initial password was printed on the terminal"
    assert run.returncode != 0, run.stdout
    assert "実際には配送しない" in run.stderr and "console" in run.stderr
    status = manage(environment, "shell", "-v0", "-c", STATUS_SCRIPT)
    assert status.stdout.split() == ["queued", "True", "0"], "the message must stay queued, untouched, nonce kept"


def queue_credentials():
    nonce = credentials.new_nonce()
    message = services.message_queue(
        kind="credentials",
        to=["kodomo@example.jp"],
        subject="アカウント発行のお知らせ",
        body="初期パスワード: " + message_templates.PASSWORD_SLOT,
        local_government=LocalGovernment.objects.get(code="011002"),
        secret_nonce=nonce,
    )
    return message, credentials.derive_password(nonce)


@pytest.mark.django_db
@pytest.mark.parametrize("backend", NON_DELIVERING)
def test_the_sender_refuses_every_backend_that_delivers_nothing(backend, settings, tmp_path, capsys):
    settings.EMAIL_BACKEND = backend
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    settings.OUTBOX_ALLOW_NON_DELIVERING_BACKEND = False
    message, password = queue_credentials()
    broadcast = services.broadcast_queue(kind="tips_digest", bcc=["staff@example.jp"], subject="まとめ", body="本文")

    with pytest.raises(CommandError) as refused:
        call_command("send_outbox")

    assert "実際には配送しない" in str(refused.value) and backend.split(".")[-2] in str(refused.value)
    printed = capsys.readouterr()
    assert password not in printed.out + printed.err
    for row in (message, broadcast):
        row.refresh_from_db()
        assert (row.status, row.attempts, row.sent_at) == (OutboxMessage.Status.QUEUED, 0, None)
    message.refresh_from_db()
    assert message.secret_nonce, "the password can still be sent once a real server is configured"
    assert not (tmp_path / "mail").exists()


@pytest.mark.django_db
def test_the_test_settings_allow_the_in_memory_backend_explicitly(settings, mailoutbox):
    assert settings.OUTBOX_ALLOW_NON_DELIVERING_BACKEND is True
    message, password = queue_credentials()
    call_command("send_outbox", verbosity=0)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT and password in mailoutbox[0].body


def test_only_the_test_settings_allow_a_non_delivering_backend():
    from kokasen.settings import base, dev, test

    assert base.OUTBOX_ALLOW_NON_DELIVERING_BACKEND is False
    assert dev.OUTBOX_ALLOW_NON_DELIVERING_BACKEND is False
    assert test.OUTBOX_ALLOW_NON_DELIVERING_BACKEND is True


def test_the_production_command_path_delivers_the_password_by_smtp_and_prints_it_nowhere(
    smtp_certificate, fresh_sqlite_file, tmp_path
):
    """deploy/bin/kokasen-manage send_outbox: the production settings from the environment file,
    the message delivered over STARTTLS to a loopback server, nothing secret on the terminal."""
    from kokasen.testing.smtp import ROOT, RecordingHandler, TLSController

    cert, key = smtp_certificate
    handler = RecordingHandler()
    controller = TLSController(handler, cert, key)
    controller.start()
    env_file = tmp_path / "kokasen.env"
    env_file.write_text(
        "SECRET_KEY=production-like-secret-key-that-is-long-enough-for-django\n"
        "ALLOWED_HOSTS=portal.example.go.jp\n"
        f"DATABASE_URL=sqlite:///{fresh_sqlite_file}\n"
        "REDIS_URL=redis://127.0.0.1:6379/0\n"
        f"EMAIL_HOST=127.0.0.1\nEMAIL_PORT={controller.port}\nEMAIL_USE_TLS=true\n"
        'DEFAULT_FROM_EMAIL="こども家庭庁 運営事務局 <noreply@portal.example.go.jp>"\n'
        "PORTAL_BASE_URL=https://portal.example.go.jp\n",
        encoding="utf-8",
    )
    env_file.chmod(0o640)
    environment = by_hand_environment(fresh_sqlite_file)
    del environment["DATABASE_URL"]  # from the environment file
    environment |= {"KOKASEN_ENV_FILE": str(env_file), "SSL_CERT_FILE": str(cert)}
    wrapper = str(ROOT / "deploy" / "bin" / "kokasen-manage")
    try:
        queued = subprocess.run(
            [wrapper, "shell", "-v0", "-c", QUEUE_SCRIPT],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert queued.returncode == 0, queued.stderr
        password = queued.stdout.strip()
        run = subprocess.run(
            [wrapper, "send_outbox"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
        )
    finally:
        controller.stop()
    assert run.returncode == 0, run.stderr
    assert "送信 1 件" in run.stdout and password not in run.stdout + run.stderr
    [received] = handler.received
    assert received.tls and received.rcpt_tos == ["kodomo@example.jp"]
    assert password in received.message.get_content()
