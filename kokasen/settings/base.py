"""Settings for every environment: secure by default.

Production is this file plus environment variables (docs/configuration.md lists them).
dev.py and test.py relax named items only, each with a reason.
"""

from pathlib import Path

import dj_database_url

from .env import env_bool, env_float, env_int, env_list, env_networks, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PROJECT_DIR = BASE_DIR / "kokasen"

SECRET_KEY = env_secret("SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "kokasen.core",
    "kokasen.localgov",
    "kokasen.accounts",
    "kokasen.notifications",
    "kokasen.pages",
    "kokasen.members",
    "kokasen.tips",
    "kokasen.feedback",
    "kokasen.meetings",
    "kokasen.static_export",
    # The static export's background builds (decision 0054): django-tasks' database backend.
    "django_tasks_db",
    # /healthz and /readyz, and the operator's scan_file command.
    "kokasen.ops",
    "kokasen.analytics",
    # Personal data: inventory, retention, irrecoverable disposal with 別紙様式1 (decision 0033).
    "kokasen.privacy",
    # load_demo and its sample data (development and tests only: the command refuses elsewhere).
    "kokasen.demo",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.table_block",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # staff recovery codes (decision 0053)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    # nginx's X-Request-ID (from a trusted proxy only) or a new one, on the request and in every
    # log record (kokasen/core/request_id.py).
    "kokasen.core.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "kokasen.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The small cache keys a GET will read (the access facts' generations, the members area's and
    # the chrome's, the 小ネタ settings) in one round trip to Redis (kokasen/core/request_cache.py).
    "kokasen.core.request_cache.PrefetchMiddleware",
    # A Japanese 413 page for oversized bodies sent to the 小ネタ and 意見箱 forms (before CSRF reads them).
    "kokasen.core.middleware.ShortFormBodyLimitMiddleware",
    # django-otp's, with one lazy layer around request.user instead of two (kokasen/accounts/otp_middleware.py).
    "kokasen.accounts.otp_middleware.OTPMiddleware",
    "kokasen.accounts.middleware.StaffTwoFactorMiddleware",
    # Refuses, before CsrfViewMiddleware's view step reads request.POST, a body sent to an admin
    # by anyone but a TOTP-verified staff session (403) and any body over the limits (413).
    "kokasen.accounts.upload_gate.AdminBodyGateMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A NUL in the query string: 400 before any view (PostgreSQL cannot compare text with it);
    # inside the header middlewares, so that the 400 page has them all.
    "kokasen.core.middleware.NulInQueryMiddleware",
    # The Japanese page for empty 405 responses (inside CSRF and X-Frame-Options, which then apply to it).
    "kokasen.core.middleware.MethodNotAllowedPageMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # A local government's members' page views and opened documents: one upsert after the
    # response, for a local government's account only (kokasen/analytics/middleware.py, decision 0050).
    "kokasen.analytics.middleware.ParticipationMiddleware",
]

ROOT_URLCONF = "kokasen.urls"
# Error pages in Japanese (kokasen/core/errors.py; handler400/403/404/500 are in kokasen/urls.py).
CSRF_FAILURE_VIEW = "kokasen.core.errors.csrf_failure"
WSGI_APPLICATION = "kokasen.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "kokasen.pages.context_processors.portal",
                # After Django's built-in one: one masked CSRF token per request (issue 19).
                "kokasen.core.context_processors.csrf",
            ],
        },
    },
]

# Database: SQLite file by default (a newcomer's machine), PostgreSQL in production and CI.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers continue while a writer commits; IMMEDIATE avoids lock upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: local memory by default; Redis in production so that every worker shares
# lockouts and rate limits.
_redis_url = env_str("REDIS_URL", "")
if _redis_url:
    # Django's backend, reusing its Redis client (kokasen/core/redis_cache.py), and carrying on
    # when Redis is down or hangs (kokasen/core/resilient_cache.py, decision 0028): reads miss,
    # writes are dropped, the login defences' and other rate counters ("throttle:", "login:")
    # count in each worker's memory, and one warning per minute per worker is logged. Each Redis
    # call waits at most the socket timeouts below; after a failure Redis is left alone for
    # "retry_seconds", so a hanging Redis costs a page at most one timeout per worker per 5 s.
    CACHES = {
        "default": {
            "BACKEND": "kokasen.core.resilient_cache.ResilientRedisCache",
            "LOCATION": _redis_url,
            "OPTIONS": {
                "socket_connect_timeout": 0.3,
                "socket_timeout": 0.5,
                "retry_seconds": 5,
                "log_seconds": 60,
                "local_prefixes": ["throttle:", "login:"],
            },
        }
    }
