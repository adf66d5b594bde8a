"""「運用・セキュリティ」 in Wagtail's admin menu, for 管理者 and 受託者 (decision 0030)."""

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import Menu

from kokasen.accounts.admin_menu import StaffMenuItem, StaffSubmenuMenuItem


@hooks.register("register_admin_urls")
def register_ops_urls():
    from . import admin_views as views

    urls = [
        path("", views.alerts_index, name="index"),
        path("alerts/<int:pk>/", views.alert_detail, name="alert"),
        path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="acknowledge"),
        path("history/", views.alert_history, name="history"),
        path("audit/", views.audit_trail, name="audit"),
    ]
    return [path("ops/", include((urls, "ops_admin"), namespace="ops_admin"))]


@hooks.register("register_admin_menu_item")
def register_ops_menu_item():
    menu = Menu(
        items=[
            StaffMenuItem("アラート", reverse("ops_admin:index"), name="ops-alerts", icon_name="warning", order=1),
            StaffMenuItem(
                "アラートの履歴", reverse("ops_admin:history"), name="ops-history", icon_name="history", order=2
            ),
            StaffMenuItem("監査ログ", reverse("ops_admin:audit"), name="ops-audit", icon_name="list-ul", order=3),
        ]
    )
    return StaffSubmenuMenuItem("運用・セキュリティ", menu, name="ops", icon_name="warning", order=9050)
