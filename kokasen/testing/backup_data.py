"""The data of the backup test and benchmark: 1,788 member accounts (one per local government,
beside the demo's) and POSTS 小ネタ posts, as a script for ``manage.py shell -c`` (replace POSTS
with a number). Prints the number of local governments, member accounts and new posts."""

SEED = """
from datetime import timedelta
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from kokasen.accounts.models import User
from kokasen.localgov.models import LocalGovernment
from kokasen.tips.models import ModerationMode, Post, PostState, Topic

password = make_password("kokasen-backup-test")  # hashed once: 1,788 hashes would take a minute
governments = list(LocalGovernment.objects.order_by("code"))
taken = set(User.objects.exclude(local_government=None).values_list("local_government_id", flat=True))  # the demo's
User.objects.bulk_create(
    User(username=f"m{g.code}", email=f"kosodate@{g.code}.example.lg.jp", password=password, local_government=g)
    for g in governments
    if g.pk not in taken
)
users = list(User.objects.exclude(local_government=None).order_by("pk"))
now = timezone.now()
topic = Topic.objects.create(title="バックアップ試験のお題", opens_at=now - timedelta(days=30))
Post.objects.bulk_create(
    Post(
        topic=topic,
        author=users[i % len(users)],
        local_government=governments[i % len(governments)],
        body=f"投稿{i}：乳幼児健診の案内を母子手帳アプリでも送っています。\\n「改行」や'引用符'も含む本文。",
        state=PostState.APPROVED,
        initial_state=PostState.PENDING,
        mode_at_submission=ModerationMode.PRE,
        submitted_at=now - timedelta(minutes=i),
        decided_at=now - timedelta(minutes=i - 1),
    )
    for i in range(POSTS)
)
print(len(governments), len(users), Post.objects.filter(topic=topic).count())
"""
