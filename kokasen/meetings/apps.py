from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "kokasen.meetings"
    verbose_name = "情報交換会"
