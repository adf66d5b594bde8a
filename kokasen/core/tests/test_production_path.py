"""The production command path (decision 0021): on a server every command runs with the
production settings and the installer's environment file, through deploy/bin/kokasen-manage;
manage.py never falls back to the development settings there."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from kokasen.settings import env

ROOT = Path(__file__).resolve().parents[3]
WRAPPER = ROOT / "deploy" / "bin" / "kokasen-manage"
SETTINGS_SCRIPT = (
    "from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG, settings.ALLOWED_HOSTS)"
)
PRODUCTION_VALUES = {
    "SECRET_KEY": "p" * 20 + "-production-like-secret-value-for-the-check",
    "ALLOWED_HOSTS": "portal.example.go.jp",
    "REDIS_URL": "redis://127.0.0.1:6379/0",  # not connected to by these commands
    "EMAIL_HOST": "smtp.example.go.jp",
    "EMAIL_USE_TLS": "true",
    "DEFAULT_FROM_EMAIL": "こども家庭庁 運営事務局 <noreply@portal.example.go.jp>",
    "PORTAL_BASE_URL": "https://portal.example.go.jp",
}


def clean_environment(**extra) -> dict[str, str]:
    """The caller's environment without anything that selects settings or configures a server."""
    names = {"DJANGO_SETTINGS_MODULE", "KOKASEN_ENV_FILE", "SECRET_KEY_FILE", "DATABASE_URL", *PRODUCTION_VALUES}
    environment = {k: v for k, v in os.environ.items() if k not in names}
    environment.update(extra)
    return environment


def write_env_file(path: Path, values: dict[str, str], mode: int = 0o640) -> Path:
    path.write_text("".join(f'{name}="{value}"\n' for name, value in values.items()), encoding="utf-8")
    path.chmod(mode)
    return path


def run(command, environment, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout)


# --- manage.py and the development settings ------------------------------------------------------


