from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "kokasen.members"
    verbose_name = "会員エリア"

    def ready(self):
        from . import signals, versions

        signals.connect()
        versions.connect()  # cached routes and bodies of the area: a new version on every change
