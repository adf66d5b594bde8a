"""Plants one canary string in every kind of store the disposal covers (run in a child process
on a scratch copy of the test database: ``python -m kokasen.privacy.tests.canary CANARY``)."""

import sys


def plant(canary: str) -> None:
    from pathlib import Path

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from kokasen.core.audit import audit_record
    from kokasen.feedback.models import Opinion
    from kokasen.localgov.models import LocalGovernment
    from kokasen.meetings.models import Meeting, Participant
    from kokasen.notifications.services import message_queue
    from kokasen.testing import CODE_A, make_member
    from kokasen.tips.models import ModerationMode, Post, PostState, Topic

    lg = LocalGovernment.objects.get(code=CODE_A)
    user = get_user_model().objects.filter(local_government=lg).first() or make_member(CODE_A)
    meeting = Meeting.objects.create(kind="town", area="west", title="廃棄試験の会議")
    Participant.objects.create(
        meeting=meeting, number=1, local_government=lg, name=f"氏名{canary}", email="p1@example.lg.jp"
    )
    topic = Topic.objects.create(title="廃棄試験のお題", opens_at=timezone.now())
    Post.objects.create(
        topic=topic,
        author=user,
        local_government=lg,
        body="公開された投稿の本文",
        contact_email=f"{canary}@example.lg.jp",
        state=PostState.PUBLISHED,
        mode_at_submission=ModerationMode.PRE,
        initial_state=PostState.PENDING,
    )
    Opinion.objects.create(author=user, local_government=lg, body=f"ご意見{canary}")
    message_queue(kind="canary", to=["someone@example.lg.jp"], subject="件名", body=f"本文{canary}")
    audit_record(action="privacy.canary", detail={"text": f"詳細{canary}"})
    media = Path(settings.MEDIA_ROOT) / "documents"
    media.mkdir(parents=True, exist_ok=True)
    (media / "roster.txt").write_text(f"名簿{canary}", encoding="utf-8")


if __name__ == "__main__":
    import django

    django.setup()
    plant(sys.argv[1])