def test_manage_py_uses_the_development_settings_on_a_developer_machine(tmp_path):
    environment = clean_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = run([sys.executable, "manage.py", "shell", "-v0", "-c", SETTINGS_SCRIPT], environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["kokasen.settings.dev", "True"]


def test_manage_py_refuses_the_development_default_on_a_server(tmp_path):
    env_file = write_env_file(tmp_path / "kokasen.env", PRODUCTION_VALUES)
    environment = clean_environment(KOKASEN_ENV_FILE=str(env_file), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = run([sys.executable, "manage.py", "send_outbox"], environment)
    assert result.returncode == 2
    assert "開発用の設定では動きません" in result.stderr and "deploy/bin/kokasen-manage" in result.stderr
    assert result.stdout == "" and not (tmp_path / "db.sqlite3").exists()


def test_the_development_settings_refuse_to_load_on_a_server(tmp_path):
    env_file = write_env_file(tmp_path / "kokasen.env", PRODUCTION_VALUES)
    environment = clean_environment(DJANGO_SETTINGS_MODULE="kokasen.settings.dev", KOKASEN_ENV_FILE=str(env_file))
    result = run([sys.executable, "manage.py", "check"], environment)
    assert result.returncode != 0
    assert "開発用の設定 kokasen.settings.dev は使えません" in result.stderr


def test_a_server_is_recognised_by_its_environment_file(tmp_path, monkeypatch):
    monkeypatch.delenv("KOKASEN_ENV_FILE", raising=False)
    installed = tmp_path / "kokasen.env"
    assert env.server_env_file(installed) is None  # a developer's machine
    installed.write_text("")
    assert env.server_env_file(installed) == installed
    monkeypatch.setenv("KOKASEN_ENV_FILE", str(tmp_path / "elsewhere.env"))
    assert env.server_env_file(tmp_path / "missing") == tmp_path / "elsewhere.env"  # named: a server even if missing
    assert env.DEFAULT_ENV_FILE == Path("/etc/kokasen/kokasen.env")


# --- the environment file ------------------------------------------------------------------------


def test_the_environment_file_is_read_as_systemd_reads_it(tmp_path):
    path = tmp_path / "kokasen.env"
    path.write_text(
        "# comment\n; also a comment\n\n"
        "ALLOWED_HOSTS=portal.example.go.jp\n"
        'DEFAULT_FROM_EMAIL="こども家庭庁 運営事務局 <noreply@portal.example.go.jp>"\n'
        "EMAIL_HOST = smtp.example.go.jp \n"
        "SECRET_KEY='a=b#c'\n",
        encoding="utf-8",
    )
    path.chmod(0o640)
    assert env.read_env_file(path) == {
        "ALLOWED_HOSTS": "portal.example.go.jp",
        "DEFAULT_FROM_EMAIL": "こども家庭庁 運営事務局 <noreply@portal.example.go.jp>",
        "EMAIL_HOST": "smtp.example.go.jp",
        "SECRET_KEY": "a=b#c",
    }


def test_a_malformed_line_is_refused_without_quoting_its_value(tmp_path):
    path = write_env_file(tmp_path / "kokasen.env", {})
    path.write_text("SECRET_KEY=ok\nexport PASSWORD=hunter2-secret\n")
    with pytest.raises(ImproperlyConfigured) as refused:
        env.read_env_file(path)
    assert "2 行目" in str(refused.value) and "hunter2" not in str(refused.value)


@pytest.mark.parametrize("mode", [0o644, 0o660, 0o604])
def test_an_environment_file_others_can_read_or_the_group_can_write_is_refused(tmp_path, mode):
    path = write_env_file(tmp_path / "kokasen.env", {"SECRET_KEY": "s"}, mode=mode)
    with pytest.raises(ImproperlyConfigured, match="0640"):
        env.read_env_file(path)


def test_the_example_environment_file_names_every_required_variable(tmp_path):
    example = tmp_path / "kokasen.env"
    example.write_text((ROOT / "deploy" / "kokasen.env.example").read_text(encoding="utf-8"), encoding="utf-8")
    example.chmod(0o640)
    values = env.read_env_file(example)
    assert set(env.REQUIRED_PRODUCTION_VARIABLES) - {"SECRET_KEY"} <= set(values) and "SECRET_KEY_FILE" in values
    assert set(PRODUCTION_VALUES) - {"EMAIL_USE_TLS"} | {"DATABASE_URL"} == set(env.REQUIRED_PRODUCTION_VARIABLES)
    assert values["EMAIL_USE_TLS"] == "true"  # mail to a relay elsewhere is encrypted


# --- the production settings and the wrapper -----------------------------------------------------


def production_env_file(tmp_path, **overrides) -> Path:
    values = PRODUCTION_VALUES | {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"} | overrides
    return write_env_file(tmp_path / "kokasen.env", {k: v for k, v in values.items() if v is not None})


def test_the_production_settings_refuse_to_start_without_the_server_variables(tmp_path):
    env_file = production_env_file(tmp_path, REDIS_URL=None, PORTAL_BASE_URL=None, EMAIL_HOST="")
    environment = clean_environment(
        KOKASEN_ENV_FILE=str(env_file), DJANGO_SETTINGS_MODULE="kokasen.settings.production"
    )
    result = run([sys.executable, "manage.py", "check"], environment)
    assert result.returncode != 0
    assert "必要な環境変数がありません: REDIS_URL、EMAIL_HOST、PORTAL_BASE_URL。" in result.stderr
    assert str(env_file) in result.stderr


def test_the_wrapper_runs_manage_py_with_the_production_settings_and_the_env_file(tmp_path):
    env_file = production_env_file(tmp_path)
    # Whatever the operator's shell says, the wrapper selects the production settings.
    environment = clean_environment(KOKASEN_ENV_FILE=str(env_file), DJANGO_SETTINGS_MODULE="kokasen.settings.dev")
    result = run([str(WRAPPER), "shell", "-v0", "-c", SETTINGS_SCRIPT], environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["kokasen.settings.production", "False", "['portal.example.go.jp']"]


def test_the_production_settings_pass_the_deploy_check_through_the_wrapper(tmp_path):
    environment = clean_environment(KOKASEN_ENV_FILE=str(production_env_file(tmp_path)))
    result = run([str(WRAPPER), "check", "--deploy", "--fail-level", "WARNING"], environment)
    # HSTS preload is a decision for the agency (the go.jp domain), not a default.
    problems = [line for line in result.stderr.splitlines() if line.startswith("?: (") and "W021" not in line]
    assert not problems, result.stderr


def test_the_wrapper_stops_when_it_cannot_read_the_env_file(tmp_path):
    environment = clean_environment(KOKASEN_ENV_FILE=str(tmp_path / "missing.env"))
    result = run([str(WRAPPER), "send_outbox"], environment)
    assert result.returncode == 78
    assert "環境ファイル" in result.stderr and "missing.env" in result.stderr and result.stdout == ""


def test_the_systemd_units_run_every_command_through_the_wrapper():
    units = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
    assert units
    for unit in units:
        text = unit.read_text(encoding="utf-8")
        assert "DJANGO_SETTINGS_MODULE" not in text and "EnvironmentFile" not in text, unit.name
        for line in (line for line in text.splitlines() if line.startswith("ExecStart=")):
            command = line.removeprefix("ExecStart=").split()
            if "manage.py" in line:
                pytest.fail(f"{unit.name} runs manage.py directly: {line}")
            assert command[0] in (
                "/srv/kokasen/app/deploy/bin/kokasen-manage",
                "/srv/kokasen/app/.venv/bin/gunicorn",
            ), line
            if command[0].endswith("gunicorn"):
                assert command[1] == "kokasen.wsgi", line  # whose default is the production settings
    wsgi = (ROOT / "kokasen" / "wsgi.py").read_text(encoding="utf-8")
    assert 'setdefault("DJANGO_SETTINGS_MODULE", "kokasen.settings.production")' in wsgi


def test_hsts_is_left_to_nginx_in_production(tmp_path):
    """One Strict-Transport-Security header: nginx's (test_nginx_stack.py counts it); Django sends
    none, and a SECURE_HSTS_SECONDS that would do nothing is refused rather than ignored."""
    env_file = production_env_file(tmp_path)
    environment = clean_environment(KOKASEN_ENV_FILE=str(env_file))
    script = "from django.conf import settings; print(settings.SECURE_HSTS_SECONDS)"
    result = run([str(WRAPPER), "shell", "-v0", "-c", script], environment)
    assert (result.returncode, result.stdout.strip()) == (0, "0"), result.stderr
    result = run([str(WRAPPER), "check"], {**environment, "SECURE_HSTS_SECONDS": "600"})
    assert result.returncode != 0 and "HSTS は nginx がすべての応答に付けます" in result.stderr


@pytest.mark.parametrize(
    ("values", "starts"),
    [
        ({"EMAIL_USE_TLS": None}, False),  # plain SMTP to another machine
        ({"EMAIL_USE_TLS": "false", "EMAIL_PORT": "25"}, False),
        ({"EMAIL_USE_TLS": None, "EMAIL_USE_SSL": "true", "EMAIL_PORT": "465"}, True),
        ({"EMAIL_USE_TLS": "true"}, True),
        ({"EMAIL_USE_TLS": None, "EMAIL_HOST": "127.0.0.1"}, True),  # a local MTA that relays with TLS
        ({"EMAIL_USE_TLS": None, "EMAIL_HOST": "localhost"}, True),
        ({"EMAIL_USE_TLS": None, "EMAIL_HOST": "::1"}, True),
        ({"EMAIL_USE_TLS": None, "EMAIL_HOST": "127.example.go.jp"}, False),
    ],
)
def test_mail_to_the_relay_is_encrypted_in_production(tmp_path, values, starts):
    environment = clean_environment(KOKASEN_ENV_FILE=str(production_env_file(tmp_path, **values)))
    result = run([str(WRAPPER), "check"], environment)
    assert (result.returncode == 0) is starts, result.stderr
    if not starts:
        assert "EMAIL_USE_TLS=true（STARTTLS、通常ポート 587）" in result.stderr


DATABASE_SCRIPT = "from django.conf import settings; d = settings.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"


@pytest.mark.parametrize(("value", "expected"), [(None, "60 True"), ("0", "0 True")])
def test_web_workers_keep_their_database_connection_in_production(tmp_path, value, expected):
    """Issue 19: a persistent, health-checked connection per worker unless the file says otherwise."""
    environment = clean_environment(KOKASEN_ENV_FILE=str(production_env_file(tmp_path, DATABASE_CONN_MAX_AGE=value)))
    environment.pop("DATABASE_CONN_MAX_AGE", None)
    result = run([str(WRAPPER), "shell", "-v0", "-c", DATABASE_SCRIPT], environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected.split()
