"""The published pages' background task (decision 0061): rewriting the files of the pages that
show a published page, or every file when the menus, footer or settings changed. It runs on the
``static_export`` database backend of ``TASKS`` (django-tasks' database backend, decision 0054),
in the queue the static export's worker already drains (``db_worker``, started every 30 s by
kokasen-static-export.timer), never inside the publishing request."""

from django_tasks import task

QUEUE = "static_export"


@task(backend="static_export", queue_name=QUEUE)
def refresh_published_pages(page_ids: list[int] | None = None) -> str:
    """``page_ids``: the pages to rewrite; None: every file (and the old ones removed)."""
    from . import published_files

    if page_ids is None:
        result = published_files.write_all()
        return f"written {result['written']}, removed {result['removed']}"
    return f"written {published_files.write_pages(page_ids)} of {len(page_ids)}"
