"""The session's user row read by a statement compiled once (accounts/backends.py): the same
user as the ORM gives, field by field, on SQLite and PostgreSQL, and read every time outside a
GET (a GET keeps it beside the session: test_user_rows.py)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kokasen.accounts.backends import ModelBackend, user_by_pk
from kokasen.testing import CODE_A, make_member

pytestmark = pytest.mark.django_db


def test_the_user_is_the_one_the_orm_gives_field_by_field():
    member = make_member(CODE_A)
    User = get_user_model()
    User.objects.filter(pk=member.pk).update(last_login=timezone.now(), password_issued=True)
    expected = User.objects.get(pk=member.pk)
    found = user_by_pk(str(member.pk))  # the session stores the key as text
    assert type(found) is User and found._state.adding is False and found._state.db == "default"
    for field in User._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
        assert type(getattr(found, field.attname)) is type(getattr(expected, field.attname)), field.name


def test_every_request_reads_the_row_a_disabled_account_counts_at_once():
    member = make_member(CODE_A)
    backend = ModelBackend()
    assert backend.get_user(member.pk).pk == member.pk
    get_user_model().objects.filter(pk=member.pk).update(is_active=False)  # no signal, as Wagtail's bulk action
    with CaptureQueriesContext(connection) as queries:
        assert backend.get_user(member.pk) is None
    assert len(queries) == 1
    assert backend.get_user(member.pk + 1000) is None
