"""The access-log reader on what Debian's nginx really writes with deploy/nginx/kokasen-http.conf's
formats, rotated by Debian's logrotate with deploy/logrotate/kokasen (create mode, as installed)
and with that file switched to copytruncate: every request is read exactly once, from the JSON
log and from the combined log alike, with odd bytes in the URI and the user agent."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from kokasen.core.access_log import LogReader, MemoryStore
from kokasen.core.tests.nginx_loopback import ROOT, debian_main_conf, nginx_binary, write_http_conf
from kokasen.core.tests.test_deploy_logrotate import POSTROTATE, logrotate
from kokasen.testing.smtp import free_port

LOGROTATE_CONF = ROOT / "deploy" / "logrotate" / "kokasen"


class Nginx:
    def __init__(self, folder: Path):
        self.folder, self.logs, self.port = folder, folder / "logs", free_port()
        http_conf = write_http_conf(folder)
        server = folder / "server.conf"
        server.write_text(
            f"server {{\n    listen 127.0.0.1:{self.port};\n    server_name portal.example.go.jp;\n"
            f"    access_log {self.logs}/access.log combined buffer=64k flush=5s if=$kokasen_log_request;\n"
            f"    access_log {self.logs}/access.json kokasen_json buffer=64k flush=5s if=$kokasen_log_request;\n"
            '    location / { return 200 "ok\\n"; }\n    location /missing/ { return 404; }\n}\n',
            encoding="utf-8",
        )
        conf = debian_main_conf(folder, [http_conf, server])
        self.process = subprocess.Popen(
            [nginx_binary(), "-c", str(conf), "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {self.process.stderr.read().decode()}")
                time.sleep(0.05)

    def request(self, n: int):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            path = f"/r/{n}/%E7%A0%94%E4%BF%AE/?q=%22{n}%22" if n % 3 else f"/missing/{n}"
            # Raw bytes in the user agent: a quote, a backslash, UTF-8 and an invalid byte.
            agent = f'Mozilla/5.0 "{n}" \\ 自治体 '.encode() + b"\xff"
            connection.request("GET", path, headers={"Host": "portal.example.go.jp", "User-Agent": agent})
            connection.getresponse().read()
        finally:
            connection.close()

    def reopen_logs(self):
        """What logrotate's postrotate does to the machine's nginx (invoke-rc.d nginx rotate)."""
        os.kill(self.process.pid, signal.SIGUSR1)
        time.sleep(0.5)

    def stop(self):
        self.process.terminate()  # our own nginx master, by its process id
        self.process.wait(timeout=30)


@pytest.fixture
def nginx(tmp_path):
    server = Nginx(tmp_path)
    yield server
    server.stop()


def rotation_conf(folder: Path, logs: Path, nginx: Nginx, *, mode: str) -> Path:
    text = LOGROTATE_CONF.read_text(encoding="utf-8").replace("/var/log/nginx/kokasen/", f"{logs}/")
    assert text.count(POSTROTATE) == 2 and "dateformat -%Y%m%d-%H\n" in text
    # Several rotations within a test: the hour is not enough to tell them apart.
    text = text.replace("dateformat -%Y%m%d-%H\n", "dateformat -%Y%m%d-%H%M%S\n")
    if mode == "create":
        text = text.replace(POSTROTATE, f"kill -USR1 {nginx.process.pid}").replace(
            "create 0640 www-data adm", "create 0640"
        )
    else:
        text = text.replace("create 0640 www-data adm", "copytruncate").replace(POSTROTATE, "true")
    path = folder / f"logrotate-{mode}"
    path.write_text(text, encoding="utf-8")
    return path


def rotate(conf: Path, state: Path):
    result = subprocess.run(
        [logrotate(), "-f", "-s", str(state), str(conf)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    time.sleep(1.1)  # the next rotation gets another name (seconds in dateformat)


def read(logs: Path, name: str, store) -> list:
    reader = LogReader(logs / name, consumer="test", store=store)
    records = []
    for chunk in reader.read():
        assert chunk.bad == 0, chunk.bad_samples
        records += chunk.records
    reader.commit()
    assert not reader.problems, reader.problems
    return records


@pytest.mark.parametrize("mode", ["create", "copytruncate"])
def test_every_request_is_read_once_across_real_rotations(nginx, tmp_path, mode):
    conf = rotation_conf(tmp_path, nginx.logs, nginx, mode=mode)
    state = tmp_path / "logrotate.state"
    stores = {"access.json": MemoryStore(), "access.log": MemoryStore()}
    got = {name: [] for name in stores}
    sent = 0

    def send(count):
        nonlocal sent
        for n in range(sent, sent + count):
            nginx.request(n)
        sent += count

    def read_both():
        nginx.reopen_logs()  # flushes the 64 KB buffers
        for name, store in stores.items():
            got[name] += read(nginx.logs, name, store)

    send(40)
    read_both()
    send(25)  # not yet read when the file is rotated
    nginx.reopen_logs()
    rotate(conf, state)
    send(20)
    read_both()
    send(15)
    nginx.reopen_logs()
    rotate(conf, state)  # compresses the first rotated file (delaycompress)
    send(10)
    nginx.reopen_logs()
    rotate(conf, state)
    read_both()
    read_both()  # nothing new

    assert list(nginx.logs.glob("access.json-*.gz")), "logrotate compressed nothing"
    for name, records in got.items():
        numbers = sorted(int(record.path.split("/")[2]) for record in records)
        assert numbers == list(range(sent)), name
    by_number = {int(r.path.split("/")[2]): r for r in got["access.json"]}
    record = by_number[4]
    assert (record.path, record.query, record.status) == ("/r/4/%E7%A0%94%E4%BF%AE/", "q=%224%22", 200)
    assert record.user_agent == 'Mozilla/5.0 "4" \\ 自治体 \ufffd' and record.request_time is not None
    assert by_number[3].status == 404
    combined = {int(r.path.split("/")[2]): r for r in got["access.log"]}
    assert combined[4].user_agent == record.user_agent  # nginx's \x22 and \xHH escapes undone
    assert combined[4].ts == record.ts and combined[4].client == "127.0.0.1"


def test_the_rotated_names_of_deploy_logrotate_are_recognised(tmp_path):
    from kokasen.core.access_log import rotated_siblings

    live = tmp_path / "access.json"
    for name in (
        "access.json-20261205-00.gz",
        "access.json-20261206-00.gz",
        "access.json-20261207-00",
        "access.json-20261207-13",
        "access.json",
    ):
        (tmp_path / name).write_text("x\n")
    assert [p.name for p in rotated_siblings(live)] == [
        "access.json-20261205-00.gz",
        "access.json-20261206-00.gz",
        "access.json-20261207-00",
        "access.json-20261207-13",
        "access.json",
    ]
