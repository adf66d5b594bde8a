from django.apps import AppConfig


class LocalgovConfig(AppConfig):
    name = "kokasen.localgov"
    verbose_name = "地方公共団体"
