"""A login's end made known and extended on request (JIS X 8341-3 2.2.1, decision 0066)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from kokasen.testing import login_member, login_staff

pytestmark = pytest.mark.django_db


def stored_expiry(client) -> timezone.datetime:
    return SessionStore(client.cookies[settings.SESSION_COOKIE_NAME].value).get_expiry_date()


def backdate(client, seconds_left: int) -> None:
    session = client.session
    session.set_expiry(timezone.now() + timedelta(seconds=seconds_left))
    session.save()


def test_extension_gives_a_new_full_age_and_keeps_the_totp_state(agency_admin):
    client = Client(enforce_csrf_checks=False)
    login_staff(client, agency_admin)
    backdate(client, 120)
    device = client.session[DEVICE_ID_SESSION_KEY]
    assert client.get("/session/").json()["seconds_left"] <= 120

    response = client.post("/session/")

    assert response.status_code == 200
    answer = response.json()
    assert settings.SESSION_COOKIE_AGE - 5 <= answer["seconds_left"] <= settings.SESSION_COOKIE_AGE
    assert answer["extensions_left"] == settings.SESSION_EXTENSIONS_MAX - 1
    assert stored_expiry(client) > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 5)
    assert client.session[DEVICE_ID_SESSION_KEY] == device
    assert client.get("/admin/").status_code == 200  # still a verified staff session


def test_the_expiry_is_fixed_at_login_and_a_page_view_does_not_move_it(member_a):
    client = Client()
    login_member(client, member_a)
    before = stored_expiry(client)
    assert abs((before - timezone.now()).total_seconds() - settings.SESSION_COOKIE_AGE) < 5
    client.get("/members/tips/")
    assert stored_expiry(client) == before


def test_logged_in_pages_carry_the_seconds_left_and_public_pages_for_visitors_do_not(member_a):
    client = Client()
    login_member(client, member_a)
    backdate(client, 600)
    page = client.get("/members/tips/").content.decode()
    assert 'id="session-timeout"' in page and 'role="alertdialog"' in page
    seconds = int(page.split('data-seconds-left="')[1].split('"')[0])
    assert 590 <= seconds <= 600
    assert "js/session-timeout.js" in page
    visitor = Client().get("/").content.decode()
    assert "session-timeout" not in visitor


def test_an_admin_screen_carries_the_warning(agency_admin):
    client = Client()
    login_staff(client, agency_admin)
    page = client.get("/admin/").content.decode()
    assert 'id="session-timeout"' in page and "css/components/session-timeout.css" in page


def test_a_visitor_an_ended_session_and_an_unverified_staff_session_cannot_extend(member_a, agency_admin):
    visitor = Client()
    assert visitor.post("/session/").status_code == 403
    assert visitor.get("/session/").json() == {"seconds_left": 0, "extensions_left": 0}

    ended = Client()
    login_member(ended, member_a)
    backdate(ended, -1)
    response = ended.post("/session/")
    assert response.status_code == 403
    assert response.json()["seconds_left"] == 0
    assert ended.get("/members/tips/").status_code == 302  # logged out: the login page

    unverified = Client()
    unverified.force_login(agency_admin)  # the password step only
    assert unverified.post("/session/").status_code == 403


def test_extension_needs_the_csrf_token(member_a):
    client = Client(enforce_csrf_checks=True)
    login_member(client, member_a)
    assert client.post("/session/").status_code == 403


def test_extensions_stop_at_the_cap(member_a, settings):
    settings.SESSION_EXTENSIONS_MAX = 2
    client = Client()
    login_member(client, member_a)
    assert client.post("/session/").status_code == 200
    assert client.post("/session/").json()["extensions_left"] == 0
    refused = client.post("/session/")
    assert refused.status_code == 409
    assert refused.json()["extensions_left"] == 0
    page = client.get("/members/tips/").content.decode()
    assert 'data-extensions-left="0"' in page
