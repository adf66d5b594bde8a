from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "kokasen.feedback"
    verbose_name = "意見箱"
