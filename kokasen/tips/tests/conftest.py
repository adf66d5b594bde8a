"""The 小ネタ board's own fixtures; the personas (member_a, member_b, agency_admin, operator) and
the cache reset before each test are in kokasen/conftest.py."""

from datetime import timedelta

import pytest
from django.utils import timezone


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
