"""The access facts of an account, read once and kept in the cache (issue 19).

Every request of a logged-in user asks who they are: their groups (自治体, 管理者, 受託者) and
whether they hold Wagtail's ``access_admin`` permission (anyone who could enter an admin logs
in with TOTP). Asked of the database, that is two queries per request on top of Django's own
fetch of the user row. Here they are read once and kept in the two-level cache
(``core.caching.versioned``) under a key that names their version:

    accounts:facts:<user id>:<local government id>:<generation>

The *generation* (``core.generations``) is replaced whenever any account's facts may have
changed: a user's groups or own permissions (``m2m_changed`` of ``User.groups`` and
``User.user_permissions``, from either side), a user deleted, a registered address saved or
deleted (the first one is a form's default), a group, permission or local government saved or
deleted, a group's permissions changed. One generation for all accounts (decision 0068): it is
one of the small keys every request reads in the same round trip as its session
(``core.request_cache``), which a key per user could not be, since the user is known only from
the session. These changes are rare (an administrator's edit, a provisioning run); after one,
each account reads its facts again once (four indexed queries). Replaced at once and again when
the transaction commits, so a request that read the old rows during the transaction cannot keep
them under the new token.

What the user row itself says (``is_active``, ``is_superuser``, ``is_staff``, the password,
``local_government_id``) is not cached here: it comes with the session, under a generation of
its own that every write to a user row replaces, a queryset update included
(``accounts/user_rows.py``, decision 0069), and the session hash check logs out a session whose
password changed. The local
government's row (its name is in the header) comes with the facts, for the user's current
``local_government_id`` only (it is in the key). A disabled account is therefore refused on its
next request. Entries also expire after ``FACTS_SECONDS``, so a change that sends no signal (a
raw SQL update) shows within that time anyway. When the shared cache is down, every request
reads the database (nothing is kept, see ``core.resilient_cache``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from kokasen.core import caching, request_cache
from kokasen.core.generations import Generation

FACTS_SECONDS = 300
GLOBAL_KEY = "accounts:facts-generation"
GENERATION = Generation(GLOBAL_KEY)


@dataclass(frozen=True)
class Facts:
    """What the database says about an account's roles (not its row's own flags)."""

    group_names: frozenset[str]
    admin_permission: bool  # holds wagtailadmin.access_admin through a group or directly
    local_government: object = None  # the LocalGovernment row of the user's local_government_id
    first_address: str = ""  # the first of a local government's registered addresses (a form's default)


def _read(user_id, local_government_id=None) -> Facts:
    from django.contrib.auth.models import Group, Permission

    from kokasen.localgov.models import LocalGovernment

    names = frozenset(Group.objects.filter(user__id=user_id).values_list("name", flat=True))
    admin = Permission.objects.filter(
        Q(user__id=user_id) | Q(group__user__id=user_id),
        codename="access_admin",
        content_type__app_label="wagtailadmin",
    ).exists()
    from .models import RegisteredAddress

    government = LocalGovernment.objects.filter(pk=local_government_id).first() if local_government_id else None
    first = (
        RegisteredAddress.objects.filter(user_id=user_id).order_by("position").values_list("address", flat=True).first()
    )
    return Facts(group_names=names, admin_permission=admin, local_government=government, first_address=first or "")


def facts_for(user) -> Facts:
    """The facts of a saved user, from the cache when their version is current."""
    government_id = getattr(user, "local_government_id", None)
    generation = GENERATION.current()  # prefetched with the request's session
    if not generation:  # the shared cache is down: read, keep nothing
        return _read(user.pk, government_id)
    return caching.versioned(
        f"accounts:facts:{user.pk}:{government_id}:{generation}",
        lambda: _read(user.pk, government_id),
        FACTS_SECONDS,
    )


def attach_local_government(user, facts: Facts) -> None:
    """Give ``user.local_government`` the cached row (no query when the header shows its name)."""
    government = facts.local_government
    if government is None or government.pk != getattr(user, "local_government_id", None):
        return
    field = user._meta.get_field("local_government")
    if not field.is_cached(user):
        field.set_cached_value(user, government)


def prefetch_keys(request) -> list[str]:
    """The generation a request with a session reads (``core.request_cache``)."""
    return [GLOBAL_KEY] if request_cache.has_session_cookie(request) else []


def all_changed() -> None:
    """Any account's facts may have changed (its groups, permissions, addresses): there is one
    generation for all (see the module's text), replaced now and on commit."""
    GENERATION.changed()


# --- receivers (connected in accounts/apps.py) -------------------------------------------------


def on_user_deleted(sender, instance, **kwargs):
    """A deleted user's facts must not serve a new user given the same id (SQLite reuses ids).
    Saving a user changes nothing here (the facts come from other rows; the local government's
    id is in the key), so a login's ``last_login`` write leaves every cached fact in place."""
    all_changed()


def on_address_saved_or_deleted(sender, instance, **kwargs):
    all_changed()


def on_user_m2m_changed(sender, instance, action, **kwargs):
    """``user.groups`` / ``user.user_permissions`` changed, from either side."""
    if action.startswith("post_"):
        all_changed()


def on_roles_changed(sender, **kwargs):
    """A group, permission or local government saved or deleted, or a group's permissions changed."""
    action = kwargs.get("action")
    if action is None or action.startswith("post_"):
        all_changed()


def connect() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from .models import RegisteredAddress

    User = get_user_model()
    for signal, name in ((post_save, "save"), (post_delete, "delete")):
        signal.connect(
            on_address_saved_or_deleted, sender=RegisteredAddress, dispatch_uid=f"kokasen-facts-address-{name}"
        )
    post_delete.connect(on_user_deleted, sender=User, dispatch_uid="kokasen-facts-user-delete")
    m2m_changed.connect(on_user_m2m_changed, sender=User.groups.through, dispatch_uid="kokasen-facts-groups")
    m2m_changed.connect(
        on_user_m2m_changed, sender=User.user_permissions.through, dispatch_uid="kokasen-facts-user-perms"
    )
    m2m_changed.connect(on_roles_changed, sender=Group.permissions.through, dispatch_uid="kokasen-facts-group-perms")
    from kokasen.localgov.models import LocalGovernment

    for model in (Group, Permission, LocalGovernment):
        post_save.connect(on_roles_changed, sender=model, dispatch_uid=f"kokasen-facts-{model.__name__}-save")
        post_delete.connect(on_roles_changed, sender=model, dispatch_uid=f"kokasen-facts-{model.__name__}-delete")
