"""Django's ``ModelBackend`` with the session's user row kept beside the session, or read by a
statement compiled once per database connection (issue 19).

Every request of a logged-in user needs their row (``get_user``). A GET or HEAD takes it from the
shared cache in the same round trip as its session when it is current (``accounts/user_rows.py``,
decision 0069: every write to a user row the application makes replaces it); otherwise it is
read from the database. That read was a fifth of the worker's CPU when built through the ORM (a
QuerySet, a WHERE clause, the SQL compiler): only the SQL text, the columns and the value
converters are kept, exactly as the ORM made them for ``filter(pk=…)``, and the user object is
built as the ORM builds it (``Model.from_db``). Anything unusual (a query the ORM compiles with
more than the one parameter) takes Django's own path.
"""

from __future__ import annotations

import weakref

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db import connections, router

from kokasen.core import request_cache

from . import user_rows

_compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # connection → (sql, fields, compiler, converters)


def _statement(model, using):
    connection = connections[using]
    found = _compiled.get(connection)
    if found is None:
        query = model._default_manager.db_manager(using).filter(pk=0).query
        compiler = query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        if (
            len(params) != 1
            or compiler.annotation_col_map
            or len(compiler.klass_info["select_fields"]) != len(compiler.select)
        ):
            found = (None, None, None, None)
        else:
            fields = [column[0].target.attname for column in compiler.select]
            converters = compiler.get_converters([column[0] for column in compiler.select])
            found = (sql, fields, compiler, converters)
        _compiled[connection] = found
    return found


def user_by_pk(user_id):
    """The user whose primary key is ``user_id`` (None if there is none), read by one
    statement; ``NotImplemented`` when the fast path does not apply."""
    model = get_user_model()
    using = router.db_for_read(model)
    sql, fields, compiler, converters = _statement(model, using)
    if sql is None:
        return NotImplemented
    value = model._meta.pk.get_db_prep_value(model._meta.pk.to_python(user_id), connections[using])
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:
        row = next(iter(compiler.apply_converters([row], converters)))
    return model.from_db(using, fields, row)


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id):
        request = request_cache.current_request()
        if request is None:
            user = self._read(user_id)
        else:
            user = user_rows.for_request(request, user_id, self._read)
        return user if user is not None and self.user_can_authenticate(user) else None

    def _read(self, user_id):
        user = user_by_pk(user_id)
        if user is NotImplemented:  # Django's own read (it checks nothing more than the row)
            return DjangoModelBackend.get_user(self, user_id)
        return user
