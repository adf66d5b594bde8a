"""Wagtail admin hooks of the accounts app. Each feature registers its own URLs and menu
items in its own functions below."""

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import two_factor, views_admin_security

# --- 「ログインとロック」 (login security; docs/decisions/0007-login-security.md) ---------------


@hooks.register("register_admin_urls")
def register_security_urls():
    urls = [
        path("", views_admin_security.security_index, name="index"),
        path("release-account/", views_admin_security.security_release_account, name="release_account"),
        path("release-address/", views_admin_security.security_release_address, name="release_address"),
    ]
    return [path("login-security/", include((urls, "accounts_security"), namespace="accounts_security"))]


class SecurityMenuItem(MenuItem):
    def is_shown(self, request):
        return two_factor.is_security_staff(request.user)


@hooks.register("register_admin_menu_item")
def register_security_menu_item():
    return SecurityMenuItem(
        "ログインとロック", reverse("accounts_security:index"), name="login-security", icon_name="lock", order=9000
    )
