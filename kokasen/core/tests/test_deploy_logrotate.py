"""deploy/logrotate/: `logrotate -d` on the configuration as installed, then a forced rotation of a
copy that points at a scratch folder (its postrotate, which would signal the machine's nginx,
replaced by a marker), and the hourly timer drop-in."""

import configparser
import grp
import os
import pwd
import re
import shutil
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CONF = ROOT / "deploy" / "logrotate" / "kokasen"
LOGS = ("access.log", "access.json", "error.log", "refused.log")
POSTROTATE = "invoke-rc.d nginx rotate >/dev/null 2>&1 || true"


def logrotate() -> str:
    found = shutil.which("logrotate", path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin")
    assert found, "logrotate is missing: install Debian's logrotate package (make test-tools)"
    return found


def test_every_log_nginx_writes_is_rotated():
    written = set()
    for path in (ROOT / "deploy" / "nginx").glob("*.conf"):
        written |= set(re.findall(r"/var/log/nginx/kokasen/([\w.]+)", path.read_text(encoding="utf-8")))
    rotated = set(re.findall(r"^/var/log/nginx/kokasen/([\w.]+)$", CONF.read_text(encoding="utf-8"), re.M))
    assert written == rotated == set(LOGS)


def test_logrotate_debug_run_accepts_the_configuration(tmp_path):
    result = subprocess.run(
        [logrotate(), "-d", "-s", str(tmp_path / "state"), str(CONF)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    problems = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("error:")]
    assert not problems, problems


def test_a_forced_rotation_in_a_scratch_folder(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    for name in LOGS:
        (logs / name).write_text("a line\n")
    text = CONF.read_text(encoding="utf-8")
    assert text.count(POSTROTATE) == 2
    copy = tmp_path / "kokasen"
    copy.write_text(
        text.replace("/var/log/nginx/kokasen/", f"{logs}/").replace(POSTROTATE, f"touch {tmp_path}/postrotate-ran")
    )
    if os.geteuid() != 0:  # only root may give the new files to www-data
        copy.write_text(copy.read_text().replace("create 0640 www-data adm", "create 0640"))
    result = subprocess.run(
        [logrotate(), "-f", "-v", "-s", str(tmp_path / "state"), str(copy)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "postrotate-ran").exists()  # nginx is told to reopen its logs
    for name in LOGS:
        rotated = list(logs.glob(f"{name}-*"))
        assert [p.name for p in rotated if re.fullmatch(re.escape(name) + r"-\d{8}-\d{2}", p.name)], rotated
        fresh = (logs / name).stat()
        assert fresh.st_size == 0 and stat.S_IMODE(fresh.st_mode) == 0o640
        if os.geteuid() == 0:
            assert (pwd.getpwuid(fresh.st_uid).pw_name, grp.getgrgid(fresh.st_gid).gr_name) == ("www-data", "adm")


def test_logrotate_runs_hourly_so_that_maxsize_acts_within_the_hour():
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    text = (ROOT / "deploy" / "logrotate" / "logrotate.timer.d" / "kokasen-hourly.conf").read_text(encoding="utf-8")
    assert "OnCalendar=\nOnCalendar=hourly" in text  # the empty line resets Debian's daily
    parser.read_string(text)
    assert parser["Timer"]["OnCalendar"] == "hourly"
    assert "maxsize" in CONF.read_text(encoding="utf-8")
