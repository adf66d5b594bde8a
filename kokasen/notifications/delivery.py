"""Whether the configured mail backend really delivers (docs/decisions/0021).

Django's console, locmem, file and dummy backends accept every message and deliver none: the
console backend prints it (with the password a credential message carries), the others keep
it in memory or in a file, or drop it. ``send_outbox`` would then mark the messages 送信済み and
erase their password nonces, so the local governments would never get them. The sender
therefore refuses to start with such a backend, before it touches a single row, unless the
settings say ``OUTBOX_ALLOW_NON_DELIVERING_BACKEND = True`` (the test settings only).
"""

from django.conf import settings
from django.core.mail.backends import console, dummy, filebased, locmem
from django.utils.module_loading import import_string

# filebased.EmailBackend is a subclass of console.EmailBackend; both are listed for clarity.
NON_DELIVERING_BACKENDS = (console.EmailBackend, filebased.EmailBackend, locmem.EmailBackend, dummy.EmailBackend)


class NonDeliveringBackend(Exception):
    """The configured backend would print, keep or drop the messages instead of delivering them."""


def refusal_message(backend_path: str) -> str:
    return (
        f"メールの送信方式（EMAIL_BACKEND = {backend_path}）は、メールを実際には配送しない方式です。"
        "送信を中止しました。送信待ちのメールはそのまま残っており、送信済みにはしていません。\n"
        "本番サーバーでは deploy/bin/kokasen-manage send_outbox で実行してください"
        "（本番の設定と環境ファイル /etc/kokasen/kokasen.env を使います）。\n"
        "開発環境で送信を試すときは、ローカルの SMTP サーバーを起動し"
        "（例: .venv/bin/aiosmtpd -n -l 127.0.0.1:1025）、"
        "EMAIL_HOST=127.0.0.1 EMAIL_PORT=1025 を付けて manage.py send_outbox を実行してください。"
    )


def ensure_delivering_backend() -> None:
    """Raise NonDeliveringBackend unless EMAIL_BACKEND delivers (or the settings allow it)."""
    if getattr(settings, "OUTBOX_ALLOW_NON_DELIVERING_BACKEND", False):
        return
    backend = import_string(settings.EMAIL_BACKEND)
    if isinstance(backend, type) and issubclass(backend, NON_DELIVERING_BACKENDS):
        raise NonDeliveringBackend(refusal_message(settings.EMAIL_BACKEND))
