"""The data of the backup test and benchmark: 1,788 member accounts (one per local government,
beside the demo's) and ``posts`` 小ネタ posts, bulk-inserted into the database ``using`` (a
connection alias). ``SEED`` is the same for ``manage.py shell -c`` (replace POSTS with a number);
both print/return the number of local governments, member accounts and new posts."""

from __future__ import annotations


def seed(using: str = "default", posts: int = 10_000) -> tuple[int, int, int]:
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from kokasen.accounts.models import User
    from kokasen.localgov.models import LocalGovernment
    from kokasen.tips.models import ModerationMode, Post, PostState, Topic

    password = make_password("kokasen-backup-test")  # hashed once: 1,788 hashes would take a minute
    governments = list(LocalGovernment.objects.using(using).order_by("code"))
    users = User.objects.db_manager(using)
    taken = set(users.exclude(local_government=None).values_list("local_government_id", flat=True))  # the demo's
    users.bulk_create(
        (
            User(username=f"m{g.code}", email=f"kosodate@{g.code}.example.lg.jp", password=password, local_government=g)
            for g in governments
            if g.pk not in taken
        ),
        batch_size=1000,
    )
    members = list(users.exclude(local_government=None).order_by("pk"))
    now = timezone.now()
    topic = Topic(title="バックアップ試験のお題", opens_at=now - timedelta(days=30))
    topic.save(using=using)
    Post.objects.using(using).bulk_create(
        (
            Post(
                topic=topic,
                author=members[i % len(members)],
                local_government=governments[i % len(governments)],
                body=f"投稿{i}：乳幼児健診の案内を母子手帳アプリでも送っています。\n「改行」や'引用符'も含む本文。",
                state=PostState.APPROVED,
                initial_state=PostState.PENDING,
                mode_at_submission=ModerationMode.PRE,
                submitted_at=now - timedelta(minutes=i),
                decided_at=now - timedelta(minutes=i - 1),
            )
            for i in range(posts)
        ),
        batch_size=2000,
    )
    return len(governments), len(members), Post.objects.using(using).filter(topic=topic).count()


SEED = """
from kokasen.testing.backup_data import seed
print(*seed("default", POSTS))
"""
