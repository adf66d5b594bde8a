"""deploy/systemd/: `systemd-analyze verify` on every unit, and the directives the issue asks for.

systemd-analyze works in this container (no systemd running is needed to verify units); it
prints unknown keys and bad values as warnings with exit status 0, so any output fails the test.
The units name /srv/kokasen/app, where the installer puts the code: the copy verified here points
at this checkout instead, so that the executables it names exist. Running the units (the
sandbox in action) is for the installer's integration test on a machine with systemd.
"""

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
UNITS = ROOT / "deploy" / "systemd"
SANDBOX_START = "# --- Sandboxing"
REQUIRED_SANDBOX = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "PrivateTmp": "yes",
    "ProtectHome": "yes",
    "PrivateDevices": "yes",
    "CapabilityBoundingSet": "",
    "RestrictSUIDSGID": "yes",
}


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def services():
    return sorted(UNITS.glob("*.service"))


def test_systemd_analyze_verify_accepts_every_unit(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: install Debian's systemd package (make test-tools)"
    for path in UNITS.iterdir():
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8").replace("/srv/kokasen/app", str(ROOT)))
    names = sorted(p.name for p in tmp_path.iterdir())
    result = subprocess.run(
        [analyze, "verify", "--man=no", *names], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout == "" and result.stderr == "", result.stderr + result.stdout


def test_every_unit_has_the_same_sandbox():
    blocks = {}
    for path in services():
        text = path.read_text(encoding="utf-8")
        assert SANDBOX_START in text, path.name
        block = text[text.index(SANDBOX_START) :]
        blocks[path.name] = block.split("\n[", 1)[0].strip()  # up to the next section ([Install])
        service = unit(path)["Service"]
        for key, value in REQUIRED_SANDBOX.items():
            assert service.get(key) == value, (path.name, key)
        assert service.get("ReadWritePaths"), path.name  # writable only where named
        assert service.get("User") == "kokasen" and service.get("Group") == "kokasen", path.name
    assert len(set(blocks.values())) == 1, "the sandbox blocks differ: " + ", ".join(blocks)


def test_gunicorn_restarts_whatever_ended_it():
    web = unit(UNITS / "kokasen-web.service")
    assert web["Service"]["Restart"] == "always"
    assert web["Unit"]["StartLimitIntervalSec"] == "0"  # never gives up after a crash loop
    assert web["Service"]["Type"] == "notify"
    assert "--bind 127.0.0.1:8001" in web["Service"]["ExecStart"]  # loopback only; nginx in front
    writable = web["Service"]["ReadWritePaths"].split()
    media_root = re.search(r"^MEDIA_ROOT=(.+)$", (ROOT / "deploy" / "kokasen.env.example").read_text(), re.M)[1]
    assert media_root in writable


def test_every_periodic_command_has_a_timer_and_is_documented():
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    oneshots = [path for path in services() if unit(path)["Service"].get("Type") == "oneshot"]
    assert len(oneshots) >= 5
    for path in oneshots:
        timer = path.with_suffix(".timer")
        assert timer.exists(), f"{path.name} has no timer"
        assert unit(timer)["Timer"].get("OnCalendar") and unit(timer)["Timer"].get("Persistent") == "true"
        command = unit(path)["Service"]["ExecStart"].split()[1]
        assert f"`kokasen-manage {command}`" in operations, f"{command} is not in docs/operations.md's table"
        assert f"`{timer.name}`" in operations or f"`deploy/systemd/{timer.name}`" in operations, timer.name
    commands = {unit(path)["Service"]["ExecStart"].split()[1] for path in oneshots}
    assert "clearsessions" in commands  # session clean-up


@pytest.mark.parametrize("path", services(), ids=lambda p: p.name)
def test_units_run_through_the_wrapper_or_gunicorn(path):
    start = unit(path)["Service"]["ExecStart"].split()
    assert start[0] in ("/srv/kokasen/app/deploy/bin/kokasen-manage", "/srv/kokasen/app/.venv/bin/gunicorn")


def test_ops_scan_runs_every_five_minutes_and_may_read_nginx_logs():
    """Detection and alerts (decision 0030): the timer fires at :00, :05, … as systemd itself
    computes it, and the service is in the group that may read /var/log/nginx/kokasen/."""
    service = unit(UNITS / "kokasen-ops-scan.service")["Service"]
    assert service["ExecStart"].split()[1:] == ["ops_scan", "--verbosity", "0"]
    assert service["SupplementaryGroups"] == "adm"
    assert "/srv/kokasen/app/var" in service["ReadWritePaths"]  # the lock and the outage record (OPS_STATE_DIR)
    calendar = unit(UNITS / "kokasen-ops-scan.timer")["Timer"]["OnCalendar"]
    result = subprocess.run(
        [shutil.which("systemd-analyze"), "calendar", "--iterations=4", calendar],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    stamps = re.findall(r"(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})", result.stdout)
    from datetime import datetime

    times = [datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S") for stamp in stamps[:4]]
    assert len(times) == 4 and all(t.minute % 5 == 0 and t.second == 0 for t in times)
    assert {(b - a).total_seconds() for a, b in zip(times, times[1:])} == {300.0}
