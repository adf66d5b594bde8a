"""count_participation: logins per local government and local day from the login audit events,
staff excluded, the same rows however often it runs (issue 15 item 4, the back-fill)."""

import io
from datetime import date, datetime

import pytest
from django.core.management import call_command

from kokasen.analytics.models import LoginDay
from kokasen.testing.traffic import JST, insert_audit

pytestmark = pytest.mark.django_db


def event(when, action, user):
    return {"time": when, "action": action, "ip": "203.0.113.10", "username": user.get_username(), "known": True}


def rows():
    return {(row.day, row.local_government_id): row.logins for row in LoginDay.objects.all()}


def test_logins_per_local_government_and_day_without_staff(member_a, member_b, agency_admin):
    users = {user.get_username(): user for user in (member_a, member_b, agency_admin)}
    insert_audit(
        [
            event(datetime(2026, 11, 4, 9, 0, tzinfo=JST), "login.failed", member_a),
            event(datetime(2026, 11, 4, 9, 1, tzinfo=JST), "login.succeeded", member_a),
            event(datetime(2026, 11, 4, 23, 30, tzinfo=JST), "login.succeeded", member_a),
            event(datetime(2026, 11, 5, 0, 10, tzinfo=JST), "login.succeeded", member_a),  # still 4 Nov in UTC
            event(datetime(2026, 11, 5, 10, 0, tzinfo=JST), "login.succeeded", member_b),
            event(datetime(2026, 11, 4, 9, 5, tzinfo=JST), "login.succeeded", agency_admin),
            event(datetime(2026, 11, 5, 9, 5, tzinfo=JST), "login.succeeded", agency_admin),
        ],
        users=users,
    )
    out = io.StringIO()
    call_command("count_participation", stdout=out)
    assert "4 件" in out.getvalue()
    a, b = member_a.local_government_id, member_b.local_government_id
    expected = {(date(2026, 11, 4), a): 2, (date(2026, 11, 5), a): 1, (date(2026, 11, 5), b): 1}
    assert rows() == expected
    call_command("count_participation", stdout=io.StringIO())
    call_command("count_participation", "--from", "2026-11-05", "--to", "2026-11-05", stdout=io.StringIO())
    assert rows() == expected


def test_the_timers_recount_of_the_last_days_leaves_earlier_days_alone(member_a):
    from django.utils import timezone

    today = timezone.localdate()
    LoginDay.objects.create(day=date(2020, 1, 6), local_government_id=member_a.local_government_id, logins=3)
    insert_audit([event(timezone.now(), "login.succeeded", member_a)], users={member_a.get_username(): member_a})
    call_command("count_participation", "--days", "2", stdout=io.StringIO())
    assert rows() == {(date(2020, 1, 6), member_a.local_government_id): 3, (today, member_a.local_government_id): 1}
