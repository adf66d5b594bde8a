from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kokasen.core"
    verbose_name = "共通"

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        from . import audit_actions_core  # noqa: F401

        # Every app's Japanese labels of its audit actions (kokasen/<app>/audit_actions.py; decision 0053).
        autodiscover_modules("audit_actions")
