"""The throw-away Django every benchmark runs on: a SQLite database and a media folder in the
benchmark's own temporary folder, migrated."""

from __future__ import annotations

import os
from pathlib import Path


def setup_django(workdir: Path, settings: str = "kokasen.settings.dev", **environment: str) -> None:
    """Configure Django on ``workdir`` (``environment`` adds or overrides variables), then migrate."""
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Never the server's folder of public pages (settings.base names /srv/kokasen/public-pages):
    # a benchmark that measures them names its own (decision 0061).
    os.environ.setdefault("PUBLISHED_PAGES_ROOT", "off")
    os.environ.update(environment)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
