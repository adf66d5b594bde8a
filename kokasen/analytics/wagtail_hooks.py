"""Wagtail admin hooks of the analytics app. Each feature registers its own URLs and menu items
in its own functions below."""

from django.urls import include, path, reverse
from wagtail import hooks

from kokasen.accounts.admin_menu import StaffMenuItem

# --- 「アクセスログの取り込み」 (uploaded access logs; docs/decisions/0057) --------------------


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
        order=8950,
    )
