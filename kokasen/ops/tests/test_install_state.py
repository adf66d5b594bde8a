"""install_state: what deploy/install.sh asks on every run (decision 0029)."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def state() -> dict[str, str]:
    out = StringIO()
    call_command("install_state", stdout=out)
    return dict(line.split("=", 1) for line in out.getvalue().splitlines())


def test_it_reports_applied_migrations_and_whether_a_superuser_exists():
    assert state() == {"migrations_pending": "0", "superuser": "no"}
    get_user_model().objects.create_user("staff", password="x" * 20, is_staff=True)
    assert state()["superuser"] == "no"
    get_user_model().objects.create_superuser("kanri", password="x" * 20)
    assert state() == {"migrations_pending": "0", "superuser": "yes"}
