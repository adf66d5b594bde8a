"""The disposal's backup hook on a real restic repository (kokasen/privacy/backups.py).

The scoped mode (forget, prune, fresh backup) needs pg_dump and is exercised with the backups
themselves; here the contract-end mode on a repository made with restic's own commands: the
dry run removes nothing, the real run removes every snapshot and the key, and afterwards the
repository cannot be opened. Without a key the hook reports instead of raising.
"""

import shutil
import subprocess

import pytest

from kokasen.ops import backups as restic_backups
from kokasen.privacy.backups import DESTROY_KEY, BackupRequest, restic_disposer


def _restic(env, *args):
    return subprocess.run(["restic", *args], env=env, capture_output=True, text=True, check=False)


@pytest.fixture
def repository(settings, tmp_path):
    if shutil.which("restic") is None:
        pytest.fail("restic is missing: Debian's restic package (in APT_PACKAGES; `make test` installs it)")
    key = tmp_path / "backup_key"
    key.write_text("a test key, not a real one\n")
    key.chmod(0o600)
    settings.BACKUP_REPOSITORY = str(tmp_path / "restic")
    settings.BACKUP_PASSWORD_FILE = str(key)
    settings.BACKUP_WORK_DIR = str(tmp_path / "work")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "RESTIC_REPOSITORY": settings.BACKUP_REPOSITORY,
        "RESTIC_PASSWORD_FILE": str(key),
        "RESTIC_CACHE_DIR": str(tmp_path / "cache"),
    }
    data = tmp_path / "data"
    data.mkdir()
    (data / "roster.txt").write_text("名簿 canary-7f3a\n")
    assert _restic(env, "init").returncode == 0
    for _ in range(2):
        assert _restic(env, "backup", "--tag", restic_backups.TAG, str(data)).returncode == 0
    return env, key


def _request(dry_run):
    from django.utils import timezone

    return BackupRequest(mode=DESTROY_KEY, scope="contract-end", before=timezone.now(), dry_run=dry_run)


def test_the_dry_run_removes_nothing(repository):
    env, key = repository
    outcome = restic_disposer(_request(dry_run=True))
    assert not outcome.done
    assert len(outcome.generations_removed) == 2
    assert "予行演習" in outcome.summary
    assert key.exists()
    assert len(restic_backups.snapshots()) == 2


def test_contract_end_removes_every_generation_and_the_key(repository, settings):
    env, key = repository
    outcome = restic_disposer(_request(dry_run=False))
    assert outcome.done, outcome.summary
    assert len(outcome.generations_removed) == 2
    assert outcome.keys_removed == [settings.BACKUP_PASSWORD_FILE]
    assert not key.exists()
    # Nobody can open the repository any more, whatever key file they point at.
    key.write_text("a guess\n")
    opened = _restic(env, "snapshots")
    assert opened.returncode != 0


def test_without_the_key_the_hook_reports_instead_of_raising(repository):
    env, key = repository
    key.unlink()
    outcome = restic_disposer(_request(dry_run=False))
    assert not outcome.done
    assert "鍵ファイル" in outcome.summary
