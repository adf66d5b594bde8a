"""Sample (サンプル) 小ネタ topics and posts and 意見箱 opinions for ``manage.py load_demo``
(``make run``), so that the members' board and the staff's queues look lived in:

- an open topic with approved posts from three local governments, one still waiting for approval
  and one rejected with its reason (the demo member, 大阪府豊中市, sees its own waiting and
  rejected posts on the topic page);
- a past topic (closed) with its approved posts;
- four opinions, one in each status (未対応, 対応中, 対応済, 対応しない), with internal notes.

Everything goes through the services (post_submit, post_approve, post_reject, topic_close,
opinion_submit, opinion_update) as the demo member, two sample local-government accounts (no
usable password: they only author samples) and the demo admin, so the audit trail reads like a
real one. Contact addresses are example.lg.jp only; no e-mail is queued (the sample accounts have
no registered address).

Idempotent: nothing is written when the open sample topic already exists.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from kokasen.accounts import roles
from kokasen.feedback import services as feedback
from kokasen.feedback.models import Opinion
from kokasen.localgov.models import LocalGovernment
from kokasen.tips import services as tips
from kokasen.tips.models import BoardSettings, ModerationMode, Topic

from .loader import DEMO_MEMBER_CODE, ensure_demo_member
from .meetings import demo_admin

OPEN_TITLE = "【サンプル】乳幼児健診の未受診家庭への声かけ、どう工夫していますか"
PAST_TITLE = "【サンプル】転入してきた子育て家庭への最初の連絡、何を伝えていますか"
# Sample authors besides the demo member (三重県名張市, 岡山県西粟倉村, whose materials the demo
# members area shows); their accounts get no usable password.
SAMPLE_AUTHOR_CODES = ("242080", "336432")

OPEN_POSTS = (
    # (author index: 0 demo member, 1–2 sample authors, body, department, decision, reason)
    (
        1,
        "未受診のご家庭には、健診の翌週に保健師が電話し、つながらない場合は手紙に「次の健診日」と"
        "「ご都合が悪いときの個別の日程」を両方書いて送っています。責める言い方にならないよう、文面を係で見直しました。",
        "こども家庭センター",
        "approve",
        "",
    ),
    (
        2,
        "小さな村なので、母子保健推進員さんが顔見知りとして訪問し、健診のことは「ついでに」伝える形にしています。",
        "保健福祉課",
        "approve",
        "",
    ),
    (
        0,
        "健診の案内を、保育所の連絡帳アプリでも流すようにしたところ、受診率が少し上がりました。",
        "子育て支援課",
        "approve",
        "",
    ),
    (
        0,
        "未受診が続くご家庭について、要保護児童対策地域協議会の実務者会議で確認する目安を作りました。",
        "子育て支援課",
        None,  # left waiting for approval
        "",
    ),
    (
        0,
        "〇〇さん宅（3丁目）は、何度連絡しても出てもらえません。",
        "子育て支援課",
        "reject",
        "個人が特定されるおそれのある内容が含まれているため、公開を見送りました。お宅を特定できない書き方でもう一度投稿してください。",
    ),
)
PAST_POSTS = (
    (
        1,
        "転入の手続きの窓口で、こども家庭センターの案内カードを手渡しし、2週間以内に電話でご様子を伺っています。",
        "こども家庭センター",
    ),
    (0, "転入届の際に、前住所地の母子保健の記録を引き継いでよいか、その場で同意を確認しています。", "子育て支援課"),
)
OPINIONS = (
    # (author index, category, body, status, internal notes)
    (0, "", "会員エリアのトップに、新着の様式が日付つきで並ぶのは便利です。", Opinion.Status.NEW, ""),
    (
        1,
        "",
        "座談会の動画を、職場のパソコンでは音を出せないので、文字起こしがもっと詳しいと助かります。",
        Opinion.Status.IN_PROGRESS,
        "次回の座談会から要旨を詳しくする方向で、受託者と調整中。",
    ),
    (
        2,
        "",
        "各市町村の様式の一覧で、種類ごとに絞り込めるようにしてほしいです。",
        Opinion.Status.DONE,
        "様式の種類で絞り込めるようにした（10月の更新）。",
    ),
    (
        0,
        "",
        "他の自治体の担当者の個人の電話番号を一覧で見られるようにしてほしいです。",
        Opinion.Status.WONT,
        "個人の連絡先は掲載しない方針。小ネタの投稿者への連絡機能を案内する。",
    ),
)


def _sample_authors() -> list:
    """The demo member, then the sample authors (created without a usable password)."""
    ensure_demo_member(log=lambda *args: None)
    User = get_user_model()
    member_group = roles.ensure_role_groups()[roles.MEMBER]
    authors = [User.objects.get(username=DEMO_MEMBER_CODE)]
    for code in SAMPLE_AUTHOR_CODES:
        lg = LocalGovernment.objects.get(code=code)
        user = User.objects.filter(local_government=lg).first()
        if user is None:
            user = User(username=lg.code, local_government=lg)
            user.set_unusable_password()
            user.save()
        user.groups.add(member_group)
        authors.append(user)
    return authors


def _submit(topic, author, body, department):
    return tips.post_submit(
        topic=topic,
        author=author,
        body=body,
        contact={"department": department, "contact_email": f"kosodate-{author.username}@example.lg.jp"},
    )


@transaction.atomic
def load_board_demo(log=print) -> int:
    """Create the sample topics, posts and opinions unless they exist; returns the topics created."""
    if Topic.objects.filter(title=OPEN_TITLE).exists():
        log("小ネタ・意見箱のサンプル: 作成済みです。")
        return 0
    admin = demo_admin()
    authors = _sample_authors()
    board = BoardSettings.load()
    if board.mode == ModerationMode.CLOSED:
        log("小ネタ・意見箱のサンプル: 小ネタの受付が停止中のため、作成しませんでした。")
        return 0
    now = timezone.now()
    past = Topic.objects.create(
        title=PAST_TITLE,
        description="転入の手続きのときや、その後の最初の連絡で、どのようなことを伝えているか教えてください。",
        opens_at=now - timedelta(days=60),
        closes_at=now + timedelta(days=1),
    )
    for index, body, department in PAST_POSTS:
        post = _submit(past, authors[index], body, department)
        if not post.is_visible:
            tips.post_approve(post=post, acting_user=admin)
    tips.topic_close(topic=past, acting_user=admin)
    current = Topic.objects.create(
        title=OPEN_TITLE,
        description="健診を受けていないご家庭に、どのように声をかけ、次の受診につなげているか、工夫を教えてください。",
        opens_at=now - timedelta(days=7),
        closes_at=now + timedelta(days=30),
    )
    for index, body, department, decision, reason in OPEN_POSTS:
        post = _submit(current, authors[index], body, department)
        if decision == "approve" and not post.is_visible:
            tips.post_approve(post=post, acting_user=admin)
        elif decision == "reject":
            tips.post_reject(post=post, acting_user=admin, reason=reason)
    for index, category, body, status, notes in OPINIONS:
        opinion = feedback.opinion_submit(author=authors[index], body=body, category=category)
        if status != Opinion.Status.NEW:
            feedback.opinion_update(opinion=opinion, acting_user=admin, status=status, internal_notes=notes)
    log("小ネタ・意見箱のサンプル: 受付中と過去のお題、投稿（承認・承認待ち・不承認）、ご意見4件を作成しました。")
    return 2
