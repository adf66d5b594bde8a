"""What `load_demo` prints: working logins for the demo admin and one local government, the
same on a second run (moved from pages/tests/test_pages.py with the loader)."""

from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import Client, RequestFactory

from kokasen.accounts import roles
from kokasen.demo import loader

pytestmark = pytest.mark.django_db


def test_load_demo_prints_working_logins_for_the_admin_and_one_local_government(demo_site, tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "ADMIN_PASSWORD_FILE", tmp_path / "admin.txt")
    monkeypatch.setattr(loader, "MEMBER_PASSWORD_FILE", tmp_path / "member.txt")
    monkeypatch.setattr(loader, "ADMIN_ENROLMENT_FILE", tmp_path / "enrolment.txt")
    out = StringIO()
    call_command("load_demo", stdout=out)
    call_command("load_demo", stdout=out)  # idempotent: same accounts, same passwords, same link
    text = out.getvalue()
    member_password = (tmp_path / "member.txt").read_text().strip()
    assert text.count(f"ユーザーID {loader.DEMO_MEMBER_CODE} / パスワード {member_password}") == 2
    assert "二要素認証" in text
    # The demo admin enrols with the printed one-time link (decision 0020), then the password.
    link = (tmp_path / "enrolment.txt").read_text().strip()
    assert text.count(link) == 2 and (tmp_path / "enrolment.txt").stat().st_mode & 0o077 == 0
    client = Client()
    assert client.get(urlsplit(link).path)["Location"] == "/login/?invited=1"
    admin_password = (tmp_path / "admin.txt").read_text().strip()
    assert client.post("/login/", {"username": "admin", "password": admin_password})["Location"] == "/login/totp/setup/"
    assert "QRコードを読み取る" in client.get("/login/totp/setup/").content.decode()
    request = RequestFactory().post("/login/")
    member = authenticate(request, username=loader.DEMO_MEMBER_CODE, password=member_password)
    assert member is not None and member.groups.filter(name=roles.MEMBER).exists()
    admin_password = (tmp_path / "admin.txt").read_text().strip()
    assert authenticate(request, username="admin", password=admin_password).is_superuser
