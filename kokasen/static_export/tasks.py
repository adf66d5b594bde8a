"""The static export's background tasks, on the ``static_export`` backend of ``TASKS``
(django-tasks' database backend; the long-lived worker ``static_export_worker`` runs them): builds queued from
the admin (decision 0054), and the published folder kept current on publish (decision 0062)."""

from django_tasks import task

QUEUE = "static_export"
# The published folder's update goes before the other tasks waiting in the queue (the rewrite of
# the live site's dependent pages that the same publish queued, decision 0061; an admin build):
# the publish → published site path is the one with a target (under a second, decision 0062).
UPDATE_PRIORITY = 10


@task(backend="static_export", queue_name=QUEUE)
def build_static_export(build_id: int) -> str:
    from . import builds

    return builds.run_build(build_id)


@task(backend="static_export", queue_name=QUEUE, priority=UPDATE_PRIORITY)
def update_published_export() -> dict:
    from . import publishing

    return publishing.update()


@task(backend="static_export", queue_name=QUEUE)
def zip_published_export() -> dict:
    from . import publishing

    return publishing.write_zip()
