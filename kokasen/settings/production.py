"""Production: everything of base.py with nothing relaxed, plus the server's environment file,
and a refusal to start without the variables a server needs (docs/configuration.md).

Servers select this module in two places only: deploy/bin/kokasen-manage (every management
command, also those run by the systemd timers) and kokasen/wsgi.py (gunicorn), so no command
depends on someone remembering DJANGO_SETTINGS_MODULE. The variables come from the environment
file the installer writes (/etc/kokasen/kokasen.env, or the file named by KOKASEN_ENV_FILE);
a variable already set in the environment wins over the file.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .env import DEFAULT_ENV_FILE, REQUIRED_PRODUCTION_VARIABLES, is_loopback_host, load_env_file, server_env_file

_env_file = server_env_file()  # a file named by KOKASEN_ENV_FILE must exist; the default is read if present
if _env_file is not None:
    load_env_file(_env_file)

# HSTS comes from nginx alone (below): a max-age set here would do nothing, so it is refused.
if os.environ.get("SECURE_HSTS_SECONDS", "").strip():
    raise ImproperlyConfigured(
        "SECURE_HSTS_SECONDS は本番では使いません。HSTS は nginx がすべての応答に付けます"
        "（deploy/nginx/portal.conf の Strict-Transport-Security。docs/configuration.md）。"
    )

_missing = [name for name in REQUIRED_PRODUCTION_VARIABLES if not os.environ.get(name, "").strip()]
if "SECRET_KEY" in _missing and os.environ.get("SECRET_KEY_FILE", "").strip():
    _missing.remove("SECRET_KEY")  # read from the file by base.py (env_secret)
if _missing:
    raise ImproperlyConfigured(
        "本番の設定（kokasen.settings.production）に必要な環境変数がありません: "
        + "、".join(_missing)
        + f"。環境ファイル {_env_file or DEFAULT_ENV_FILE} に書いてください（docs/configuration.md）。"
    )

from .base import *  # noqa: E402,F403

# HSTS: exactly one header on every response, from nginx (deploy/nginx/portal.conf adds it to the
# app's pages, the files it serves and its own error pages, and drops any the app sent; the
# static export's configuration does the same). Django would add a second one to its pages.
# The deploy check's warning about it (security.W004) is answered by nginx, tested in
# kokasen/core/tests/test_nginx_stack.py (decision 0025).
SECURE_HSTS_SECONDS = 0
SILENCED_SYSTEM_CHECKS = ["security.W004"]

# Persistent database connections (issue 19): each gunicorn sync worker keeps its one connection
# for a minute instead of opening a new one for every request (a TCP or socket handshake and
# PostgreSQL's authentication and process start, several milliseconds); Django checks it before
# reusing it after a request that ended with an error or a closed server. DATABASE_CONN_MAX_AGE
# in the environment file still wins (0: a new connection every request, as before).
if "DATABASE_CONN_MAX_AGE" not in os.environ:
    DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405

# The one mail backend that delivers (notifications/delivery.py refuses the others anyway).
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"

# Mail to the relay is encrypted: STARTTLS (EMAIL_USE_TLS) or implicit TLS (EMAIL_USE_SSL), with
# the relay's certificate checked against the system's certificate authorities (Django's SMTP
# backend uses ssl.create_default_context()). Plain SMTP only to a mail server on this machine
# (loopback), which then relays with TLS itself (docs/configuration.md "Mail").
if not (EMAIL_USE_TLS or EMAIL_USE_SSL) and not is_loopback_host(EMAIL_HOST):  # noqa: F405
    raise ImproperlyConfigured(
        f"本番ではメールの中継サーバー（EMAIL_HOST = {EMAIL_HOST}）との通信を暗号化します。"  # noqa: F405
        "EMAIL_USE_TLS=true（STARTTLS、通常ポート 587）か EMAIL_USE_SSL=true（ポート 465）を"
        "環境ファイルに書いてください（docs/configuration.md）。"
    )
# Read by load_demo, which refuses to fill a production database with sample content.
KOKASEN_PRODUCTION = True
