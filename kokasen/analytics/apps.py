from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "kokasen.analytics"
    label = "analytics"
    verbose_name = "アクセス解析"
    default_auto_field = "django.db.models.BigAutoField"
