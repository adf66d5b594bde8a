"""Local development: the portal on http://127.0.0.1:8000 with SQLite."""

import os

from django.core.exceptions import ImproperlyConfigured

from .env import server_env_file

# Never on a server: DEBUG, plain HTTP and the console mail backend are for a developer's machine.
if (_server_env_file := server_env_file()) is not None:
    raise ImproperlyConfigured(
        f"このマシンはサーバーです（環境ファイル {_server_env_file}）。開発用の設定 kokasen.settings.dev は使えません。"
        "deploy/bin/kokasen-manage（本番の設定）で実行してください。"
    )

os.environ.setdefault("SECRET_KEY", "dev-only-insecure-key-never-used-in-production")

from .base import *  # noqa: E402,F403

DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# Plain HTTP on the developer's machine: no redirect, no HSTS, no Secure cookies.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Mail is printed to the console unless EMAIL_HOST names an SMTP server (a local sink such as
# `.venv/bin/aiosmtpd -n -l 127.0.0.1:1025`). send_outbox refuses the console backend
# (OUTBOX_ALLOW_NON_DELIVERING_BACKEND stays False): it would print passwords and mark
# messages sent that nobody received.
if not os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8000"
# Virus checking only if this machine has clamd (apt-get install clamav-daemon, then
# CLAMD_ADDRESS=/run/clamav/clamd.ctl); otherwise uploads pass unscanned here.
CLAMD_ADDRESS = os.environ.get("CLAMD_ADDRESS", "")
VIRUS_SCAN_REQUIRED = False
# ops_scan: no server logs, certificate, backup record or static export on a developer's machine.
OPS_ACCESS_LOGS = []
OPS_TLS_CERTIFICATE = ""
OPS_BACKUP_STATUS_FILE = ""
BACKUP_DRILL_STATUS_FILE = ""
# No backup repository here: a disposal says the backups were not handled (decision 0033).
PRIVACY_BACKUP_DISPOSER = ""
OPS_STATIC_EXPORT_DIR = ""
PUBLISHED_PAGES_ROOT = ""  # no files for nginx here (a test names its own folder)
