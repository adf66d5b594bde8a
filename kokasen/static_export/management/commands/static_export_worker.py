"""The static export's long-lived worker (kokasen-static-export.service, decisions 0054, 0062).

``db_worker`` with the same options, woken by PostgreSQL's NOTIFY when a task is queued
(kokasen.static_export.wakeup) instead of sleeping ``--interval`` between looks: django-tasks-db's
own ``Worker`` runs in batch mode (every ready task, then it returns), and between two batches the
command waits for a notification, or ``--interval`` seconds at most.
"""

from __future__ import annotations

import logging
import time

from django_tasks_db.management.commands import db_worker

from kokasen.static_export.wakeup import Listener

# After a notification, the worker waits this long before it looks: one publish queues two tasks
# a few milliseconds apart (the live site's dependent pages first, decision 0061, then the
# published folder's update), and the look must see both to take the update first (its priority).
SETTLE_SECONDS = 0.05


def serve(
    worker: db_worker.Worker, listener: Listener, interval: float, rounds: int | None = None, settle=SETTLE_SECONDS
) -> None:
    """Run ready tasks, wait for a notification (or ``interval``), again; ``rounds``: stop after
    that many batches (tests)."""
    done = 0
    while worker.running and (rounds is None or done < rounds):
        worker.run()  # batch: returns once no task is ready
        done += 1
        if worker.running and (rounds is None or done < rounds) and listener.wait(interval):
            time.sleep(settle)


class Command(db_worker.Command):
    help = "Run the static export's tasks, woken by PostgreSQL NOTIFY when one is queued (else every --interval)."

    def handle(self, *, verbosity, queue_name, interval, backend_name, worker_id, exclude_queues, **options):
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        worker = db_worker.Worker(
            queue_names=queue_names,
            interval=interval,
            batch=True,
            backend_name=backend_name,
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=exclude_queues.split(",") if exclude_queues else [],
        )
        # Each batch says "Starting worker" and "No more tasks"; the tasks' own lines stay.
        logging.getLogger("django_tasks_db").setLevel(max(logging.WARNING, logging.getLogger("django_tasks_db").level))
        worker.configure_signals()
        listener = Listener(backend_name)
        try:
            serve(worker, listener, interval)
        finally:
            listener.close()
