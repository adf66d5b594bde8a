from django.apps import AppConfig


class TipsConfig(AppConfig):
    name = "kokasen.tips"
    verbose_name = "小ネタ"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from kokasen.core import request_cache

        from . import services, topic_cache
        from .models import SETTINGS_CACHE_KEY, Post, Topic

        post_save.connect(services.on_post_written, sender=Post, dispatch_uid="tips-post-saved")
        post_delete.connect(services.on_post_written, sender=Post, dispatch_uid="tips-post-deleted")
        changed = topic_cache.GENERATION.changed
        post_save.connect(changed, sender=Topic, weak=False, dispatch_uid="tips-topic-saved")
        post_delete.connect(changed, sender=Topic, weak=False, dispatch_uid="tips-topic-deleted")

        def prefetch_keys(request):  # the topic pages show the settings (load_for_display)
            return [SETTINGS_CACHE_KEY] if request.path.startswith("/members/tips/") else []

        request_cache.register(prefetch_keys)
        request_cache.register(topic_cache.prefetch_keys)
