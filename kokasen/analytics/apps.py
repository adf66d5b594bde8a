from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "kokasen.analytics"
    label = "analytics"
    verbose_name = "アクセス解析"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from kokasen.pages.signals import search_found_nothing

        from .searches import on_search_found_nothing

        # the live search's zero-result searches (decision 0057); pages cannot import analytics
        search_found_nothing.connect(on_search_found_nothing, dispatch_uid="analytics.zero_result_searches")
