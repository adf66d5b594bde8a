from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "kokasen.ops"
    label = "ops"
    verbose_name = "運用"