else:
    # Room for the login defences' counters (Django's default of 300 entries would evict them).
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 100_000}}
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["kokasen.accounts.backends.ModelBackend"]  # Django's, the session's user row read faster
# One login page for everyone (local governments and staff); staff continue to the TOTP step.
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/members/"
WAGTAILADMIN_LOGIN_URL = LOGIN_URL
WAGTAIL_FRONTEND_LOGIN_URL = "/login/"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# --- Login security: throttles and two-factor (docs/decisions/0007, 0017) ---
# Nothing locks an account for everyone or bans an address for everyone behind it
# (kokasen/accounts/lockout.py explains the three counters).
# 1. One user ID from one place (this browser once it logged in, else the address).
LOGIN_PAIR_FAILURE_LIMIT = env_int("LOGIN_PAIR_FAILURE_LIMIT", 5)
LOGIN_PAIR_WINDOW_SECONDS = env_int("LOGIN_PAIR_WINDOW_SECONDS", 15 * 60)
# 2. One user ID from places it never logged in from: after this many failures in the window
#    such places are refused; known places (device cookie, recent address) are still checked.
LOGIN_ACCOUNT_FAILURE_LIMIT = env_int("LOGIN_ACCOUNT_FAILURE_LIMIT", 10)
LOGIN_ACCOUNT_WINDOW_SECONDS = env_int("LOGIN_ACCOUNT_WINDOW_SECONDS", 60 * 60)
LOGIN_KNOWN_PLACE_DAYS = env_int("LOGIN_KNOWN_PLACE_DAYS", 90)
# 3. One address across user IDs: outstanding user IDs (failures not yet followed by a success
#    from the address) and their failures; each user ID that logged in from the address in the
#    last day adds 1 and 2 to the limits, up to LOGIN_ADDRESS_CREDIT_CAP user IDs.
LOGIN_ADDRESS_ACCOUNT_LIMIT = env_int("LOGIN_ADDRESS_ACCOUNT_LIMIT", 30)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 60)
LOGIN_ADDRESS_WINDOW_SECONDS = env_int("LOGIN_ADDRESS_WINDOW_SECONDS", 15 * 60)
LOGIN_ADDRESS_CREDIT_CAP = env_int("LOGIN_ADDRESS_CREDIT_CAP", 200)
# A staff user who passed the password step has this long to enter the TOTP code.
LOGIN_TOTP_PENDING_SECONDS = env_int("LOGIN_TOTP_PENDING_SECONDS", 5 * 60)
OTP_TOTP_ISSUER = "こども家庭センターポータル"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ja"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
# The project's own catalogue: Japanese for the texts Wagtail's catalogue lacks (decision 0053).
# Listed first, it wins over the apps' catalogues; the compiled .mo is committed.
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# MEDIA_ROOT/protected_images/ (images of restricted collections) is never served as /media/:
# its files' URLs are the app's image view (kokasen/members/storage.py, docs/decisions/0019).
STORAGES = {
    "default": {"BACKEND": "kokasen.members.storage.MediaStorage"},
    "staticfiles": {"BACKEND": "kokasen.core.static_storage.StaticFilesStorage"},  # each URL once per process
}
FILE_UPLOAD_PERMISSIONS = 0o640
# Django's two upload handlers, each scanning every file with clamd as soon as it has arrived,
# before any view or form sees it; a file clamd does not pass never reaches request.FILES
# (kokasen/core/upload_scan.py, docs/decisions/0028-health-and-antivirus.md, "the upload paths").
FILE_UPLOAD_HANDLERS = [
    "kokasen.core.upload_scan.ScanningMemoryFileUploadHandler",
    "kokasen.core.upload_scan.ScanningTemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security (relaxed only in dev.py / test.py) ---
# Direct peers whose X-Forwarded-For is believed (nginx on the same machine by default); a
# header from any other peer is ignored (kokasen/core/client_address.py). Networks, comma-separated.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", ["127.0.0.1/32", "::1/128"])
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A monitor on this machine may ask gunicorn directly over plain HTTP (kokasen/ops).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Sessions are read from the cache (Redis in production) and written through to the
# database, so a members-area request does not query the session table.
SESSION_ENGINE = "kokasen.accounts.sessions"  # cached_db, read with the request's other small keys (decision 0068)
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A login lasts this long from logging in (a fixed date in the session), extended by a new full
# age when the member asks, at most SESSION_EXTENSIONS_MAX times; logged-in pages warn
# SESSION_WARNING_SECONDS before the end (JIS X 8341-3 2.2.1, kokasen/accounts/session_expiry.py,
# decision 0066).
SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_WARNING_SECONDS = env_int("SESSION_WARNING_SECONDS", 5 * 60)
SESSION_EXTENSIONS_MAX = env_int("SESSION_EXTENSIONS_MAX", 10)
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy: no inline script, style or eval on the public site. The
# Wagtail admin needs inline styles and scripts; its looser policy is scoped to
# ADMIN_PATH_PREFIXES only (kokasen.core.middleware).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; media-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
CONTENT_SECURITY_POLICY_ADMIN = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'self'"
)
ADMIN_PATH_PREFIXES = ("/admin/", "/django-admin/")
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)

