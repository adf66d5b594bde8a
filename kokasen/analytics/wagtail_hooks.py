"""Wagtail admin hooks of the analytics app, for 管理者 and 受託者: 「アクセス解析」 (decision 0051)
and 「アクセスログの取り込み」 (decision 0057)."""

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


@hooks.register("register_admin_urls")
def register_access_log_upload_urls():
    from . import views_upload

    urls = [path("", views_upload.access_log_upload, name="upload")]
    return [path("analytics/access-logs/", include((urls, "analytics_logs"), namespace="analytics_logs"))]


@hooks.register("register_admin_menu_item")
def register_access_log_upload_menu_item():
    return StaffMenuItem(
        "アクセスログの取り込み",
        reverse("analytics_logs:upload"),
        name="access-log-upload",
        icon_name="upload",
        order=9041,
    )
