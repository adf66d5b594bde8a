from django.apps import AppConfig


class StaticExportConfig(AppConfig):
    name = "kokasen.static_export"
    verbose_name = "静的サイト書き出し"
