"""Admin menu 「情報交換会」 (管理者 and 受託者 with TOTP passed): meetings, rosters, grouping,
rooms, exports, invitations and the implementation report."""

from django.urls import include, path, reverse
from wagtail import hooks

from kokasen.accounts.admin_menu import StaffMenuItem

from . import admin_views, admin_views_grouping, admin_views_report


@hooks.register("register_admin_urls")
def register_meetings_admin_urls():
    urls = admin_views.urlpatterns + admin_views_grouping.urlpatterns + admin_views_report.urlpatterns
    return [path("meetings/", include((urls, "meetings_admin"), namespace="meetings_admin"))]


@hooks.register("register_admin_menu_item")
def register_meetings_menu():
    return StaffMenuItem("情報交換会", reverse("meetings_admin:index"), name="meetings", icon_name="group", order=8100)
