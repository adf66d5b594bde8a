"""deploy/install.sh, run for real on this machine, twice, into a scratch root (decision 0029).

The CI machine is Debian 12 as root, but systemd is not PID 1 and no container can be started.
So the installer runs with ``--root`` (every file it writes goes under a scratch folder) and
``--instance kokasen_ci<pid>`` (its own system user, PostgreSQL role and database on this
machine's PostgreSQL): packages are checked, the user, role and database created, the code
copied, a virtual environment built with Debian's Python from requirements.txt, the database
migrated, static files collected, the first 管理者 created with a printed invitation, nginx,
nftables, fail2ban, logrotate and the systemd units written, checked (``nginx -t``, ``nft -c``,
``fail2ban-client -t``, ``logrotate -d``, ``systemd-analyze verify``) and enabled offline
(``systemctl --root``). What it cannot do here (start units, load the firewall, a real
certificate) is listed in docs/operations.md ("What the installer's test does not cover").
Everything it made is removed afterwards.
"""

from __future__ import annotations

import grp
import os
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from kokasen.testing.postgres import ensure_cluster, psql

ROOT = Path(__file__).resolve().parents[3]
INSTALLER = ROOT / "deploy" / "install.sh"
DOMAIN = "portal.example.go.jp"
OPTIONS = [
    "--domain",
    DOMAIN,
    "--self-signed",
    "--ssh-networks",
    "198.51.100.0/24, 2001:db8:1::/48",
    "--admin-networks",
    "192.0.2.0/24",
    "--health-networks",
    "192.0.2.10",
    "--fail2ban-ignore",
    "203.0.113.0/24",
    "--smtp-host",
    "smtp.example.go.jp",
    "--admin-email",
    "kanri@example.go.jp",
]
# Names the installer reads from the environment: the caller's shell must not decide them here.
INSTALLER_VARIABLES = {
    "KOKASEN_DOMAIN",
    "KOKASEN_TLS_CERT",
    "KOKASEN_TLS_KEY",
    "KOKASEN_TLS_CHAIN",
    "KOKASEN_SELF_SIGNED",
    "SSH_ALLOWED_NETWORKS",
    "ADMIN_ALLOWED_NETWORKS",
    "HEALTH_ALLOWED_NETWORKS",
    "FAIL2BAN_IGNORE_NETWORKS",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "KOKASEN_SMTP_PASSWORD_FILE",
    "DEFAULT_FROM_EMAIL",
    "KOKASEN_ADMIN_EMAIL",
    "KOKASEN_ADMIN_USER",
    "KOKASEN_ROOT",
    "KOKASEN_INSTANCE",
    "KOKASEN_ENV_FILE",
}


