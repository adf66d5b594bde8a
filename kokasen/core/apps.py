from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kokasen.core"
    verbose_name = "共通"
