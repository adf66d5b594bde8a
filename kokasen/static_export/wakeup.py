"""Waking the static export's worker when a task is queued, instead of it polling every half second
(decision 0062, addendum).

django-tasks' ``db_worker`` looks for a task, and when there is none sleeps ``--interval`` seconds:
a publish waited a quarter of a second on average (up to half a second) before the worker even
looked. On PostgreSQL each task queued on a database backend of ``TASKS`` now sends
``NOTIFY kokasen_tasks_<backend>`` (``notify_enqueued``, a receiver of django-tasks'
``task_enqueued``); PostgreSQL delivers it when the enqueuing transaction commits, so the worker
never wakes before the task's row is visible. ``static_export_worker`` (the management command of
kokasen-static-export.service) runs the library's own worker loop in batch mode (it runs every
ready task, then returns) and, in between, waits on a ``LISTEN`` connection of its own for a
notification, or ``--interval`` seconds at most (tasks queued for later, such as the ZIP a minute
after a publish, and any notification lost while the listening connection was down).

On SQLite (development, tests) nothing is sent and the worker simply polls every ``--interval``.
"""

from __future__ import annotations

import logging
import time

from django.db import connections, router

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "kokasen_tasks_"


def channel(backend_alias: str) -> str:
    return CHANNEL_PREFIX + "".join(c if c.isalnum() else "_" for c in backend_alias)


def _database_alias() -> str:
    from django_tasks_db.models import DBTaskResult

    return router.db_for_write(DBTaskResult)


def notify_enqueued(sender, task_result, **_ignored) -> None:
    """Receiver of ``task_enqueued``: tell a listening worker that ``task_result`` is queued."""
    from django_tasks_db.backend import DatabaseBackend

    if not (isinstance(sender, type) and issubclass(sender, DatabaseBackend)):
        return
    connection = connections[_database_alias()]
    if connection.vendor != "postgresql":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [channel(task_result.backend), task_result.task.queue_name])
    except Exception:  # the task is queued all the same: the worker finds it at its next look
        log.warning("could not notify the worker of task %s", task_result.id, exc_info=True)


class Listener:
    """A connection of its own that LISTENs on a backend's channel (PostgreSQL only).

    ``wait(timeout)`` returns True when a notification came, False after ``timeout`` seconds
    without one. Without PostgreSQL, or while the connection cannot be made, it just sleeps."""

    def __init__(self, backend_alias: str, database_alias: str | None = None):
        self.channel = channel(backend_alias)
        self.database_alias = database_alias
        self.connection = None

    def _connect(self):
        import psycopg
        from psycopg import sql

        wrapper = connections[self.database_alias or _database_alias()]
        if wrapper.vendor != "postgresql":
            return None
        params = wrapper.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        params.pop("prepare_threshold", None)
        connection = psycopg.connect(**params, autocommit=True)
        connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        return connection

    def listening(self) -> bool:
        if self.connection is None or self.connection.closed:
            try:
                self.connection = self._connect()
            except Exception:
                log.warning("cannot LISTEN for queued tasks; polling instead", exc_info=True)
                self.connection = None
        return self.connection is not None

    def wait(self, timeout: float) -> bool:
        if not self.listening():
            time.sleep(timeout)
            return False
        try:
            # Each generator is run to its end: an unfinished one keeps the connection's lock.
            if not list(self.connection.notifies(timeout=timeout, stop_after=1)):
                return False
            # Several publishes in a row: one look at the queue serves them all.
            list(self.connection.notifies(timeout=0))
            return True
        except Exception:
            log.warning("the LISTEN connection failed; it is opened again", exc_info=True)
            self.close()
        return False

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection = None