@dataclass
class Installation:
    root: Path
    instance: str
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess
    after_edit: subprocess.CompletedProcess
    secret_after_first: str

    @property
    def app(self) -> Path:
        return self.root / "srv" / "kokasen" / "app"

    @property
    def env_file(self) -> Path:
        return self.root / "etc" / "kokasen" / "kokasen.env"

    def manage(self, *args, check=True) -> subprocess.CompletedProcess:
        """A management command the way a server runs one: the wrapper, as the service user."""
        result = subprocess.run(
            [
                "runuser",
                "-u",
                self.instance,
                "--",
                "env",
                "-i",
                "PATH=/usr/bin:/bin",
                "LANG=C.UTF-8",
                f"KOKASEN_ENV_FILE={self.env_file}",
                str(self.app / "deploy" / "bin" / "kokasen-manage"),
                *args,
            ],
            cwd="/",
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result


def environment() -> dict[str, str]:
    """The caller's environment, as an operator's shell would pass it, with settings that must not
    leak into the installed commands: a wrong database and the test settings."""
    env = {k: v for k, v in os.environ.items() if k not in INSTALLER_VARIABLES}
    env.update(DATABASE_URL="sqlite:////nonexistent/leaked.sqlite3", DJANGO_SETTINGS_MODULE="kokasen.settings.test")
    return env


def run_installer(root: Path, instance: str, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(INSTALLER), "--root", str(root), "--instance", instance, *options],
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def changes(result: subprocess.CompletedProcess) -> int:
    last = result.stdout.rstrip("\n").rsplit("\n", 1)[-1]
    match = re.fullmatch(r"changes=(\d+)", last)
    assert match, f"the last line is not changes=N: {last!r}\n{result.stdout}\n{result.stderr}"
    return int(match[1])


def seed_package_files(root: Path) -> None:
    """What Debian's nginx and fail2ban packages put in /etc, copied into the scratch root (the
    installer edits them as it would on a server), with nginx.conf's own paths moved there too."""
    shutil.copytree("/etc/nginx", root / "etc" / "nginx", symlinks=True)
    shutil.copytree("/etc/fail2ban", root / "etc" / "fail2ban", symlinks=True)
    (root / "run").mkdir()
    (root / "var" / "log" / "nginx").mkdir(parents=True)
    conf = root / "etc" / "nginx" / "nginx.conf"
    text = conf.read_text(encoding="utf-8")
    for old in ("/etc/nginx/", "/run/nginx.pid", "/var/log/nginx/"):
        assert old in text, f"Debian's nginx.conf no longer names {old}"
        text = text.replace(old, f"{root}{old}")
    conf.write_text(text, encoding="utf-8")
    assert (root / "etc" / "nginx" / "sites-enabled" / "default").exists(), (
        "Debian's default site is the installer's to remove"
    )


@pytest.fixture(scope="module")
def installation():
    assert os.geteuid() == 0, "the installer runs as root (on CI too)"
    ensure_cluster()
    root = Path(tempfile.mkdtemp(prefix="kokasen-installer-"))
    root.chmod(0o755)  # the service user and nginx's www-data walk into it
    instance = f"kokasen_ci{os.getpid()}"
    try:
        seed_package_files(root)
        first = run_installer(root, instance, *OPTIONS)
        assert first.returncode == 0, first.stdout + first.stderr
        secret = (root / "etc" / "kokasen" / "secret_key").read_text()
        second = run_installer(root, instance, *OPTIONS)  # the same command again
        assert second.returncode == 0, second.stdout + second.stderr
        # The operator adds an admin network in the environment file and runs the installer again.
        env_file = root / "etc" / "kokasen" / "kokasen.env"
        text = env_file.read_text(encoding="utf-8")
        assert "\nADMIN_ALLOWED_NETWORKS=192.0.2.0/24\n" in text
        env_file.write_text(
            text.replace(
                "\nADMIN_ALLOWED_NETWORKS=192.0.2.0/24\n", "\nADMIN_ALLOWED_NETWORKS=192.0.2.0/24,2001:db8:2::/48\n"
            ),
            encoding="utf-8",
        )
        after_edit = run_installer(root, instance)
        assert after_edit.returncode == 0, after_edit.stdout + after_edit.stderr
        yield Installation(root, instance, first, second, after_edit, secret)
    finally:
        psql(
            f'DROP DATABASE IF EXISTS "{instance}"',
            f'DROP DATABASE IF EXISTS "{instance}_drill"',
            f'DROP ROLE IF EXISTS "{instance}"',
            check=False,
        )
        subprocess.run(["userdel", instance], capture_output=True)
        subprocess.run(["groupdel", instance], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_the_first_run_installs_and_the_second_changes_nothing(installation):
    assert changes(installation.first) > 40, installation.first.stdout
    assert "変更: データベース（migrate）" in installation.first.stdout
    assert changes(installation.second) == 0, installation.second.stdout
    assert "変更なし" in installation.second.stdout and "変更:" not in installation.second.stdout
    assert "Django の本番チェック（check --deploy）: 警告なし" in installation.second.stdout


def test_an_edited_environment_file_reaches_nginx_and_nothing_else_changes(installation):
    lines = [line.strip() for line in installation.after_edit.stdout.splitlines() if "変更:" in line]
    assert changes(installation.after_edit) == 2 == len(lines), installation.after_edit.stdout
    assert lines[0] == "変更: 環境ファイルの変更を反映（gunicorn を再起動）"
    assert lines[1].endswith("/etc/nginx/kokasen/admin-networks.conf")


def test_the_environment_file_and_secrets_are_written_once_for_the_service_user_only(installation):
    env_file = installation.env_file
    info = env_file.stat()
    assert (
        stat.S_IMODE(info.st_mode) == 0o640
        and info.st_uid == 0
        and grp.getgrgid(info.st_gid).gr_name == installation.instance
    )
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if line and not line.startswith("#"))
    assert values["ALLOWED_HOSTS"] == DOMAIN and values["PORTAL_BASE_URL"] == f"https://{DOMAIN}"
    assert values["DATABASE_URL"] == f"postgres://{installation.instance}@%2Frun%2Fpostgresql/{installation.instance}"
    assert values["SSH_ALLOWED_NETWORKS"] == "198.51.100.0/24,2001:db8:1::/48"  # normalized
    assert values["HEALTH_ALLOWED_NETWORKS"] == "192.0.2.10/32" and values["EMAIL_USE_TLS"] == "true"
    secret = Path(values["SECRET_KEY_FILE"])
    assert secret.read_text() == installation.secret_after_first and len(secret.read_text().strip()) >= 50
    assert stat.S_IMODE(secret.stat().st_mode) == 0o640
    # The first 管理者: a file only root reads; the password is in no output and no log.
    first_admin = installation.root / "etc" / "kokasen" / "first-admin.txt"
    assert stat.S_IMODE(first_admin.stat().st_mode) == 0o600
    text = first_admin.read_text()
    password = re.search(r"^初期パスワード: (\S+)$", text, re.M)[1]
    assert re.search(rf"^https://{re.escape(DOMAIN)}/login/totp/invitation/\S+/$", text, re.M)
    log = (installation.root / "var" / "log" / "kokasen-install.log").read_text()
    assert password not in installation.first.stdout + installation.first.stderr and password not in log
    # The backup key: root's alone, written once, announced with where to keep its copy.
    key = Path(values["BACKUP_PASSWORD_FILE"])
    assert key == installation.root / "etc" / "kokasen" / "backup_key" and len(key.read_text().strip()) >= 48
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key.stat().st_uid == 0 and key.stat().st_gid == 0
    assert "バックアップの鍵" in installation.first.stdout and "サーバー外に写しを保管" in installation.first.stdout
    backup_dir = Path(values["OPS_BACKUP_STATUS_FILE"]).parent
    assert backup_dir == installation.root / "var" / "lib" / "kokasen" / "backup"
    assert stat.S_IMODE(backup_dir.stat().st_mode) == 0o700 and backup_dir.owner() == installation.instance
    assert values["BACKUP_DRILL_DATABASE"] == f"{installation.instance}_drill"
    assert f"変更: データベース {installation.instance}_drill" in installation.first.stdout


def test_the_database_is_migrated_and_has_the_first_admin_with_an_open_invitation(installation):
    script = (
        "from django.db import connection\n"
        "from django.db.migrations.executor import MigrationExecutor\n"
        "from django.contrib.auth import get_user_model\n"
        "from kokasen.accounts.models import StaffEnrolmentInvitation\n"
        "executor = MigrationExecutor(connection)\n"
        "print('unapplied', len(executor.migration_plan(executor.loader.graph.leaf_nodes())))\n"
        "print('vendor', connection.vendor, connection.settings_dict['NAME'])\n"
        "user = get_user_model().objects.get(is_superuser=True)\n"
        "print('admin', user.username, user.email, sorted(user.groups.values_list('name', flat=True)))\n"
        "print('invitations', StaffEnrolmentInvitation.objects.filter(user=user, used_at=None, revoked_at=None).count())\n"
    )
    out = installation.manage("shell", "-c", script).stdout
    assert "unapplied 0" in out
    assert f"vendor postgresql {installation.instance}" in out
    assert "admin admin kanri@example.go.jp ['管理者']" in out and "invitations 1" in out


def test_nginx_reads_what_the_app_stores_but_never_the_settings(installation):
    media = installation.root / "srv" / "kokasen" / "media"
    script = (
        "from django.core.files.base import ContentFile\n"
        "from django.core.files.storage import default_storage\n"
        "from django.core.files.uploadedfile import TemporaryUploadedFile\n"
        "print(default_storage.save('documents/small.txt', ContentFile(b'small')))\n"
        "upload = TemporaryUploadedFile('large.txt', 'text/plain', 5, 'utf-8')\n"
        "upload.write(b'large'); upload.flush()\n"  # a large upload: moved in from /tmp
        "print(default_storage.save('documents/2026/large.txt', upload))\n"
    )
    installation.manage("shell", "-c", script)
    static_file = installation.root / "srv" / "kokasen" / "static" / "css" / "portal.css"
    for path in (media / "documents" / "small.txt", media / "documents" / "2026" / "large.txt", static_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o640  # FILE_UPLOAD_PERMISSIONS, unchanged
        read = subprocess.run(["runuser", "-u", "www-data", "--", "cat", str(path)], capture_output=True)
        assert read.returncode == 0, (path, read.stderr)
    for secret in (installation.env_file, installation.root / "etc" / "kokasen" / "secret_key"):
        refused = subprocess.run(
            ["runuser", "-u", "www-data", "--", "cat", str(secret)], capture_output=True, text=True
        )
        assert refused.returncode != 0 and "Permission denied" in refused.stderr


def test_django_deploy_check_has_no_warning_with_the_installed_settings(installation):
    result = installation.manage("check", "--deploy", "--fail-level", "WARNING")
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr


def test_nginx_nftables_fail2ban_and_logrotate_configurations_pass_their_own_checks(installation):
    root = installation.root
    nginx = subprocess.run(["nginx", "-t", "-c", str(root / "etc/nginx/nginx.conf")], capture_output=True, text=True)
    assert nginx.returncode == 0, nginx.stderr
    enabled = sorted(p.name for p in (root / "etc/nginx/sites-enabled").iterdir())
    assert enabled == ["kokasen-catch-all", "kokasen-portal"]  # Debian's default removed
    portal = (root / "etc/nginx/sites-available/kokasen-portal").read_text()
    assert portal.count(f"server_name {DOMAIN};") == 2
    admin_networks = (root / "etc/nginx/kokasen/admin-networks.conf").read_text().splitlines()[1:]
    assert admin_networks == ["default 1;", "192.0.2.0/24 0;", "2001:db8:2::/48 0;"]
    assert (root / "etc/nginx/kokasen/health-networks.conf").read_text().rstrip().endswith("192.0.2.10/32 0;")
    ruleset = root / "etc/nftables.conf"
    assert (
        "elements = { 198.51.100.0/24 }" in ruleset.read_text()
        and "elements = { 2001:db8:1::/48 }" in ruleset.read_text()
    )
    nft = subprocess.run(["nft", "-c", "-f", str(ruleset)], capture_output=True, text=True)
    assert nft.returncode == 0, nft.stderr
    # Debian's own sshd jail stays enabled: it loads only because the installer points it at the journal.
    assert (root / "etc/fail2ban/jail.d/defaults-debian.conf").exists()
    fail2ban = subprocess.run(
        ["fail2ban-client", "-c", str(root / "etc/fail2ban"), "-t"],
        capture_output=True,
        text=True,
        env={**os.environ, "LANG": "C.UTF-8"},
    )
    assert "OK: configuration test is successful" in fail2ban.stdout + fail2ban.stderr, (
        fail2ban.stdout + fail2ban.stderr
    )
    assert "203.0.113.0/24" in (root / "etc/fail2ban/jail.d/kokasen-ignore.local").read_text()
    rotate = subprocess.run(
        ["logrotate", "-d", "-s", str(root / "logrotate.state"), str(root / "etc/logrotate.d/kokasen")],
        capture_output=True,
        text=True,
    )
    assert rotate.returncode == 0 and f"{root}/var/log/nginx/kokasen/access.log" in rotate.stderr, rotate.stderr


def test_the_units_are_the_repositorys_verified_and_enabled_offline(installation):
    unit_dir = installation.root / "etc" / "systemd" / "system"
    repository = sorted((ROOT / "deploy" / "systemd").iterdir())
    for unit in repository:
        installed = (unit_dir / unit.name).read_text()
        # Only the scratch root and the instance's user differ from what a real server gets.
        assert (
            installed.replace(str(installation.root), "").replace(f"={installation.instance}\n", "=kokasen\n")
            == unit.read_text()
        ), unit.name
    verify = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *[u.name for u in repository]],
        cwd=unit_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0 and verify.stdout + verify.stderr == "", verify.stdout + verify.stderr
    wanted = {p.name for p in unit_dir.glob("*.target.wants/*")}
    long_lived = {"kokasen-web.service", "kokasen-static-export.service"}
    assert wanted == {u.name for u in repository if u.suffix in (".timer", ".path")} | long_lived
    listing = subprocess.run(
        ["systemctl", f"--root={installation.root}", "is-enabled", *sorted(wanted)], capture_output=True, text=True
    )
    assert listing.stdout.split() == ["enabled"] * len(wanted)


def test_the_code_is_the_checkout_compiled_and_owned_by_root(installation):
    app = installation.app
    assert (app / "kokasen" / "settings" / "base.py").read_bytes() == (
        ROOT / "kokasen" / "settings" / "base.py"
    ).read_bytes()
    assert not (app / ".git").exists() and (app / ".venv" / "bin" / "gunicorn").exists()
    assert list((app / "kokasen" / "settings" / "__pycache__").glob("base.cpython-311.pyc"))
    assert app.stat().st_uid == 0 and (app / "manage.py").stat().st_uid == 0
    assert os.readlink(installation.root / "usr/local/bin/kokasen-manage") == str(app / "deploy/bin/kokasen-manage")


def test_an_option_that_contradicts_the_environment_file_is_refused(installation):
    before = installation.env_file.read_text()
    result = run_installer(
        installation.root,
        installation.instance,
        "--domain",
        "other.example.go.jp",
        "--admin-networks",
        "2001:db8:2:0::/48, 192.0.2.0/24",
    )  # the same networks, written otherwise
    assert result.returncode == 2
    assert (
        "環境ファイル" in result.stderr
        and "PORTAL_BASE_URL" in result.stderr
        and "ADMIN_ALLOWED_NETWORKS" not in result.stderr
    )
    assert installation.env_file.read_text() == before
