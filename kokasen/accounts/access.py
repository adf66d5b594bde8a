"""Who may do something, said one way (decision 0026).

Views say it with a decorator at their top, services with one call.

Views, one rule per decorator:

- ``member_required``: a local government's shared account (自治体, ``roles.is_member``).
  A visitor (a disabled account is one) gets the login page, ``/login/?next=…``; any other
  account gets PermissionDenied (403).
- ``staff_required``: 管理者 or 受託者 (or a superuser) whose session passed the TOTP step
  (``roles.is_staff_role``). A visitor gets the login page; a staff session that stopped after
  the password (anyone who logs in with TOTP, ``roles.requires_two_factor``) gets the TOTP step,
  ``/login/totp/?next=…``; any other account gets PermissionDenied.
- ``agency_admin_required``: 管理者 (or a superuser) whose session passed the TOTP step
  (``roles.is_agency_admin``); refusals as ``staff_required``.
- ``kokasen.members.access.members_area_required`` (the fourth word, in the app it guards): the
  readers of the members area, members and verified staff.

PermissionDenied becomes the portal's 403 page (``core.errors``); inside Wagtail's admin,
Wagtail answers it with a redirect to the admin home and 「権限がありません」. There, Wagtail's own
check (``require_admin_access``: visitors and accounts without admin access to the login page)
and ``StaffTwoFactorMiddleware`` (the TOTP step) run before the view, so the decorator only
tells the two staff roles apart; its other branches answer the same as those layers.

Services: ``require(user, role)`` raises PermissionDenied unless ``user`` holds ``role``
(``MEMBER``, ``STAFF``, ``AGENCY_ADMIN``). It checks the role only, by default: services also run
outside a request (commands, tests), where there is no session whose TOTP step could be checked;
the view that calls them checked it at its door. ``verified=True`` demands it too.
"""

import enum
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from . import roles


class Role(enum.Enum):
    MEMBER = "自治体"
    STAFF = "管理者・受託者"
    AGENCY_ADMIN = "管理者"


MEMBER = Role.MEMBER
STAFF = Role.STAFF
AGENCY_ADMIN = Role.AGENCY_ADMIN


def _holds(user, role: Role, *, verified: bool) -> bool:
    if role is MEMBER:
        return bool(roles.is_member(user))
    if role is STAFF:
        return roles.is_staff_role(user, verified=verified)
    if role is AGENCY_ADMIN:
        return roles.is_agency_admin(user, verified=verified)
    raise ValueError(role)


def require(user, role: Role, *, verified: bool = False) -> None:
    """For services (and selectors): PermissionDenied unless ``user`` holds ``role``."""
    if not _holds(user, role, verified=verified):
        raise PermissionDenied


# --- views --------------------------------------------------------------------------------------


def login_page(request):
    """The login page, coming back to this URL afterwards."""
    return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)


def totp_step(request):
    """The TOTP step for a staff session that stopped after the password, coming back here."""
    return redirect(f"{reverse('accounts:login_totp')}?{urlencode({'next': request.get_full_path()})}")


def _guard(view, role: Role, *, totp_step_for_staff: bool):
    @wraps(view)
    def guarded(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return login_page(request)
        if not _holds(user, role, verified=True):
            if totp_step_for_staff and roles.requires_two_factor(user) and not roles.is_verified(user):
                return totp_step(request)
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


def member_required(view):
    """A local government's account; visitors to the login page, any other account 403."""
    return _guard(view, MEMBER, totp_step_for_staff=False)


def staff_required(view):
    """管理者 or 受託者 with the TOTP step passed; visitors to the login page, staff without TOTP
    to the TOTP step, any other account 403."""
    return _guard(view, STAFF, totp_step_for_staff=True)


def agency_admin_required(view):
    """管理者 with the TOTP step passed; visitors to the login page, staff without TOTP to the
    TOTP step, any other account (a 受託者 too) 403."""
    return _guard(view, AGENCY_ADMIN, totp_step_for_staff=True)
