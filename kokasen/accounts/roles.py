"""Roles are Django groups. This module creates them and their Wagtail permissions.

- 自治体 (MEMBER): the shared login of one local government. No admin access.
- 管理者 (AGENCY_ADMIN): こども家庭庁 staff. Edit, publish and schedule every public page,
  manage images, documents, menu groups and the portal settings.
- 受託者 (OPERATOR): the contractor. Admin access; page editing is submitted for the
  agency's approval (no publish permission).

docs/security.md has the full permission matrix.
"""

from django.contrib.auth.models import Group, Permission

MEMBER = "自治体"
AGENCY_ADMIN = "管理者"
OPERATOR = "受託者"

_PAGE_PERMISSIONS = {
    AGENCY_ADMIN: ["add_page", "change_page", "publish_page", "lock_page", "unlock_page", "bulk_delete_page"],
    OPERATOR: ["add_page", "change_page"],
}
_COLLECTION_PERMISSIONS = {
    AGENCY_ADMIN: [
        ("wagtailimages", "add_image"),
        ("wagtailimages", "change_image"),
        ("wagtailimages", "choose_image"),
        ("wagtailimages", "delete_image"),
        ("wagtaildocs", "add_document"),
        ("wagtaildocs", "change_document"),
        ("wagtaildocs", "choose_document"),
        ("wagtaildocs", "delete_document"),
    ],
    OPERATOR: [
        ("wagtailimages", "add_image"),
        ("wagtailimages", "choose_image"),
        ("wagtaildocs", "add_document"),
        ("wagtaildocs", "choose_document"),
    ],
}
_MODEL_PERMISSIONS = {
    AGENCY_ADMIN: [
        ("wagtailadmin", "access_admin"),
        ("pages", "add_menugroup"),
        ("pages", "change_menugroup"),
        ("pages", "delete_menugroup"),
        ("pages", "change_portalsettings"),
        ("notifications", "add_messagetemplate"),
        ("notifications", "change_messagetemplate"),
        ("notifications", "delete_messagetemplate"),
    ],
    OPERATOR: [
        ("wagtailadmin", "access_admin"),
        ("notifications", "add_messagetemplate"),
        ("notifications", "change_messagetemplate"),
    ],
}


def _permission(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def ensure_role_groups() -> dict[str, Group]:
    """Create the three role groups and grant their permissions (idempotent)."""
    from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

    groups = {name: Group.objects.get_or_create(name=name)[0] for name in (MEMBER, AGENCY_ADMIN, OPERATOR)}
    root_page = Page.get_first_root_node()
    root_collection = Collection.get_first_root_node()
    for name, codenames in _MODEL_PERMISSIONS.items():
        groups[name].permissions.add(*[_permission(app, code) for app, code in codenames])
    if root_page is not None:
        for name, codenames in _PAGE_PERMISSIONS.items():
            for codename in codenames:
                GroupPagePermission.objects.get_or_create(
                    group=groups[name], page=root_page, permission=_permission("wagtailcore", codename)
                )
    if root_collection is not None:
        for name, perms in _COLLECTION_PERMISSIONS.items():
            for app, codename in perms:
                GroupCollectionPermission.objects.get_or_create(
                    group=groups[name], collection=root_collection, permission=_permission(app, codename)
                )
    return groups


def _required_permissions() -> set[tuple[str, str]]:
    wanted = {("wagtailcore", code) for codes in _PAGE_PERMISSIONS.values() for code in codes}
    for perms in (*_COLLECTION_PERMISSIONS.values(), *_MODEL_PERMISSIONS.values()):
        wanted.update(perms)
    return wanted


def ensure_role_groups_after_migrate(sender, **kwargs):
    # post_migrate fires once per app, and each app's permissions appear only with its
    # own signal: act once every permission the roles need exists.
    wanted = _required_permissions()
    found = set(
        Permission.objects.filter(codename__in={code for _, code in wanted}).values_list(
            "content_type__app_label", "codename"
        )
    )
    if wanted <= found:
        ensure_role_groups()


# --- Who someone is: the one place the apps ask -----------------------------------------------

STAFF_GROUPS = (AGENCY_ADMIN, OPERATOR)


def _facts(user):
    """The user's access facts (groups, admin permission): once per request on the user object,
    from the versioned cache of ``facts.py`` (no query while they are current)."""
    cached = getattr(user, "_kokasen_facts", None)
    if cached is None:
        from .facts import attach_local_government, facts_for

        cached = facts_for(user)
        user._kokasen_facts = cached
        attach_local_government(user, cached)
    return cached


def first_registered_address(user) -> str:
    """The first of the account's registered addresses ("" for none), from the cached facts."""
    if not getattr(user, "pk", None) or not getattr(user, "is_authenticated", False):
        return ""
    return _facts(user).first_address


def group_names(user) -> frozenset[str]:
    """The user's group names (cached: see ``facts.py``; a group change shows on the next request)."""
    if not getattr(user, "pk", None) or not getattr(user, "is_authenticated", False):
        return frozenset()
    return _facts(user).group_names


def is_verified(user) -> bool:
    """The session passed the TOTP step (django-otp's OTPMiddleware sets ``is_verified``)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def requires_two_factor(user) -> bool:
    """Anyone who could enter an admin logs in with TOTP: the 管理者 and 受託者 groups,
    superusers, Django ``is_staff`` users and anyone holding ``access_admin``."""
    if user is None or not getattr(user, "pk", None):
        return False
    if user.is_superuser or user.is_staff or group_names(user) & set(STAFF_GROUPS):
        return True
    return _holds_admin_access(user)


def _holds_admin_access(user) -> bool:
    """user.has_perm("wagtailadmin.access_admin") for an active user, from the cached facts
    instead of loading all of the user's permissions (two queries) on every members-area
    request; ModelBackend is the only backend that grants permissions here. ``is_active``
    comes from the user row, fetched on every request."""
    return bool(user.is_active and _facts(user).admin_permission)


def is_member(user) -> bool:
    """A local government's shared account."""
    return (
        getattr(user, "is_authenticated", False)
        and getattr(user, "local_government_id", None) is not None
        and MEMBER in group_names(user)
    )


def is_staff_role(user, *, verified: bool = True) -> bool:
    """管理者 or 受託者 (or a superuser); with ``verified`` (the default, for views) the
    session must also have passed the TOTP step. Services, which also run outside a request
    (commands, tests), check the role only (``verified=False``)."""
    if not getattr(user, "is_authenticated", False):
        return False
    in_role = user.is_superuser or bool(group_names(user) & set(STAFF_GROUPS))
    return in_role and (not verified or is_verified(user))


def is_agency_admin(user, *, verified: bool = True) -> bool:
    """管理者 (or a superuser): the settings only the agency changes."""
    if not getattr(user, "is_authenticated", False):
        return False
    in_role = user.is_superuser or AGENCY_ADMIN in group_names(user)
    return in_role and (not verified or is_verified(user))
