from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "kokasen.pages"
    verbose_name = "公開ページ"
