"""The sample 小ネタ and 意見箱 of ``load_demo`` (issue 17, item 9): a living board, idempotent."""

import pytest
from django.urls import reverse

from kokasen.core.models import AuditEvent
from kokasen.demo import board as demo
from kokasen.demo.loader import DEMO_MEMBER_CODE
from kokasen.feedback.models import Opinion
from kokasen.testing import login_member
from kokasen.tips.models import Post, PostState, Topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(tmp_path, monkeypatch):
    from kokasen.demo import loader

    for name in ("ADMIN_PASSWORD_FILE", "ADMIN_ENROLMENT_FILE", "MEMBER_PASSWORD_FILE"):
        monkeypatch.setattr(loader, name, tmp_path / f"{name}.txt")  # never the developer's var/
    assert demo.load_board_demo(log=lambda *a: None) == 2


def test_open_and_past_topics_with_posts_in_every_state_and_opinions_in_every_status(loaded, client):
    current = Topic.objects.get(title=demo.OPEN_TITLE)
    past = Topic.objects.get(title=demo.PAST_TITLE)
    assert current.is_open and not past.is_open and past.is_visible
    states = sorted(Post.objects.filter(topic=current).values_list("state", flat=True))
    assert states == sorted([PostState.APPROVED] * 3 + [PostState.PENDING, PostState.REJECTED])
    assert set(Post.objects.filter(topic=past).values_list("state", flat=True)) == {PostState.APPROVED}
    assert len(set(Post.objects.values_list("local_government", flat=True))) == 3
    assert sorted(Opinion.objects.values_list("status", flat=True)) == sorted(Opinion.Status.values)
    assert AuditEvent.objects.filter(action="tips.post_rejected").exists()

    # The demo member sees both topics, and its own waiting and rejected posts with the reason.
    from django.contrib.auth import get_user_model

    login_member(client, get_user_model().objects.get(username=DEMO_MEMBER_CODE))
    index = client.get(reverse("tips:index")).content.decode()
    assert demo.OPEN_TITLE in index and demo.PAST_TITLE in index
    page = client.get(reverse("tips:topic", args=[current.pk])).content.decode()
    assert "個人が特定されるおそれ" in page and "要保護児童対策地域協議会" in page


def test_a_second_run_changes_nothing(loaded):
    before = (Topic.objects.count(), Post.objects.count(), Opinion.objects.count(), AuditEvent.objects.count())
    lines = []
    assert demo.load_board_demo(log=lines.append) == 0
    assert lines == ["小ネタ・意見箱のサンプル: 作成済みです。"]
    assert (Topic.objects.count(), Post.objects.count(), Opinion.objects.count(), AuditEvent.objects.count()) == before
