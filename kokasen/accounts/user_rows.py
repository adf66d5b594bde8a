"""The session's user row, kept in the shared cache beside the session (issue 19, decision 0069).

Every request of a logged-in user needs their row (``is_active``, the password hash the session
is checked against, ``local_government_id``…). Read from PostgreSQL it was the one statement left
on a members' page served from the page cache, and with it the only round trip to the database
(and the connection's health check): about 30 % of the page's throughput under load (decision
0069). Here a GET or HEAD takes it from the same ``get_many`` as its session and the generations
(``core.request_cache``), under a key named by the session's cookie:

    accounts:user-row:<field names' digest>:<session key> → (generation, user id, field values)

An entry counts only when its *generation* (``core.generations``) is the current one, its user
id is the session's and its fields are the model's of this release (the digest). The generation
is replaced, at once and again when the transaction commits, by every write to a user row the
application can make:

- ``save()`` of a user (``post_save``), except a login's ``last_login`` alone (the session that
  logged in is a new one and reads its row afresh; no check reads ``last_login``) and a new user
  (no session can name it);
- a user deleted (``post_delete``; a queryset's ``delete()`` sends it for every row);
- ``update()`` of a users' queryset (``UserQuerySet``, the model's manager), which is how
  Wagtail's bulk 利用停止 disables accounts and how ``bulk_update`` writes; no signal is sent;
- a migration run (``post_migrate``).

What remains is a change written beside the application (SQL typed in ``psql``, another
program): entries live ``ROW_SECONDS``, so it shows within that time; docs/security.md says to
disable an account in the admin, not by SQL. POST and other methods do not use this: a form sent,
a password changed, a log-out read the row from the database, as before. When the shared cache
is down nothing is kept and every request reads the database.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import models

from kokasen.core import request_cache
from kokasen.core.generations import Generation

from .sessions import looks_like_a_key

ROW_SECONDS = 60
GENERATION_KEY = "accounts:user-rows-generation"
GENERATION = Generation(GENERATION_KEY)

_layout: dict = {}


def _fields(model) -> tuple[list[str], str]:
    """The concrete fields' attribute names in ``Model.from_db``'s order, and their digest (an
    entry written by a release with other fields is never read as this one's)."""
    found = _layout.get(model)
    if found is None:
        names = [field.attname for field in model._meta.concrete_fields]
        digest = hashlib.sha256(" ".join(names).encode()).hexdigest()[:12]
        found = _layout[model] = (names, digest)
    return found


def _key(session_key: str) -> str:
    return f"accounts:user-row:{_fields(get_user_model())[1]}:{session_key}"


def prefetch_keys(request) -> list[str]:
    """The generation and the row of the cookie's session (``core.request_cache``)."""
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    return [GENERATION_KEY, _key(session_key)] if looks_like_a_key(session_key) else []


def for_request(request, user_id, read):
    """The user ``user_id`` of ``request``'s session: the kept row when it is current, else
    ``read(user_id)`` (a user or None), kept for the session's next request."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if not looks_like_a_key(session_key):
        return read(user_id)
    generation = GENERATION.current()
    if not generation:  # the shared cache is down: keep nothing
        return read(user_id)
    model = get_user_model()
    names, _ = _fields(model)
    key = _key(session_key)
    kept = request_cache.get(key)
    if (
        isinstance(kept, tuple)
        and len(kept) == 3
        and kept[0] == generation
        and str(kept[1]) == str(user_id)
        and len(kept[2]) == len(names)
    ):
        return model.from_db(model.objects.db, names, kept[2])
    user = read(user_id)
    if isinstance(user, model):
        cache.set(key, (generation, user.pk, tuple(getattr(user, name) for name in names)), ROW_SECONDS)
        request_cache.forget(key)
    return user


# --- what replaces the generation ----------------------------------------------------------------


def changed(*args, **kwargs) -> None:
    """Some user row may have changed: every kept row is read again (now and at commit)."""
    GENERATION.changed()


class UserQuerySet(models.QuerySet):
    """A users' queryset whose ``update()`` (no signal is sent) replaces the generation."""

    def update(self, **kwargs):
        rows = super().update(**kwargs)
        changed()
        return rows

    update.alters_data = True
    update.queryset_only = False  # on the manager too: User.objects.update(...)


def on_user_saved(sender, instance, created=False, update_fields=None, **kwargs):
    if created or (update_fields is not None and set(update_fields) == {"last_login"}):
        return
    changed()


def connect() -> None:
    from django.db.models.signals import post_delete, post_migrate, post_save

    User = get_user_model()
    post_save.connect(on_user_saved, sender=User, dispatch_uid="kokasen-user-rows-save")
    post_delete.connect(changed, sender=User, dispatch_uid="kokasen-user-rows-delete")
    post_migrate.connect(changed, dispatch_uid="kokasen-user-rows-migrate")
