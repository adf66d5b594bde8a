from django.apps import AppConfig


class TipsConfig(AppConfig):
    name = "kokasen.tips"
    verbose_name = "小ネタ"