# --- E-mail (Django's own setting names, read from the environment) ---
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "kokasen@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# send_outbox refuses a backend that delivers nothing (console, locmem, file, dummy): it would
# mark the messages 送信済み, print or drop their passwords (notifications/delivery.py).
# Only test.py allows it.
OUTBOX_ALLOW_NON_DELIVERING_BACKEND = False
# Derives the generated passwords of queued credential messages (kokasen/accounts/credentials.py).
# Changing it makes queued, unsent credential messages undeliverable (staff then reissue).
CREDENTIALS_KEY = env_secret("CREDENTIALS_KEY", SECRET_KEY)
# Public address of the portal, written out in full in e-mails (LGWAN filters strip links).
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "")
# Reset links sent by e-mail stay valid this long (Django's default is 3 days).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60 * 24)
# A staff user's invitation to enrol a first TOTP device (docs/decisions/0020) stays valid this long.
STAFF_ENROLMENT_INVITATION_HOURS = env_int("STAFF_ENROLMENT_INVITATION_HOURS", 72)

# --- Virus checking (REQUIREMENTS S5; kokasen/core/virus_scan.py, docs/decisions/0028) ---
# clamd's unix socket (Debian's clamav-daemon; deploy/clamav/clamd.conf) or tcp://HOST:PORT.
# Every upload and every file handed to the agency (manage.py scan_file) is scanned; when clamd
# cannot answer, the file is refused (fail closed) and /readyz is red.
CLAMD_ADDRESS = env_str("CLAMD_ADDRESS", "/run/clamav/clamd.ctl")
# Connecting and PING/VERSION; and each wait during a scan (a 2 GB video takes a while).
CLAMD_TIMEOUT_SECONDS = 2
CLAMD_SCAN_TIMEOUT_SECONDS = env_int("CLAMD_SCAN_TIMEOUT_SECONDS", 300)
# /readyz is red when clamd's signatures (the daily database) are older than this: freshclam
# has stopped updating them. ClamAV itself warns at 7 days.
CLAMD_SIGNATURES_MAX_AGE_HOURS = env_int("CLAMD_SIGNATURES_MAX_AGE_HOURS", 7 * 24)
# False only in dev.py and test.py: an empty CLAMD_ADDRESS then lets files through unscanned.
VIRUS_SCAN_REQUIRED = True

