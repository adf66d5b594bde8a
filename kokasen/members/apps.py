from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "kokasen.members"
    verbose_name = "会員エリア"

    def ready(self):
        from . import signals, versions

        signals.connect()
        from kokasen.core import request_cache

        request_cache.register(versions.prefetch_keys)  # one round trip for the request's generations
        versions.connect()  # cached routes and bodies of the area: a new version on every change
