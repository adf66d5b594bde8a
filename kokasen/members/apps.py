from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "kokasen.members"
    verbose_name = "会員エリア"

    def ready(self):
        from . import signals

        signals.connect()
