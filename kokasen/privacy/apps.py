from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "kokasen.privacy"
    label = "privacy"
    verbose_name = "個人情報の管理"
