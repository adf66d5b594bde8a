"""The static export's worker woken by PostgreSQL NOTIFY instead of polling every half second
(decision 0062, addendum): a task queued on a database backend notifies the backend's channel,
the worker's own LISTEN connection wakes on it, and ``static_export_worker`` runs django-tasks-db's
worker in batch mode between waits."""

from unittest import mock

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from kokasen.static_export import tasks, wakeup
from kokasen.static_export.management.commands import static_export_worker

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres", "connect_timeout": 3}


class FakeCursor:
    def __init__(self, sent):
        self.sent = sent

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, params):
        self.sent.append((sql, params))


class FakeConnection:
    def __init__(self, vendor):
        self.vendor, self.sent = vendor, []

    def cursor(self):
        return FakeCursor(self.sent)


@pytest.mark.django_db
@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_a_task_queued_on_the_database_backend_notifies_its_channel_on_postgresql(vendor):
    fake = FakeConnection(vendor)
    with mock.patch.object(wakeup, "connections", {"default": fake}):
        result = tasks.zip_published_export.enqueue()
    assert DBTaskResult.objects.filter(pk=result.id).exists()
    if vendor == "postgresql":
        assert fake.sent == [("SELECT pg_notify(%s, %s)", ["kokasen_tasks_static_export", "static_export"])]
    else:
        assert fake.sent == []


def test_a_notification_failure_leaves_the_task_queued(caplog):
    class Broken(FakeConnection):
        def cursor(self):
            raise RuntimeError("connection lost")

    task_result = mock.Mock(backend="static_export", id="x")
    from django_tasks_db.backend import DatabaseBackend

    with mock.patch.object(wakeup, "connections", {"default": Broken("postgresql")}):
        wakeup.notify_enqueued(DatabaseBackend, task_result=task_result)  # no exception
    assert "could not notify" in caplog.text


class FakeListener:
    def __init__(self):
        self.waits = []

    def wait(self, timeout):
        self.waits.append(timeout)
        return True


@pytest.mark.django_db
def test_the_worker_runs_every_ready_task_between_waits(settings):
    settings.STATIC_EXPORT_PUBLISH_DIR = None  # the tasks have nothing to do but finish
    first, second = tasks.zip_published_export.enqueue(), tasks.update_published_export.enqueue()
    listener = FakeListener()
    worker = static_export_worker.db_worker.Worker(
        queue_names=["static_export"],
        interval=2.0,
        batch=True,
        backend_name="static_export",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        static_export_worker.serve(worker, listener, 2.0, rounds=2)
    statuses = {str(pk): status for pk, status in DBTaskResult.objects.values_list("pk", "status")}
    assert statuses == {first.id: "SUCCESSFUL", second.id: "SUCCESSFUL"}
    assert listener.waits == [2.0]  # one wait between the two batches, with the interval as its limit


@pytest.mark.django_db
def test_the_command_runs_with_the_unit_files_options(settings):
    settings.STATIC_EXPORT_PUBLISH_DIR = None
    done = tasks.update_published_export.enqueue()
    serve = static_export_worker.serve
    with (
        mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"),
        mock.patch.object(static_export_worker, "serve", lambda *args: serve(*args, rounds=1)),
    ):
        call_command(
            "static_export_worker",
            "--backend",
            "static_export",
            "--queue-name",
            "static_export",
            "--interval",
            "2",
            "--no-reload",
        )
    assert DBTaskResult.objects.get(pk=done.id).status == "SUCCESSFUL"


def test_the_listener_wakes_on_a_notification_and_otherwise_waits_out_its_interval():
    """Against the PostgreSQL of 127.0.0.1:5432 that .ci/run provides (no skip: without it the
    test fails, saying the connection was refused)."""
    import psycopg

    class PostgreSQL:  # the database's settings as Django's PostgreSQL backend gives them
        vendor = "postgresql"

        def get_connection_params(self):
            return {**PG, "cursor_factory": psycopg.ClientCursor, "context": None, "prepare_threshold": None}

    listener = wakeup.Listener("static_export", database_alias="default")
    patched = mock.patch.object(wakeup, "connections", {"default": PostgreSQL()})
    patched.start()
    try:
        assert listener.listening()
        assert listener.wait(0.2) is False  # nothing sent: the interval passes
        with psycopg.connect(**PG, autocommit=True) as other:
            other.execute("SELECT pg_notify(%s, %s)", [listener.channel, "static_export"])
            other.execute("SELECT pg_notify(%s, %s)", [listener.channel, "static_export"])
        assert listener.wait(60) is True
        listener.wait(0.2)  # the second one, unless it came with the first (no assertion: timing)
        listener.connection.close()  # a dropped connection: the next wait opens a new one
        with psycopg.connect(**PG, autocommit=True) as other:
            assert listener.wait(0.1) is False
            other.execute("SELECT pg_notify(%s, %s)", [listener.channel, "static_export"])
        assert listener.wait(60) is True
    finally:
        patched.stop()
        listener.close()