# --- Monitoring: /healthz and /readyz (kokasen/ops, docs/operations.md "Monitoring") ---
# Who may ask besides loopback: the monitor's networks (comma-separated). Everyone else gets
# 404, from nginx (deploy/nginx/health-networks.conf, written by the installer) and the app.
HEALTH_ALLOWED_NETWORKS = env_networks("HEALTH_ALLOWED_NETWORKS", [])
# /readyz is red below this much free space where uploads are written (MEDIA_ROOT, the upload
# temporary folder): room for two of the largest uploads (2 GB videos) in flight.
HEALTH_DISK_MIN_FREE_MB = env_int("HEALTH_DISK_MIN_FREE_MB", 4096)
# /readyz is red when a queued e-mail is older than this (send_outbox runs every minute and
# retries after 1, 5 and 30 minutes: the mail server has refused for half an hour).
HEALTH_OUTBOX_MAX_AGE_MINUTES = env_int("HEALTH_OUTBOX_MAX_AGE_MINUTES", 30)


# --- Detection and alerts: ops_scan every 5 minutes (kokasen/ops, docs/decisions/0030) ---
# A path setting set to "off" turns its check off (an empty value means the default).
def _path_or_off(name: str, default: str) -> str:
    value = env_str(name, default)
    return "" if value.strip().lower() == "off" else value


# The logs ops_scan reads (the JSON access log and the sample of what nginx refused); "off": none.
OPS_ACCESS_LOGS = [
    path
    for path in env_list(
        "OPS_ACCESS_LOGS", ["/var/log/nginx/kokasen/access.json", "/var/log/nginx/kokasen/refused.log"]
    )
    if path.lower() != "off"
]
# Who gets the alerts: these addresses, or else every active 受託者 account's address. Set it:
# when the database is down the alert goes straight to these addresses over SMTP.
OPS_ALERT_EMAILS = env_list("OPS_ALERT_EMAILS", [])
OPS_MAIL_MIN_SEVERITY = env_str("OPS_MAIL_MIN_SEVERITY", "warning")  # info, warning or critical
# An alert of the logs or the audit trail ends after this long without a new occurrence.
OPS_ALERT_QUIET_MINUTES = env_int("OPS_ALERT_QUIET_MINUTES", 60)
# The direct mail while the database is down is repeated at most this often.
OPS_FALLBACK_REPEAT_MINUTES = env_int("OPS_FALLBACK_REPEAT_MINUTES", 60)
# An unacknowledged critical alert is mailed to the next emergency contact (the 「緊急連絡先」
# screen, in order) every this many minutes after the alert mail; 0: no escalation.
OPS_ESCALATION_MINUTES = env_int("OPS_ESCALATION_MINUTES", 30)
# Where ops_scan keeps its lock and the record of a database outage (writable by the timer's unit).
OPS_STATE_DIR = Path(env_str("OPS_STATE_DIR", str(BASE_DIR / "var")))
OPS_TLS_CERTIFICATE = _path_or_off("OPS_TLS_CERTIFICATE", "/etc/ssl/kokasen/fullchain.pem")
OPS_CERTIFICATE_WARNING_DAYS = env_int("OPS_CERTIFICATE_WARNING_DAYS", 21)
OPS_CERTIFICATE_CRITICAL_DAYS = env_int("OPS_CERTIFICATE_CRITICAL_DAYS", 7)
# Written by the backup job after each good backup (JSON with "finished_at", or the file's time).
OPS_BACKUP_STATUS_FILE = _path_or_off("OPS_BACKUP_STATUS_FILE", "/var/lib/kokasen/backup/last-success.json")
OPS_BACKUP_MAX_AGE_HOURS = env_int("OPS_BACKUP_MAX_AGE_HOURS", 26)
# --- Backups with restic (kokasen/ops/backups.py, docs/decisions/0035, docs/operations.md "Backups") ---
# The repository: a local folder, or sftp:USER@HOST:/PATH / s3:… on a second machine in Japan.
BACKUP_REPOSITORY = env_str("BACKUP_REPOSITORY", "/var/lib/kokasen/backup/restic")
# The key (restic's password): root 0600, handed to the backup unit by systemd (LoadCredential=).
BACKUP_PASSWORD_FILE = env_str("BACKUP_PASSWORD_FILE", "/etc/kokasen/backup_key")
# Snapshots older than this are forgotten and pruned after each backup: at most 35d (disposal).
BACKUP_KEEP_WITHIN = env_str("BACKUP_KEEP_WITHIN", "35d")
# The dump, the media hashes' cache and the drill's scratch files.
BACKUP_WORK_DIR = env_str("BACKUP_WORK_DIR", "/var/lib/kokasen/backup/work")
# The restore drill's scratch database (emptied after each drill); empty: "<database>_drill".
BACKUP_DRILL_DATABASE = env_str("BACKUP_DRILL_DATABASE", "")
BACKUP_DRILL_STATUS_FILE = _path_or_off("BACKUP_DRILL_STATUS_FILE", "/var/lib/kokasen/backup/last-drill.json")
# The last `make audit` result as pip-audit's JSON (pip-audit -f json -o FILE), read by the monthly
# 運用・セキュリティ報告; off: not reported.
OPS_DEPENDENCY_AUDIT_FILE = _path_or_off("OPS_DEPENDENCY_AUDIT_FILE", "/var/lib/kokasen/audit/pip-audit.json")
# Debian's pending updates for the monthly report: `apt-get -s upgrade` once a day from ops_scan
# (saved in OPS_STATE_DIR; decision 0048). Off in tests (it takes tens of seconds).
OPS_APT_CHECK = env_bool("OPS_APT_CHECK", True)
# ops_scan's backup_drill rule: the weekly drill's record older than this many days is an alert.
OPS_BACKUP_DRILL_MAX_AGE_DAYS = env_int("OPS_BACKUP_DRILL_MAX_AGE_DAYS", 8)
# The folder nginx serves the static export from, checked against the hashes written at export time.
OPS_STATIC_EXPORT_DIR = _path_or_off("OPS_STATIC_EXPORT_DIR", "/srv/kokasen-static")


