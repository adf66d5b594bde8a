from django.apps import AppConfig


class StaticExportConfig(AppConfig):
    name = "kokasen.static_export"
    verbose_name = "静的サイト書き出し"

    def ready(self):
        from django_tasks_db.compat import task_enqueued
        from wagtail.signals import page_published, page_unpublished

        from . import publishing, wakeup

        page_published.connect(publishing.page_changed, dispatch_uid="static_export_page_published")
        page_unpublished.connect(publishing.page_changed, dispatch_uid="static_export_page_unpublished")
        # A queued task wakes the long-lived worker at once (PostgreSQL NOTIFY; decision 0062).
        task_enqueued.connect(wakeup.notify_enqueued, dispatch_uid="static_export_wake_worker")
