"""「アクセス解析」 in Wagtail's admin menu, for 管理者 and 受託者 (decision 0051)."""

from django.urls import include, path, reverse
from wagtail import hooks

from kokasen.accounts.admin_menu import StaffMenuItem


@hooks.register("register_admin_urls")
def register_analytics_urls():
    from . import admin_views as views

    urls = [
        path("", views.dashboard_view, name="dashboard"),
        path("download/<slug:key>.<str:fmt>", views.download, name="download"),
    ]
    return [path("analytics/", include((urls, "analytics_admin"), namespace="analytics_admin"))]


@hooks.register("register_admin_menu_item")
def register_analytics_menu_item():
    return StaffMenuItem(
        "アクセス解析", reverse("analytics_admin:dashboard"), name="analytics", icon_name="view", order=9040
    )