# --- Access analytics: ingest_access_logs (kokasen/analytics, docs/decisions/0036) ---
# The live access logs (read with their rotated files, each line once); any other path given to
# ingest_access_logs is an import (read whole, once). "off": none.
ANALYTICS_ACCESS_LOGS = [
    path for path in env_list("ANALYTICS_ACCESS_LOGS", ["/var/log/nginx/kokasen/access.json"]) if path.lower() != "off"
]
# The operator's ignore list: requests from these networks (comma-separated) or with a user
# agent containing one of these texts are not counted as people's (our own checks, load tests).
ANALYTICS_IGNORE_NETWORKS = env_networks("ANALYTICS_IGNORE_NETWORKS", [])
ANALYTICS_IGNORE_AGENTS = env_list("ANALYTICS_IGNORE_AGENTS", [])
# A members' page view is kept in the worker and sent to Redis by a thread of the worker this
# often, all of its views in one round trip (kokasen/analytics/pageviews.py, decision 0067 addendum).
ANALYTICS_PAGEVIEW_SEND_SECONDS = 1.0
# Hashed client keys (one download per client and day, bots across runs) are kept this long.
ANALYTICS_CLIENT_KEY_DAYS = env_int("ANALYTICS_CLIENT_KEY_DAYS", 35)
# The largest access log the admin screen 「アクセスログの取り込み」 takes, plain or .gz (decision
# 0057); larger files: `kokasen-manage ingest_access_logs FILE` on the server. With the margin
# below it must stay within nginx's client_max_body_size of /admin/ (11m).
ANALYTICS_UPLOAD_MAX_SIZE = env_int("ANALYTICS_UPLOAD_MAX_SIZE", 10 * 1024 * 1024)
# …and the most its content may be once decompressed (a gzip file; a gzip bomb stops here): about
# 250,000 lines, read within nginx's 60 s for /admin/ even on a loaded machine.
ANALYTICS_UPLOAD_MAX_CONTENT_SIZE = env_int("ANALYTICS_UPLOAD_MAX_CONTENT_SIZE", 64 * 1024 * 1024)
# A staff login from a network none of that account's logins came from in this many days is
# reported; networks are /24 (IPv4) and /48 (IPv6); the offices' networks are never reported.
OPS_STAFF_KNOWN_NETWORKS = env_networks("OPS_STAFF_KNOWN_NETWORKS", [])
OPS_STAFF_NETWORK_PREFIX_V4 = env_int("OPS_STAFF_NETWORK_PREFIX_V4", 24)
OPS_STAFF_NETWORK_PREFIX_V6 = env_int("OPS_STAFF_NETWORK_PREFIX_V6", 48)
OPS_STAFF_NETWORK_MEMORY_DAYS = env_int("OPS_STAFF_NETWORK_MEMORY_DAYS", 365)
# The rules' thresholds (each also an environment variable OPS_<NAME>). Sized for municipal
# traffic: ~60 local governments behind one gateway address, whose busiest minute (a mail to all
# at 9:00) is ~720 page requests and ~180 login requests (decision 0025's model); nginx refuses
# more than 20 pages/s and 2 logins/s per address before anything is logged.
OPS_THRESHOLDS = {
    "SCANNER_WINDOW_MINUTES": 10,
    "SCANNER_PATH_HITS": 10,  # requests for scanner paths (.php, /.env, /wp-admin …) from one address
    "SCANNER_TOOL_HITS": 1,  # requests with an attack tool's user agent (sqlmap, nikto …)
    "FLOOD_PAGES_PER_MINUTE": 900,  # per address and path group, in one minute
    "FLOOD_LOGIN_PER_MINUTE": 240,
    "FLOOD_RESET_PER_MINUTE": 45,
    "FLOOD_ADMIN_PER_MINUTE": 1200,
    "FLOOD_SEARCH_PER_MINUTE": 150,
    "FLOOD_FILES_PER_MINUTE": 1500,
    "FLOOD_STATIC_PER_MINUTE": 5000,
    "FLOOD_REFUSED_PER_MINUTE": 640,  # requests nginx refused (refused.log lines × 16)
    "CLIENT_ERRORS_PER_5_MINUTES": 300,  # 4xx answers to one address …
    "CLIENT_ERRORS_MIN_SHARE": 0.5,  # … that are at least this share of its requests
    "SERVER_ERRORS_PER_5_MINUTES": 20,  # 5xx answers in all …
    "SERVER_ERRORS_MIN_SHARE": 0.02,  # … that are at least this share of all requests
    "P95_MIN_REQUESTS": 50,  # a path group's five minutes with fewer requests is not judged
    "P95_PAGES_SECONDS": 2.0,
    "P95_LOGIN_SECONDS": 2.0,
    "P95_SEARCH_SECONDS": 3.0,
    "P95_ADMIN_SECONDS": 5.0,
    "LOGIN_FAILURES_PER_15_MINUTES": 100,  # from all addresses not reported as one source
    "LOCKOUTS_PER_HOUR": 10,  # user IDs protected and addresses slowed
    "SPRAY_ACCOUNTS_PER_HOUR": 20,  # user IDs without a success from one address
}
OPS_THRESHOLDS = {
    name: (env_float if isinstance(default, float) else env_int)(f"OPS_{name}", default)
    for name, default in OPS_THRESHOLDS.items()
}

