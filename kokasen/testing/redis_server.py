"""A private redis-server on a loopback port for the tests (Debian's redis-server package), that
a test can stop and start again on the same port: the Redis-outage tests
(kokasen/core/tests/test_resilient_cache.py) and the full stack (stack.py). Nothing is kept on
disk. A missing binary fails with the package that brings it (`make test-tools`)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from .smtp import free_port


def redis_binary() -> str:
    found = shutil.which("redis-server", path=os.environ.get("PATH", "") + os.pathsep + "/usr/bin:/usr/sbin")
    assert found, "redis-server is missing: install Debian's redis-server package (`make test-tools`)"
    return found


class RedisServer:
    def __init__(self, folder: Path, port: int | None = None):
        self.folder = folder
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 20) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on 127.0.0.1:{self.port}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Our own redis-server, by its process id (thawed first if a test froze it)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
