"""Repeated failures lock the ACCOUNT and throttle the ADDRESS, without stopping other local
governments; staff see and release locks; every attempt is audited (issue 3; 統一基準)."""

import threading

import pytest
from axes.models import AccessAttempt
from django.db import connections
from django.test import Client
from django.utils import timezone

from kokasen.accounts import lockout, roles
from kokasen.core.models import AuditEvent
from kokasen.localgov.models import LocalGovernment
from kokasen.testing import CODE_A, login_member, login_staff, make_member, make_staff

from .login_helpers import PASSWORD, clean_cache, events, is_logged_in, login  # noqa: F401

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.66"
SECURITY_URL = "/admin/login-security/"


def other_local_governments(n: int):
    """n more local governments with their own accounts and passwords."""
    codes = list(LocalGovernment.objects.exclude(code=CODE_A).order_by("code").values_list("code", flat=True)[:n])
    return [make_member(code, password=f"{PASSWORD}-{code}") for code in codes]


def logs_in(code: str, address: str) -> bool:
    client = Client()
    response = login(client, code, f"{PASSWORD}-{code}", address=address)
    return response.status_code == 302 and response["Location"] == "/members/" and is_logged_in(client)


def test_twenty_wrong_passwords_lock_the_account_and_throttle_the_address_while_others_log_in():
    victim = make_member(CODE_A, password=PASSWORD)
    others = other_local_governments(10)
    attacker = Client()
    statuses = []
    for attempt in range(1, 21):
        statuses.append(login(attacker, CODE_A, f"guess-{attempt}", address=ATTACKER).status_code)
        if attempt % 2 == 0:  # meanwhile, other local governments log in from their own addresses
            other = others[attempt // 2 - 1]
            assert logs_in(other.username, f"198.51.100.{attempt}"), f"{other.username} after attempt {attempt}"
    # 1–9 wrong password; the 10th locks the account; 11–20 are refused without a password check.
    assert statuses == [200] * 9 + [429] * 11
    assert events("login.failed", target_label=CODE_A).count() == 10
    assert events("login.locked_out", target_label=CODE_A).count() == 10
    assert events("lockout.started", target_label=CODE_A).count() == 1
    assert lockout.address_limit().count(ATTACKER) == 20

    # The account is locked: even the right password is refused, from any address.
    response = login(Client(), CODE_A, PASSWORD, address="198.51.100.200")
    assert response.status_code == 429 and "ログインを一時的に停止しています" in response.content.decode()
    # The address is throttled: even another account's right password is refused there.
    response = login(Client(), others[0].username, f"{PASSWORD}-{others[0].username}", address=ATTACKER)
    assert response.status_code == 429 and "ネットワーク" in response.content.decode()
    assert events("login.throttled", ip_address=ATTACKER).count() == 1
    # Other local governments elsewhere are not affected.
    assert all(logs_in(o.username, "198.51.100.201") for o in others)
    assert victim.pk and not AuditEvent.objects.filter(action="login.succeeded", target_id=str(victim.pk)).exists()


def test_an_attack_running_in_a_thread_does_not_stop_others_logging_in():
    """The attack runs in its own thread while other local governments log in from the main
    thread, in whatever order the scheduler picks. Like Django's LiveServerThread, the thread
    shares the test's database connection (so that the test stays inside its transaction and
    leaves the database as it found it); one connection serves one request at a time, so each
    request holds a lock: the requests interleave at random, they do not overlap."""
    make_member(CODE_A, password=PASSWORD)
    others = other_local_governments(6)
    shared_connection, gate = connections["default"], threading.Lock()
    errors, attack_statuses = [], []
    started = threading.Event()

    def attack():
        connections["default"] = shared_connection
        try:
            client = Client()
            for attempt in range(20):
                with gate:
                    attack_statuses.append(login(client, CODE_A, f"guess-{attempt}", address=ATTACKER).status_code)
                started.set()
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            started.set()

    shared_connection.inc_thread_sharing()
    try:
        thread = threading.Thread(target=attack)
        thread.start()
        started.wait(30)
        results = []
        for i, other in enumerate(others):
            with gate:
                results.append(logs_in(other.username, f"198.51.100.{50 + i}"))
        thread.join(120)
    finally:
        shared_connection.dec_thread_sharing()
    assert not errors and not thread.is_alive()
    assert results == [True] * len(others)
    assert attack_statuses == [200] * 9 + [429] * 11
    assert login(Client(), CODE_A, PASSWORD, address="198.51.100.99").status_code == 429
    assert lockout.address_throttled(ATTACKER)


def test_a_lock_on_an_unknown_code_looks_the_same_as_on_a_real_one(settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_member(CODE_A, password=PASSWORD)
    pages = {}
    for code, address in ((CODE_A, "198.51.100.31"), ("999999", "198.51.100.32")):
        client = Client()
        for _ in range(3):
            login(client, code, "wrong", address=address)
        response = login(Client(), code, "wrong", address=address)
        assert response.status_code == 429
        pages[code] = response.content.decode()
    assert pages[CODE_A] == pages["999999"]
    assert CODE_A not in pages[CODE_A]


def test_a_success_resets_the_count_so_only_failures_in_a_row_lock(settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_member(CODE_A, password=PASSWORD)
    for _ in range(3):
        login(Client(), CODE_A, "wrong")
        login(Client(), CODE_A, "wrong")
        assert login(Client(), CODE_A, PASSWORD).status_code == 302
    assert not events("lockout.started").exists()


def test_the_lock_ends_by_itself_after_the_cool_off(settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_member(CODE_A, password=PASSWORD)
    for _ in range(3):
        login(Client(), CODE_A, "wrong")
    assert login(Client(), CODE_A, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timezone.timedelta(seconds=1))
    assert login(Client(), CODE_A, PASSWORD).status_code == 302


def test_the_address_slow_down_ends_with_its_window(settings):
    import time

    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 2
    settings.LOGIN_ADDRESS_WINDOW_SECONDS = 1
    make_member(CODE_A, password=PASSWORD)
    login(Client(), CODE_A, "wrong", address=ATTACKER)
    login(Client(), CODE_A, "wrong", address=ATTACKER)
    assert login(Client(), CODE_A, PASSWORD, address=ATTACKER).status_code == 429
    time.sleep(1.1)
    assert login(Client(), CODE_A, PASSWORD, address=ATTACKER).status_code == 302


# --- staff see and release locks --------------------------------------------------------------


def lock(code: str, *, address: str = ATTACKER, times: int = 10):
    client = Client()
    for attempt in range(times):
        login(client, code, f"guess-{attempt}", address=address)


def test_staff_see_the_lock_and_release_it_and_the_release_is_audited(client):
    make_member(CODE_A, password=PASSWORD)
    lock(CODE_A)
    assert login(Client(), CODE_A, PASSWORD, address="198.51.100.40").status_code == 429
    staff = make_staff(roles.AGENCY_ADMIN)
    login_staff(client, staff)
    html = client.get(SECURITY_URL).content.decode()
    assert "ロック中" in html and CODE_A in html and ATTACKER in html and "ロック解除" in html
    response = client.post(f"{SECURITY_URL}release-account/", {"username": CODE_A})
    assert response.status_code == 302
    event = events("lockout.released").get()
    assert event.actor == staff and event.target_label == CODE_A and event.detail["attempt_records_removed"] >= 1
    assert login(Client(), CODE_A, PASSWORD, address="198.51.100.40").status_code == 302


def test_staff_release_a_throttled_address(client, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 5
    make_member(CODE_A, password=PASSWORD)
    lock(CODE_A, times=5)
    assert lockout.address_throttled(ATTACKER)
    operator = make_staff(roles.OPERATOR)
    login_staff(client, operator)
    html = client.get(SECURITY_URL).content.decode()
    assert "制限中" in html and "制限を解除" in html
    client.post(f"{SECURITY_URL}release-address/", {"address": ATTACKER})
    assert not lockout.address_throttled(ATTACKER)
    assert events("throttle.released").get().actor == operator
    assert client.post(f"{SECURITY_URL}release-address/", {"address": "not an address"}).status_code == 302
    assert events("throttle.released").count() == 1


def test_the_login_events_can_be_filtered_by_result_and_searched_by_account(client):
    make_member(CODE_A, password=PASSWORD)
    member_b = other_local_governments(1)[0]
    login(Client(), CODE_A, "wrong", address="198.51.100.61")
    logs_in(member_b.username, "198.51.100.62")
    login_staff(client, make_staff(roles.AGENCY_ADMIN))
    html = client.get(SECURITY_URL, {"result": "login.failed"}).content.decode()
    events_part = html.split('id="events"', 1)[1]
    assert "198.51.100.61" in events_part and "198.51.100.62" not in events_part
    events_part = client.get(SECURITY_URL, {"q": member_b.username}).content.decode().split('id="events"', 1)[1]
    assert "198.51.100.62" in events_part and "198.51.100.61" not in events_part


def test_only_verified_agency_staff_open_the_screen_or_release(client):
    make_member(CODE_A, password=PASSWORD)
    lock(CODE_A)
    login_member(client, make_member("131016"))
    assert client.get(SECURITY_URL).status_code == 302
    assert client.post(f"{SECURITY_URL}release-account/", {"username": CODE_A}).status_code == 403  # unread (0021)
    unverified = Client()
    unverified.force_login(make_staff(roles.AGENCY_ADMIN))
    assert unverified.get(SECURITY_URL)["Location"].startswith("/login/totp/")
    assert unverified.post(f"{SECURITY_URL}release-account/", {"username": CODE_A}).status_code == 302
    assert not events("lockout.released").exists()
    assert login(Client(), CODE_A, PASSWORD, address="198.51.100.70").status_code == 429
    verified = Client()
    login_staff(verified, make_staff(roles.OPERATOR))
    assert verified.get(SECURITY_URL).status_code == 200
    assert SECURITY_URL in verified.get("/admin/").content.decode()  # the menu item (sidebar JSON)


def test_every_attempt_leaves_an_event_with_account_address_and_result(settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 4
    make_member(CODE_A, password=PASSWORD)
    attempts = [
        (CODE_A, PASSWORD, "198.51.100.81", "login.succeeded"),
        (CODE_A, "wrong", "198.51.100.82", "login.failed"),
        ("999999", "wrong", "198.51.100.83", "login.failed"),
        (CODE_A, "wrong", ATTACKER, "login.failed"),  # 2nd in a row: locks
        (CODE_A, PASSWORD, ATTACKER, "login.locked_out"),
        (CODE_A, PASSWORD, ATTACKER, "login.locked_out"),
        (CODE_A, PASSWORD, ATTACKER, "login.locked_out"),  # 4th failure from ATTACKER
        (CODE_A, PASSWORD, ATTACKER, "login.throttled"),
    ]
    for username, password, address, _ in attempts:
        login(Client(), username, password, address=address)
    attempt_events = AuditEvent.objects.filter(action__in=lockout.LOGIN_ACTIONS).exclude(action="lockout.started")
    attempt_events = attempt_events.order_by("pk")
    assert [(e.target_label, e.ip_address, e.action) for e in attempt_events] == [
        (u, a, action) for u, _, a, action in attempts
    ]
    assert all(e.detail["result"] and e.created_at for e in attempt_events)
