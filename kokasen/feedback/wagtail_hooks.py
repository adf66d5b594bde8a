"""Admin menu 「意見箱」 (管理者 and 受託者 only): Wagtail's listing (ModelViewSet) with our detail screen."""

from django.urls import reverse
from wagtail import hooks
from wagtail.permissions import register_permission_policy

from kokasen.accounts.admin_menu import StaffMenuItem

from . import admin_views
from .models import Opinion

# Before anything asks Wagtail for Opinion's policy (it would create a default one).
register_permission_policy(Opinion, admin_views.policy)


@hooks.register("register_admin_viewset")
def register_feedback_viewset():
    return admin_views.OpinionViewSet()


@hooks.register("register_admin_menu_item")
def register_feedback_menu():
    return StaffMenuItem("意見箱", reverse("feedback_admin:index"), name="feedback", icon_name="mail", order=8100)
