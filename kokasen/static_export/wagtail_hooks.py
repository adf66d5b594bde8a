"""「静的サイトの書き出し」 in Wagtail's admin menu, for 管理者 and 受託者 (decision 0054)."""

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import Menu

from kokasen.accounts.admin_menu import StaffMenuItem, StaffSubmenuMenuItem


@hooks.register("register_admin_urls")
def register_static_export_urls():
    from . import admin_views as views

    urls = [
        path("", views.index, name="index"),
        path("start/", views.start, name="start"),
        path("builds/<int:pk>/download/", views.download, name="download"),
        path("compare/", views.compare, name="compare"),
        path("preview/<str:structure>/<str:design>/<int:page_id>/", views.preview, name="preview"),
    ]
    return [path("static-export/", include((urls, "static_export_admin"), namespace="static_export_admin"))]


@hooks.register("register_admin_menu_item")
def register_static_export_menu_item():
    menu = Menu(
        items=[
            StaffMenuItem(
                "書き出しとダウンロード",
                reverse("static_export_admin:index"),
                name="static-export-builds",
                icon_name="download",
                order=1,
            ),
            StaffMenuItem(
                "見比べる（構成・デザイン）",
                reverse("static_export_admin:compare"),
                name="static-export-compare",
                icon_name="view",
                order=2,
            ),
        ]
    )
    return StaffSubmenuMenuItem("静的サイトの書き出し", menu, name="static-export", icon_name="download", order=9040)
