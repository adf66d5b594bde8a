from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from kokasen.accounts import roles
from kokasen.accounts.models import RegisteredAddress
from kokasen.testing import CODE_A, CODE_B, make_member, make_staff


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # rate-limit counters must not leak between tests
    yield
    cache.clear()


@pytest.fixture
def member_a(db):
    user = make_member(CODE_A)
    RegisteredAddress.objects.create(user=user, address="kosodate@city.sapporo.example.jp")
    return user


@pytest.fixture
def member_b(db):
    return make_member(CODE_B)


@pytest.fixture
def agency_admin(db):
    user = make_staff(roles.AGENCY_ADMIN, username="agency-admin")
    user.email = "admin@cfa.example.go.jp"
    user.save()
    return user


@pytest.fixture
def operator(db):
    user = make_staff(roles.OPERATOR, username="operator")
    user.email = "ops@contractor.example.jp"
    user.save()
    return user


@pytest.fixture
def topic(db):
    from kokasen.tips.models import Topic

    return Topic.objects.create(
        title="初回訪問時の自己紹介の言葉は？",
        description="座談会で出た質問です。",
        origin=Topic.Origin.ROUNDTABLE,
        opens_at=timezone.now() - timedelta(days=1),
        closes_at=timezone.now() + timedelta(days=14),
    )


@pytest.fixture
def board(db):
    from kokasen.tips.models import BoardSettings

    return BoardSettings.load()


def set_mode(mode, **values):
    """Change the settings directly (tests of the admin screen use the service)."""
    from kokasen.tips.models import BoardSettings

    board = BoardSettings.load()
    board.mode = mode
    for name, value in values.items():
        setattr(board, name, value)
    board.save()
    return board
