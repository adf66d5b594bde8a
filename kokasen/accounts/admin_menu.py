"""Admin menu entries shown only to staff roles with a verified TOTP session."""

from wagtail.admin.menu import MenuItem, SubmenuMenuItem

from . import roles


class StaffMenuItem(MenuItem):
    """Shown to 管理者 and 受託者 (and superusers)."""

    def is_shown(self, request):
        return roles.is_staff_role(request.user)


class AgencyAdminMenuItem(MenuItem):
    """Shown to 管理者 (and superusers) only."""

    def is_shown(self, request):
        return roles.is_agency_admin(request.user)


class StaffSubmenuMenuItem(SubmenuMenuItem):
    def is_shown(self, request):
        return roles.is_staff_role(request.user)
