from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kokasen.notifications"
    verbose_name = "通知メール"

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        # Each app declares the e-mails it sends in its mail_kinds.py (emails.register) and, if
        # it owns a secret, how the sender writes it (emails.register_slot_filler).
        autodiscover_modules("mail_kinds")
