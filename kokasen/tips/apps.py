from django.apps import AppConfig


class TipsConfig(AppConfig):
    name = "kokasen.tips"
    verbose_name = "小ネタ"

    def ready(self):
        from kokasen.core import request_cache

        from .models import SETTINGS_CACHE_KEY

        def prefetch_keys(request, user_id):  # the topic pages show the settings (load_for_display)
            return [SETTINGS_CACHE_KEY] if request.path.startswith("/members/tips/") else []

        request_cache.register(prefetch_keys)
