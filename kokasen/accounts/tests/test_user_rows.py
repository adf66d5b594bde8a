"""The session's user row kept beside the session (accounts/user_rows.py, decision 0069): a warm
GET reads no user row, and every write to a user row the application makes counts on the next
request: Wagtail's bulk 利用停止 through the admin, a queryset update, a save, a deletion. A
login's ``last_login`` write and a new account keep the kept rows; an entry of another user or
another release is never used."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import update_last_login
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kokasen.accounts import roles, user_rows
from kokasen.testing import CODE_A, CODE_B, login_member, login_staff, make_member, make_staff

pytestmark = pytest.mark.django_db

HOME = "/members/"


def _member_client(member) -> Client:
    client = Client()
    login_member(client, member)
    return client


def _user_reads(client) -> tuple[int, int]:
    """(status, statements reading the users' table) of one GET of the members' home."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(HOME)
    return response.status_code, sum('FROM "accounts_user"' in q["sql"] for q in queries)


def _warm(client) -> None:
    client.get(HOME)
    assert _user_reads(client) == (200, 0)


def test_the_first_get_reads_the_row_and_the_next_ones_do_not(demo_site):
    client = _member_client(make_member(CODE_A))
    assert _user_reads(client) == (200, 1)
    assert _user_reads(client) == (200, 0)
    assert _user_reads(client) == (200, 0)


def test_wagtails_bulk_deactivation_in_the_admin_ends_the_members_next_request(demo_site):
    superuser = make_staff(roles.AGENCY_ADMIN)
    superuser.is_superuser = True  # Wagtail's user screens are for superusers here
    superuser.save()
    admin = Client()
    login_staff(admin, superuser)
    member = make_member(CODE_A)
    client = _member_client(member)
    _warm(client)
    url = reverse("wagtail_bulk_action", args=("accounts", "user", "set_active_state")) + f"?id={member.pk}"
    response = admin.post(url, {"mark_as_active": "False"})
    assert response.status_code == 302, response.content.decode()[:500]
    member.refresh_from_db()
    assert member.is_active is False  # the bulk action ran (a queryset update, no signal)
    status, reads = _user_reads(client)
    assert status == 302 and reads == 1  # read afresh, refused: sent to the login


@pytest.mark.parametrize("write", ["update", "update_other_user", "save", "bulk_update", "delete"])
def test_a_write_to_any_user_row_is_read_on_the_next_request(demo_site, write):
    member, other = make_member(CODE_A), make_member(CODE_B)
    client = _member_client(member)
    _warm(client)
    User = get_user_model()
    if write == "update":
        User.objects.filter(pk=member.pk).update(first_name="更新")
    elif write == "update_other_user":
        User.objects.filter(pk=other.pk).update(first_name="更新")
    elif write == "save":
        member.first_name = "更新"
        member.save()
    elif write == "bulk_update":
        member.first_name = "更新"
        User.objects.bulk_update([member], ["first_name"])
    else:
        other.delete()
    assert _user_reads(client) == (200, 1)
    assert _user_reads(client) == (200, 0)


def test_a_login_elsewhere_and_a_new_account_keep_the_rows(demo_site):
    member = make_member(CODE_A)
    client = _member_client(member)
    _warm(client)
    update_last_login(None, make_member(CODE_B))  # another login's last_login write (Django's receiver)
    get_user_model().objects.create_user("new-account-for-test", password="x-" * 8)
    assert _user_reads(client) == (200, 0)


def test_an_entry_naming_another_user_or_other_fields_is_not_used(demo_site):
    member, other = make_member(CODE_A), make_member(CODE_B)
    client = _member_client(member)
    _warm(client)
    key = user_rows._key(client.session.session_key)
    generation, pk, values = cache.get(key)
    assert pk == member.pk
    names, _ = user_rows._fields(get_user_model())
    others = tuple(getattr(other, name) for name in names)
    cache.set(key, (generation, other.pk, others))  # another account's row under this session's key
    assert _user_reads(client) == (200, 1)
    assert cache.get(key)[1] == member.pk  # the session's own row, read and kept again
    cache.set(key, (generation, member.pk, values[:-1]))  # a release with other fields wrote it
    assert _user_reads(client) == (200, 1)


def test_without_the_shared_cache_every_request_reads_the_row(demo_site, monkeypatch):
    client = _member_client(make_member(CODE_A))
    _warm(client)
    monkeypatch.setattr(user_rows.GENERATION, "current", lambda: "")  # what a Redis outage gives
    assert _user_reads(client) == (200, 1)
    assert _user_reads(client) == (200, 1)
