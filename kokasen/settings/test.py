"""Test settings: fast and hermetic."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-insecure-key")

from .base import *  # noqa: E402,F403

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# The test client speaks plain HTTP.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Argon2 is deliberately slow; tests that check hashing use it explicitly.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests read sent messages from django.core.mail.outbox; nowhere else may send_outbox use a
# backend that delivers nothing (kokasen/notifications/delivery.py).
OUTBOX_ALLOW_NON_DELIVERING_BACKEND = True
# pytest runs with DEBUG off; the demo content is the tests' fixture (load_demo refuses it otherwise).
DEMO_CONTENT_WITHOUT_DEBUG = True
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
WAGTAILADMIN_BASE_URL = "http://testserver"
# No virus scanner unless a test names one (the clamd_server fixture in kokasen/conftest.py runs a
# real clamd): uploads pass unscanned here only (VIRUS_SCAN_REQUIRED is True everywhere else).
CLAMD_ADDRESS = ""
VIRUS_SCAN_REQUIRED = False
# Page views waiting in the process are sent by the tests (pageviews.send_waiting, flush), not by
# a thread running beside them.
ANALYTICS_PAGEVIEW_SEND_SECONDS = None
# ops_scan: no server logs, certificate, backup record or static export here (a test names its own).
OPS_ACCESS_LOGS = []
OPS_TLS_CERTIFICATE = ""
OPS_BACKUP_STATUS_FILE = ""
BACKUP_DRILL_STATUS_FILE = ""
OPS_DEPENDENCY_AUDIT_FILE = ""
OPS_APT_CHECK = False  # apt-get -s takes tens of seconds; test_monthly injects its output
# No backup repository here: a disposal says the backups were not handled (decision 0033).
PRIVACY_BACKUP_DISPOSER = ""
OPS_STATIC_EXPORT_DIR = ""
STATIC_EXPORT_ARCHIVE_DIR = BASE_DIR / "var" / "test-static-exports"  # noqa: F405
PUBLISHED_PAGES_ROOT = ""  # no files for nginx here (a test names its own folder)
# dispose_personal_data: no server logs here (a test names its own).
PRIVACY_LOG_FILES = []
