"""The access facts of an account, read once and kept in the cache (issue 19).

Every request of a logged-in user asks who they are: their groups (自治体, 管理者, 受託者) and
whether they hold Wagtail's ``access_admin`` permission (anyone who could enter an admin logs
in with TOTP). Asked of the database, that is two queries per request on top of Django's own
fetch of the user row. Here they are read once and kept in the two-level cache
(``core.caching.versioned``) under a key that names their version:

    accounts:facts:<user id>:<global generation>:<user generation>

- the *user generation* is replaced whenever the user's groups or own permissions change
  (``m2m_changed`` of ``User.groups`` and ``User.user_permissions``) or the user row is saved
  or deleted;
- the *global generation* is replaced whenever a group's permissions change, or a group or
  permission is saved or deleted (a renamed group changes every member's facts);
- both are replaced at once and again when the transaction commits, so a request that read
  the old rows during the transaction cannot keep them under the new key.

Both generations are read in one round trip to the shared cache on every request, so a change
made by any worker takes effect on the next request in every worker. What the user row itself
says (``is_active``, ``is_superuser``, ``is_staff``, the password, ``local_government_id``) is
not cached here: Django fetches that row on every request anyway (``ModelBackend.get_user``),
and the session hash check logs out a session whose password changed. (Caching the user object
itself in the session would save that one query too, but then a disabled account or a changed
password would depend on every write path sending a signal; the row read by primary key is
the floor we keep.) The local government's row (its name is in the header) comes with the
facts, for the user's current ``local_government_id`` only; a change to the master data
replaces the global generation. A disabled account is therefore refused on its next request. Entries also
expire after ``FACTS_SECONDS``, so a change that sends no signal (a raw SQL update) shows
within that time anyway. When the shared cache is down, every request reads the database
(nothing is kept, see ``core.resilient_cache``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q

from kokasen.core import caching, request_cache

FACTS_SECONDS = 300
GLOBAL_KEY = "accounts:facts-generation"


def _user_key(user_id) -> str:
    return f"accounts:facts-generation:{user_id}"


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


def _generations(user_id) -> tuple[str, str]:
    keys = (GLOBAL_KEY, _user_key(user_id))
    found = request_cache.get_many(keys)  # prefetched with the request's other keys
    missing = [key for key in keys if key not in found]
    for key in missing:  # first use, the cache was flushed or evicted the key: a new token, never an old one
        cache.add(key, secrets.token_hex(6), None)
        request_cache.forget(key)
    if missing:
        found = cache.get_many(keys)
    return found.get(GLOBAL_KEY) or "", found.get(_user_key(user_id)) or ""


def facts_for(user) -> Facts:
    """The facts of a saved user, from the cache when their version is current."""
    government_id = getattr(user, "local_government_id", None)
    global_generation, user_generation = _generations(user.pk)
    if not global_generation or not user_generation:  # the shared cache is down: read, keep nothing
        return _read(user.pk, government_id)
    return caching.versioned(
        f"accounts:facts:{user.pk}:{government_id}:{global_generation}:{user_generation}",
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


def _replace(key: str) -> None:
    cache.set(key, secrets.token_hex(6), None)
    request_cache.forget(key)


def prefetch_keys(request, user_id) -> list[str]:
    """The generations a request of this session reads (``core.request_cache``)."""
    return [GLOBAL_KEY, _user_key(user_id)] if user_id is not None else []


def _replace_now_and_on_commit(key: str) -> None:
    _replace(key)
    transaction.on_commit(lambda: _replace(key))


def user_changed(user_id) -> None:
    _replace_now_and_on_commit(_user_key(user_id))


def all_changed() -> None:
    _replace_now_and_on_commit(GLOBAL_KEY)


# --- receivers (connected in accounts/apps.py) -------------------------------------------------


def on_user_saved_or_deleted(sender, instance, **kwargs):
    if instance.pk is not None:
        user_changed(instance.pk)


def on_address_saved_or_deleted(sender, instance, **kwargs):
    user_changed(instance.user_id)


def on_user_m2m_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """``user.groups`` / ``user.user_permissions`` changed, from either side."""
    if not action.startswith("post_"):
        return
    from django.contrib.auth import get_user_model

    if isinstance(instance, get_user_model()):
        user_changed(instance.pk)
    elif action == "post_clear" or not pk_set:  # group.user_set.clear(): whose, we no longer know
        all_changed()
    else:  # group.user_set.add(user, …): the users are pk_set
        for user_id in pk_set:
            user_changed(user_id)


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
    post_save.connect(on_user_saved_or_deleted, sender=User, dispatch_uid="kokasen-facts-user-save")
    post_delete.connect(on_user_saved_or_deleted, sender=User, dispatch_uid="kokasen-facts-user-delete")
    m2m_changed.connect(on_user_m2m_changed, sender=User.groups.through, dispatch_uid="kokasen-facts-groups")
    m2m_changed.connect(
        on_user_m2m_changed, sender=User.user_permissions.through, dispatch_uid="kokasen-facts-user-perms"
    )
    m2m_changed.connect(on_roles_changed, sender=Group.permissions.through, dispatch_uid="kokasen-facts-group-perms")
    from kokasen.localgov.models import LocalGovernment

    for model in (Group, Permission, LocalGovernment):
        post_save.connect(on_roles_changed, sender=model, dispatch_uid=f"kokasen-facts-{model.__name__}-save")
        post_delete.connect(on_roles_changed, sender=model, dispatch_uid=f"kokasen-facts-{model.__name__}-delete")