# --- Wagtail ---
WAGTAIL_SITE_NAME = "こども家庭センターポータル"
WAGTAILADMIN_BASE_URL = env_str("WAGTAILADMIN_BASE_URL", "https://localhost")
WAGTAIL_I18N_ENABLED = False
WAGTAIL_ALLOW_UNICODE_SLUGS = True
WAGTAIL_ENABLE_UPDATE_CHECK = False
# No Gravatar: it would send a hash of each staff address to gravatar.com, and the CSP blocks it anyway.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILADMIN_PERMITTED_LANGUAGES = [("ja", "日本語"), ("en", "English")]
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILDOCS_EXTENSIONS = ["pdf", "docx", "xlsx", "pptx", "csv", "txt", "zip", "mp4", "webm", "vtt"]
# Members area (kokasen/members, docs/decisions/0009): uploads are checked by content and
# size and renamed; documents are served by the app (range requests) or, when the prefix is
# set, by nginx through X-Accel-Redirect (deploy/nginx/portal.conf).
WAGTAILDOCS_DOCUMENT_FORM_BASE = "kokasen.members.forms.SafeDocumentForm"
DOCUMENT_MAX_UPLOAD_SIZE = env_int("DOCUMENT_MAX_UPLOAD_SIZE", 50 * 1024 * 1024)
# 2,000 MB: clamd scans at most 2 GiB of one file (libclamav's limit, decision 0028), so every
# video allowed can be scanned to the end. nginx: client_max_body_size 2001m on /admin/documents/.
VIDEO_MAX_UPLOAD_SIZE = env_int("VIDEO_MAX_UPLOAD_SIZE", 2000 * 1024 * 1024)
PROTECTED_FILES_X_ACCEL_PREFIX = env_str("PROTECTED_FILES_X_ACCEL_PREFIX", "")
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp", "svg"]
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILADMIN_RICH_TEXT_EDITORS = {
    "default": {
        "WIDGET": "wagtail.admin.rich_text.DraftailRichTextArea",
        "OPTIONS": {"features": ["h2", "h3", "bold", "ol", "ul", "link", "document-link"]},
    }
}

