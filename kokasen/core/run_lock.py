"""One run at a time of a job that several timers, commands or screens can start."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings


class Busy(Exception):
    """Another run of the same job holds its lock."""


@contextmanager
def one_run(name: str) -> Iterator[None]:
    """Hold the lock ``OPS_STATE_DIR/<name>.lock`` for the duration, or raise ``Busy`` at once.
    The lock is the kernel's (flock): a run that dies releases it with its process."""
    lock_path = Path(settings.OPS_STATE_DIR) / f"{name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(name) from None
        yield
