"""「運用・セキュリティ」 in Wagtail's admin menu, for 管理者 and 受託者 (decisions 0030, 0034)."""

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import Menu

from kokasen.accounts.admin_menu import StaffMenuItem, StaffSubmenuMenuItem


@hooks.register("register_admin_urls")
def register_ops_urls():
    from . import admin_views as views
    from . import admin_views_incidents as more

    urls = [
        path("", views.alerts_index, name="index"),
        path("alerts/<int:pk>/", views.alert_detail, name="alert"),
        path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="acknowledge"),
        path("history/", views.alert_history, name="history"),
        path("audit/", views.audit_trail, name="audit"),
        path("contacts/", more.contact_list, name="contacts"),
        path("contacts/add/", more.contact_edit, name="contact_add"),
        path("contacts/<int:pk>/", more.contact_edit, name="contact"),
        path("contacts/<int:pk>/delete/", more.contact_delete, name="contact_delete"),
        path("incidents/", more.incident_list, name="incidents"),
        path("incidents/add/", more.incident_edit, name="incident_add"),
        path("incidents/<int:pk>/", more.incident_detail, name="incident"),
        path("incidents/<int:pk>/edit/", more.incident_edit, name="incident_edit"),
        path("incidents/<int:pk>/entries/", more.incident_entry, name="incident_entry"),
        path("incidents/<int:pk>/report.docx", more.incident_report, {"fmt": "docx"}, name="incident_docx"),
        path("incidents/<int:pk>/report.pdf", more.incident_report, {"fmt": "pdf"}, name="incident_pdf"),
        path("reports/", more.report_list, name="reports"),
        path("reports/<int:year>/<int:month>/", more.report_month, name="report"),
        path("reports/<int:year>/<int:month>/report.docx", more.report_download, {"fmt": "docx"}, name="report_docx"),
        path("reports/<int:year>/<int:month>/report.pdf", more.report_download, {"fmt": "pdf"}, name="report_pdf"),
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
            StaffMenuItem(
                "事故の記録", reverse("ops_admin:incidents"), name="ops-incidents", icon_name="doc-full", order=4
            ),
            StaffMenuItem("緊急連絡先", reverse("ops_admin:contacts"), name="ops-contacts", icon_name="user", order=5),
            StaffMenuItem("月次報告", reverse("ops_admin:reports"), name="ops-reports", icon_name="date", order=6),
        ]
    )
    return StaffSubmenuMenuItem("運用・セキュリティ", menu, name="ops", icon_name="warning", order=9050)