# The public portal's own settings.
PORTAL_NEWS_ON_HOME = 5
PORTAL_MENU_DROPDOWN_LIMIT = 8

# 小ネタ and 意見箱 (docs/decisions/0011, 0012): per-account limits and the largest form body.
TIPS_POSTS_PER_HOUR = env_int("TIPS_POSTS_PER_HOUR", 10)
FEEDBACK_OPINIONS_PER_HOUR = env_int("FEEDBACK_OPINIONS_PER_HOUR", 5)
SHORT_FORM_MAX_BODY_BYTES = env_int("SHORT_FORM_MAX_BODY_BYTES", 64 * 1024)
# The forms that ShortFormBodyLimitMiddleware guards (kokasen/core/middleware.py), by URL name.
SHORT_FORM_URL_NAMES = ["tips:index", "feedback:send"]
# Request bodies (kokasen/accounts/upload_gate.py, decision 0021), refused with 413 before they
# are read: on admin paths above the largest upload (documents, videos, images) plus this
# margin for the form's other fields; elsewhere above MAX_BODY_SIZE_OUTSIDE_ADMIN (nothing
# outside the admins takes a file). nginx has the same limits (deploy/nginx/portal.conf:
# 2,000 MB + 1 MB = 2001m for /admin/documents/, 11m for /admin/images/, 10m elsewhere).
UPLOAD_BODY_MARGIN = 1024 * 1024
# Admin screens that take smaller files than that: URL name → their file limit. A body over it
# plus the margin is refused unread, with a 413 that names the limit (decision 0057).
ADMIN_UPLOAD_LIMITS = {"analytics_logs:upload": ANALYTICS_UPLOAD_MAX_SIZE}
MAX_BODY_SIZE_OUTSIDE_ADMIN = 10 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every record carries the request id that nginx logged for the same request ("-" outside
    # a request), so an app log line can be found in the access logs and back.
    "filters": {"request_id": {"()": "kokasen.core.request_id.RequestIdLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # axes logs every attempt at INFO; the audit trail has them (kokasen/accounts/login_audit.py).
    "loggers": {"django_tasks": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# --- Personal data (kokasen/privacy, decision 0033) ---------------------------------------------
# Retention in days for each store, enforced every night by `manage.py apply_retention`
# (deploy/systemd/kokasen-apply-retention.timer). Each is also an environment variable
# PRIVACY_RETENTION_<NAME>_DAYS. The login-attempt records must outlive the login defences'
# memory of a staff member's networks (OPS_STAFF_NETWORK_MEMORY_DAYS).
PRIVACY_RETENTION_DAYS = {
    # Outbox: subject, body and recipients of a delivered or abandoned message (kind, status,
    # times and local government stay).
    "outbox_content": env_int("PRIVACY_RETENTION_OUTBOX_CONTENT_DAYS", 30),
    # 意見箱: the contact name and address an opinion gave, after it was received.
    "opinion_contacts": env_int("PRIVACY_RETENTION_OPINION_CONTACTS_DAYS", 365),
    # 小ネタ: the contact address, department and name of a post, after it was submitted.
    "post_contacts": env_int("PRIVACY_RETENTION_POST_CONTACTS_DAYS", 365),
    # Audit events of login attempts (with the address they came from).
    "login_attempts": env_int("PRIVACY_RETENTION_LOGIN_ATTEMPTS_DAYS", 400),
    # Every other audit event.
    "audit": env_int("PRIVACY_RETENTION_AUDIT_DAYS", 5 * 366),
    # Sessions past their expiry date.
    "sessions": env_int("PRIVACY_RETENTION_SESSIONS_DAYS", 0),
    # Zero-result searches of the live site (a query may be a name): rows of days older than this
    # (13 months: a year's report compares with the same month of the year before).
    "search_queries": env_int("PRIVACY_RETENTION_SEARCH_QUERIES_DAYS", 400),
}
# The files that `dispose_personal_data` removes at contract end besides MEDIA_ROOT: the web
# server's logs (with visitors' IP addresses) and their rotated copies (glob patterns).
PRIVACY_LOG_FILES = env_list("PRIVACY_LOG_FILES", ["/var/log/nginx/kokasen/*.log*", "/var/log/nginx/kokasen/*.json*"])
# The 受託者名 printed on 別紙様式1.
PRIVACY_CONTRACTOR_NAME = env_str("PRIVACY_CONTRACTOR_NAME", "")
# The backup hook (kokasen/privacy/backups.py): dotted path of the function that forgets and
# prunes the backup generations, or destroys the repository key; "" when there are no backups.
# The default handles the portal's own restic repository (BACKUP_*, decision 0035).
PRIVACY_BACKUP_DISPOSER = env_str("PRIVACY_BACKUP_DISPOSER", "kokasen.privacy.backups.restic_disposer")

# --- Background tasks (decision 0054) -----------------------------------------------------------
# Wagtail's own tasks stay on the immediate backend (they run inside the request, as before);
# the static export's builds and publish updates go to a database queue that the long-lived
# `db_worker` drains (deploy/systemd/kokasen-static-export.service).
TASKS = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
    "static_export": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["static_export"]},
}
# The ZIPs built from the admin (never under MEDIA_ROOT: served only through the staff check).
STATIC_EXPORT_ARCHIVE_DIR = Path(env_str("STATIC_EXPORT_ARCHIVE_DIR", str(BASE_DIR / "var" / "static-exports")))
STATIC_EXPORT_KEEP = 10  # the newest ZIPs kept; older ones are deleted after each build
STATIC_EXPORT_STALE_MINUTES = 30  # a build whose progress stopped this long ago has died
STATIC_EXPORT_JOBS = 2  # processes that render a build from the admin
# The live site's public pages as files that nginx serves to anonymous visitors (decision 0061;
# deploy/nginx/portal.conf's `location /`): written on publish, removed on unpublish or restriction;
# `write_published_pages` rebuilds them. "off": none written (then none may be left in the folder).
PUBLISHED_PAGES_ROOT = _path_or_off("PUBLISHED_PAGES_ROOT", "/srv/kokasen/public-pages")
# The published static site kept current on publish (decision 0062): each page published or
# unpublished queues an incremental export into this folder (the one nginx serves); "" or "off":
# none. Its ZIP is rebuilt STATIC_EXPORT_PUBLISH_ZIP_DELAY seconds later by a second task.
STATIC_EXPORT_PUBLISH_DIR = _path_or_off("STATIC_EXPORT_PUBLISH_DIR", "")
STATIC_EXPORT_PUBLISH_ZIP = Path(
    env_str("STATIC_EXPORT_PUBLISH_ZIP", str(STATIC_EXPORT_ARCHIVE_DIR / "kokasen-site-published.zip"))
)
STATIC_EXPORT_PUBLISH_ZIP_DELAY = 60
