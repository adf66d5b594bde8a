"""Typed readers for environment variables.

Configuration fails loudly: a malformed value raises ImproperlyConfigured at start-up
instead of being silently read as a default. Every secret may also be given as
``<NAME>_FILE`` pointing at a file that holds it (systemd credentials, Docker secrets).
"""

import ipaddress
import os
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"Environment variable {name} is required.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"Unexpected value {name}={value!r}; use true or false.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}.") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "").strip()
    if value == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, default: str | None = None) -> str:
    """A secret from NAME, or from the file named by NAME_FILE."""
    file_name = os.environ.get(f"{name}_FILE", "").strip()
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"Cannot read {name}_FILE={file_name}: {exc}") from None
    return env_str(name, default)


def env_networks(name: str, default: list[str]) -> list[str]:
    """A comma-separated list of IP networks (``127.0.0.1/32, 10.0.0.0/8``), checked now."""
    values = env_list(name, default)
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {value!r} is not an IP address or network.") from None
    return values


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an address, as in EMAIL_HOST) is this machine: "localhost" or
    a loopback address. No name is looked up: anything else counts as another machine."""
    host = host.strip().strip("[]").lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- The server's environment file (docs/configuration.md, decision 0021) ---------------------

# Written by the installer: root:kokasen, mode 0640, one KEY=VALUE per line.
DEFAULT_ENV_FILE = Path("/etc/kokasen/kokasen.env")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# kokasen.settings.production refuses to start without these (SECRET_KEY_FILE may stand for
# SECRET_KEY): without them a server would run on a developer's defaults (a local-memory cache
# per worker, mail to localhost, links to https://localhost).
REQUIRED_PRODUCTION_VARIABLES = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_HOST",
    "DEFAULT_FROM_EMAIL",
    "PORTAL_BASE_URL",
)


def server_env_file(default: Path = DEFAULT_ENV_FILE) -> Path | None:
    """The environment file that marks this machine as a server: the one named by
    KOKASEN_ENV_FILE (deploy/bin/kokasen-manage sets it), else the installer's default path if
    it exists (or cannot even be looked at: it is then a server we may not read). None on a
    development machine."""
    named = os.environ.get("KOKASEN_ENV_FILE", "").strip()
    if named:
        return Path(named)
    try:
        default.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return default
    return default


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as systemd's EnvironmentFile= reads them: blank lines and lines starting
    with # or ; are ignored, white space around key and value is dropped, and one pair of
    surrounding double or single quotes is removed. The file holds secrets, so it must not be
    readable by others nor writable by its group, and error messages never quote a value."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImproperlyConfigured(f"環境ファイル {path} を読めません: {exc.strerror}") from None
    if mode & 0o027:
        raise ImproperlyConfigured(
            f"環境ファイル {path} の権限が {mode & 0o777:o} です。秘密の値を含むため、"
            "所有者 root、グループ kokasen、権限 0640 にしてください（chmod 0640）。"
        )
    values = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        name, equals, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not _NAME.match(name):
            raise ImproperlyConfigured(f"環境ファイル {path} の {number} 行目は「名前=値」の形ではありません。")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name] = value
    return values


def load_env_file(path: Path) -> dict[str, str]:
    """Put the file's variables into os.environ; a variable already set in the environment
    wins (so an operator can override one for a single command)."""
    values = read_env_file(path)
    for name, value in values.items():
        os.environ.setdefault(name, value)
    return values
