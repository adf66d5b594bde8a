"""load_demo is for development and tests only: it refuses the production settings and any
settings with DEBUG off (the test settings allow it explicitly), before writing anything."""

import subprocess

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Page

from kokasen.core.tests.test_production_path import PRODUCTION_VALUES, ROOT, WRAPPER, clean_environment, write_env_file
from kokasen.demo import loader
from kokasen.meetings.models import Meeting

pytestmark = pytest.mark.django_db


def counts():
    return [
        model.objects.count() for model in (Page, get_user_model(), get_document_model(), get_image_model(), Meeting)
    ]


@pytest.fixture
def password_files(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "ADMIN_PASSWORD_FILE", tmp_path / "admin.txt")
    monkeypatch.setattr(loader, "MEMBER_PASSWORD_FILE", tmp_path / "member.txt")
    return tmp_path


@pytest.mark.parametrize(
    "debug,production,allowed_without_debug",
    [
        (False, False, False),  # DEBUG off: perhaps a production database
        (True, True, False),  # the production settings, even with DEBUG forced on
        (False, True, True),
    ],
)
def test_load_demo_refuses_without_debug_or_with_the_production_settings(
    settings, password_files, debug, production, allowed_without_debug
):
    settings.DEBUG = debug
    settings.KOKASEN_PRODUCTION = production
    settings.DEMO_CONTENT_WITHOUT_DEBUG = allowed_without_debug
    before = counts()
    with pytest.raises(CommandError) as refused:
        call_command("load_demo")
    assert "何も書き込んでいません" in str(refused.value)
    assert ("本番の設定" if production else "DEBUG が無効") in str(refused.value)
    assert counts() == before
    assert list(password_files.iterdir()) == []


def test_the_test_settings_allow_load_demo_explicitly(settings, password_files):
    assert settings.DEMO_CONTENT_WITHOUT_DEBUG is True and not getattr(settings, "KOKASEN_PRODUCTION", False)
    settings.DEBUG = False
    call_command("load_demo", "--no-admin")
    assert Page.objects.filter(slug="news").exists()


def test_load_demo_through_the_production_wrapper_is_refused_and_writes_nothing(tmp_path, fresh_sqlite_file):
    env_file = write_env_file(
        tmp_path / "kokasen.env", PRODUCTION_VALUES | {"DATABASE_URL": f"sqlite:///{fresh_sqlite_file}"}
    )
    environment = clean_environment(KOKASEN_ENV_FILE=str(env_file))
    count = "from wagtail.models import Page; from kokasen.accounts.models import User; print(Page.objects.count(), User.objects.count())"

    def run(*args):
        return subprocess.run(
            [str(WRAPPER), *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
        )

    before = run("shell", "-v0", "-c", count)
    assert before.returncode == 0, before.stderr
    refused = run("load_demo")
    assert refused.returncode == 1
    assert "本番の設定（kokasen.settings.production）ではサンプルのコンテンツを読み込みません" in refused.stderr
    assert run("shell", "-v0", "-c", count).stdout == before.stdout
