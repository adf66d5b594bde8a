"""Settings are secure by default and configuration fails loudly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from kokasen.settings import env

ROOT = Path(__file__).resolve().parents[3]


def test_production_settings_pass_the_deploy_check():
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kokasen.settings.base",
        "SECRET_KEY": "k" * 20 + "-production-like-secret-value-for-the-check",
        "ALLOWED_HOSTS": "kokasen.example.go.jp",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # HSTS preload is a decision for the agency (the go.jp domain), not a default.
    problems = [line for line in result.stderr.splitlines() if line.startswith("?: (") and "W021" not in line]
    assert not problems, result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SECRET_KEY_FILE")}
    environment["DJANGO_SETTINGS_MODULE"] = "kokasen.settings.base"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr


def test_env_helpers_read_typed_values(monkeypatch, tmp_path):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_FLOAT", "0.25")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env.env_bool("X_BOOL", False) is True
    assert env.env_int("X_INT", 0) == 42
    assert env.env_float("X_FLOAT", 1.0) == 0.25 and env.env_float("X_UNSET", 2.0) == 2.0
    assert env.env_list("X_LIST", []) == ["a", "b", "c"]
    assert env.env_secret("X_SECRET") == "s3cret"
    assert env.env_bool("X_UNSET", True) is True


@pytest.mark.parametrize(
    "name,value,reader",
    [("X_BOOL", "maybe", env.env_bool), ("X_INT", "4x", env.env_int), ("X_FLOAT", "0,5", env.env_float)],
)
def test_env_helpers_refuse_malformed_values(monkeypatch, name, value, reader):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured):
        reader(name, 0)


def test_a_missing_secret_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "nowhere"))
    with pytest.raises(ImproperlyConfigured):
        env.env_secret("X_SECRET")
