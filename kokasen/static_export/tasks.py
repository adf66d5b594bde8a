"""The static export's background task (decision 0054), on the ``static_export`` backend of
``TASKS`` (django-tasks' database backend; ``db_worker`` runs it)."""

from django_tasks import task

QUEUE = "static_export"


@task(backend="static_export", queue_name=QUEUE)
def build_static_export(build_id: int) -> str:
    from . import builds

    return builds.run_build(build_id)
