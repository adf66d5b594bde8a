from django.apps import AppConfig


class StaticExportConfig(AppConfig):
    name = "kokasen.static_export"
    verbose_name = "静的サイト書き出し"

    def ready(self):
        from wagtail.signals import page_published, page_unpublished

        from . import publishing

        page_published.connect(publishing.page_changed, dispatch_uid="static_export_page_published")
        page_unpublished.connect(publishing.page_changed, dispatch_uid="static_export_page_unpublished")
