"""Admin menu 「意見箱」 (管理者 and 受託者 only)."""

from django.urls import include, path, reverse
from wagtail import hooks

from kokasen.accounts.admin_menu import StaffMenuItem

from . import admin_views


@hooks.register("register_admin_urls")
def register_feedback_admin_urls():
    urls = [
        path("", admin_views.index, name="index"),
        path("<int:pk>/", admin_views.detail, name="detail"),
        path("export.<str:fmt>", admin_views.export, name="export"),
    ]
    return [path("feedback/", include((urls, "feedback_admin"), namespace="feedback_admin"))]


@hooks.register("register_admin_menu_item")
def register_feedback_menu():
    return StaffMenuItem("意見箱", reverse("feedback_admin:index"), name="feedback", icon_name="mail", order=8100)
