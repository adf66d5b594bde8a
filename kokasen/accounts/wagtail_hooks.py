"""Wagtail admin hooks of the accounts app. Each feature registers its own URLs and menu
items in its own functions below."""

from django.templatetags.static import static
from django.urls import include, path, reverse
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.menu import Menu

from . import views_admin_security
from .admin_menu import AgencyAdminMenuItem, StaffMenuItem, StaffSubmenuMenuItem

# --- 「ログインとロック」 (login security; docs/decisions/0007-login-security.md) ---------------


@hooks.register("register_admin_urls")
def register_security_urls():
    urls = [
        path("", views_admin_security.security_index, name="index"),
        path("release-account/", views_admin_security.security_release_account, name="release_account"),
        path("release-address/", views_admin_security.security_release_address, name="release_address"),
    ]
    return [path("login-security/", include((urls, "accounts_security"), namespace="accounts_security"))]


@hooks.register("register_admin_menu_item")
def register_security_menu_item():
    return StaffMenuItem(
        "ログインとロック", reverse("accounts_security:index"), name="login-security", icon_name="lock", order=9000
    )


# --- 「自治体アカウント」 (provisioning; docs/decisions/0008-provisioning-and-credentials.md) --


@hooks.register("register_admin_urls")
def register_account_urls():
    from . import views_admin_accounts as views

    urls = [
        path("", views.accounts_index, name="index"),
        path("<int:pk>/<str:action>/", views.account_action, name="action"),
        path("import/", views.address_list_upload, name="import"),
        path("import/confirm/", views.address_list_confirm, name="import_confirm"),
        path("outbox/", views.outbox_index, name="outbox"),
    ]
    return [path("local-government-accounts/", include((urls, "accounts_admin"), namespace="accounts_admin"))]


@hooks.register("register_admin_menu_item")
def register_accounts_menu_item():
    menu = Menu(
        items=[
            StaffMenuItem(
                "アカウント一覧", reverse("accounts_admin:index"), name="accounts", icon_name="group", order=1
            ),
            StaffMenuItem(
                "アドレス一覧の取り込み",
                reverse("accounts_admin:import"),
                name="accounts-import",
                icon_name="upload",
                order=2,
            ),
            StaffMenuItem("送信メール", reverse("accounts_admin:outbox"), name="outbox", icon_name="mail", order=3),
        ]
    )
    return StaffSubmenuMenuItem(
        "自治体アカウント", menu, name="local-government-accounts", icon_name="group", order=8900
    )


# --- 「職員の二要素認証」 (enrolment invitations; docs/decisions/0020-staff-enrolment-invitations.md)


@hooks.register("register_admin_urls")
def register_enrolment_urls():
    from . import views_admin_enrolment as views

    urls = [
        path("", views.staff_two_factor_index, name="index"),
        path("<int:pk>/<str:action>/", views.staff_two_factor_action, name="action"),
    ]
    return [path("staff-two-factor/", include((urls, "accounts_enrolment"), namespace="accounts_enrolment"))]


@hooks.register("register_admin_menu_item")
def register_enrolment_menu_item():
    return AgencyAdminMenuItem(
        "職員の二要素認証", reverse("accounts_enrolment:index"), name="staff-two-factor", icon_name="key", order=9010
    )


# --- 「回復コード」 (one's own recovery codes; docs/decisions/0053-japanese-admin-and-recovery-codes.md)


@hooks.register("register_admin_urls")
def register_recovery_code_urls():
    from . import views_admin_recovery as views

    urls = [path("", views.recovery_codes_screen, name="index")]
    return [path("recovery-codes/", include((urls, "accounts_recovery"), namespace="accounts_recovery"))]


@hooks.register("register_account_menu_item")
def recovery_codes_account_item(request):
    """A link on Wagtail's account screen (its 「その他の操作」 tab) for staff with an app."""
    from . import roles, two_factor

    if not roles.is_staff_role(request.user) or not two_factor.confirmed_devices(request.user).exists():
        return None
    return {
        "url": reverse("accounts_recovery:index"),
        "label": "回復コード",
        "help_text": "認証アプリを使えないときにログインで使う、1回限りのコードです。残りの数の確認と、新しいコードの作成ができます。",
    }


# --- Wagtail's own menu in the request's language (decision 0053) ----------------------------


@hooks.register("construct_main_menu")
def whats_new_in_the_request_language(request, menu_items):
    """Wagtail 8 formats 「What's new in Wagtail X」 once, in the language of the first request
    after start-up, and keeps it: formatted again here, from locale/ja's translation."""
    from django.utils.translation import gettext
    from wagtail.utils.version import get_main_version

    for item in menu_items:
        if item.name != "help":
            continue
        for child in item.menu.registered_menu_items:
            if child.name.startswith("whats-new-in-wagtail-"):
                version = get_main_version(include_patch=False)
                child.label = gettext("What's new in Wagtail %(version)s") % {"version": version}


# --- The login's end, warned before it comes (JIS X 8341-3 2.2.1, decision 0066) -----------------
# The dialog itself comes from templates/wagtailadmin/admin_base.html (this hook has no request).


@hooks.register("insert_global_admin_css")
def session_timeout_css():
    return format_html('<link rel="stylesheet" href="{}">', static("css/components/session-timeout.css"))
