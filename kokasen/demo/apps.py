from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "kokasen.demo"
    verbose_name = "サンプルデータ"
