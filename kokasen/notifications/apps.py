from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kokasen.notifications"
    verbose_name = "通知メール"
