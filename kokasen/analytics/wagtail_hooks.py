"""Wagtail admin hooks of the analytics app, for 管理者 and 受託者: 「アクセス解析」 (the dashboard,
decision 0051; the 効果分析報告書 and its settings, decision 0052) and 「アクセスログの取り込み」
(decision 0057)."""

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import Menu

from kokasen.accounts.admin_menu import StaffMenuItem, StaffSubmenuMenuItem


@hooks.register("register_admin_urls")
def register_analytics_urls():
    from . import admin_views as views

    urls = [
        path("", views.dashboard_view, name="dashboard"),
        path("download/<slug:key>.<str:fmt>", views.download, name="download"),
    ]
    return [path("analytics/", include((urls, "analytics_admin"), namespace="analytics_admin"))]


@hooks.register("register_admin_urls")
def register_report_urls():
    from . import admin_views_report as views

    urls = [
        path("", views.report_list, name="index"),
        path("generate/", views.report_generate, name="generate"),
        path("settings/", views.report_settings, name="settings"),
        path("<int:pk>/", views.report_detail, name="detail"),
        path("<int:pk>/report.docx", views.report_download, {"fmt": "docx"}, name="docx"),
        path("<int:pk>/report.pdf", views.report_download, {"fmt": "pdf"}, name="pdf"),
        path("<int:pk>/report.xlsx", views.report_download, {"fmt": "xlsx"}, name="xlsx"),
    ]
    return [path("analytics/reports/", include((urls, "analytics_report"), namespace="analytics_report"))]


@hooks.register("register_admin_menu_item")
def register_analytics_menu_item():
    menu = Menu(
        items=[
            StaffMenuItem(
                "アクセスの集計",
                reverse("analytics_admin:dashboard"),
                name="analytics-dashboard",
                icon_name="view",
                order=1,
            ),
            StaffMenuItem(
                "効果分析報告書",
                reverse("analytics_report:index"),
                name="analytics-reports",
                icon_name="doc-full",
                order=2,
            ),
            StaffMenuItem(
                "報告書の設定",
                reverse("analytics_report:settings"),
                name="analytics-report-settings",
                icon_name="cog",
                order=3,
            ),
            StaffMenuItem(
                "アクセスログの取り込み",
                reverse("analytics_logs:upload"),
                name="access-log-upload",
                icon_name="upload",
                order=4,
            ),
        ]
    )
    return StaffSubmenuMenuItem("アクセス解析", menu, name="analytics", icon_name="view", order=9040)


@hooks.register("register_admin_urls")
def register_access_log_upload_urls():
    from . import views_upload

    urls = [path("", views_upload.access_log_upload, name="upload")]
    return [path("analytics/access-logs/", include((urls, "analytics_logs"), namespace="analytics_logs"))]
