"""Sample (サンプル) access analytics for ``manage.py load_demo`` (``make run``), so that the
dashboard 「アクセス解析」 is alive (decision 0051): 120 days up to today of daily counts for the
demo's public pages and documents (people, bots, devices, referrers, a meeting's campaign key,
404s), and the participation of about two thirds of the 1,788 local governments: sample accounts
(user name = 団体コード, no usable password, like the board's sample authors), their credential
notices marked 送信済み (never sent: no address is real), logins, members' page views and opened
documents; the board demo's posts and opinions are counted by ``count_contributions``.

Seeded, so every run gives the same picture. Idempotent: nothing is written when any daily
count exists. ``count_participation`` (the timer, not run by ``make run``) would recount the
logins from the audit trail and so replace the sample logins with the real ones.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

DAYS = 120
SEED = 51


@transaction.atomic
def load_analytics_demo(log=print) -> int:
    from wagtail.documents import get_document_model
    from wagtail.models import Page

    from kokasen.analytics.models import (
        Breakdown,
        DayTotal,
        DownloadDay,
        NotFoundDay,
        PageDay,
    )
    from kokasen.analytics.participation import count_contributions

    if DayTotal.objects.exists():
        return 0
    rng = random.Random(SEED)
    today = timezone.localdate()
    days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    pages = [
        (page.pk, page.url)
        for page in Page.objects.live().public().filter(depth__gte=2).exclude(url_path__contains="/members/")
        if page.url and not page.url.startswith("/members/")
    ][:120]
    documents = [(d.pk, d.url) for d in get_document_model().objects.order_by("pk")[:40]]
    page_rows, download_rows, breakdowns, totals, not_found = _access_rows(rng, today, days, pages, documents)
    PageDay.objects.bulk_create(page_rows, batch_size=2000)
    DownloadDay.objects.bulk_create(download_rows, batch_size=2000)
    Breakdown.objects.bulk_create(breakdowns, batch_size=2000)
    DayTotal.objects.bulk_create(totals)
    NotFoundDay.objects.bulk_create(not_found)

    new_users, logins = _participation(rng, days, [pk for pk, _url in documents])
    count_contributions()
    log(
        f"アクセス解析のサンプル：{DAYS}日分、ページ {len(pages)}、サンプルの自治体アカウント {len(new_users)}、"
        f"ログイン {len(logins):,} 日分"
    )
    return len(totals)


def _access_rows(rng, today, days, pages, documents):
    """The daily counts of the access log: pages, files, breakdowns, totals, 404s."""
    from kokasen.analytics.models import Breakdown, DayTotal, DownloadDay, NotFoundDay, PageDay

    weights = {pk: 400 / (rank + 1) ** 0.9 for rank, (pk, _url) in enumerate(rng.sample(pages, len(pages)))}
    page_rows, download_rows, breakdowns, totals, not_found = [], [], [], [], []
    for day in days:
        weekday = 0.35 if day.weekday() >= 5 else 1.0
        growth = 0.6 + 0.4 * days.index(day) / len(days)
        views_of_day = 0
        for pk, url in pages:
            views = int(weights[pk] * weekday * growth * rng.uniform(0.6, 1.4))
            if not views:
                continue
            views_of_day += views
            fast = max(views // 2, 1)
            times = {"6": fast, "14": views - fast + 1, "40": max(views // 30, 1)}
            page_rows.append(
                PageDay(day=day, path=url, page_id=pk, views=views, bot_views=rng.randint(0, 6), times=times)
            )
        downloads_of_day = 0
        for rank, (_pk, url) in enumerate(documents):
            n = int(60 / (rank + 2) * weekday * growth * rng.uniform(0.5, 1.5))
            if n:
                downloads_of_day += n
                download_rows.append(DownloadDay(day=day, path=url, downloads=n, requests=n + rng.randint(0, n)))
        bots = int(views_of_day * rng.uniform(0.35, 0.5))
        totals.append(
            DayTotal(
                day=day,
                lines=views_of_day * 6 + bots,
                requests=views_of_day * 6 + bots,
                bot_requests=bots,
                page_views=views_of_day,
                downloads=downloads_of_day,
            )
        )
        shares = {
            Breakdown.DEVICE: {"desktop": 0.78, "mobile": 0.18, "tablet": 0.03, "other": 0.01},
            Breakdown.REFERRER: {
                "www.google.com": 0.12,
                "search.yahoo.co.jp": 0.06,
                "www.cfa.go.jp": 0.08,
                "www.pref.mie.lg.jp": 0.01,
                "www.city.toyonaka.osaka.jp": 0.01,
            },
            Breakdown.BOT_REASON: {"agent": 0.7, "robots": 0.1, "monitor": 0.12, "scanner": 0.05, "rate": 0.03},
        }
        for dimension, values in shares.items():
            whole = bots if dimension == Breakdown.BOT_REASON else views_of_day
            for value, share in values.items():
                if n := int(whole * share * rng.uniform(0.8, 1.2)):
                    breakdowns.append(Breakdown(day=day, dimension=dimension, value=value, count=n))
        if today - day < timedelta(days=10) and (n := int(30 * weekday * rng.uniform(0.5, 1.5))):
            breakdowns.append(Breakdown(day=day, dimension=Breakdown.CAMPAIGN, value="kaigi1201", count=n))
        if rng.random() < 0.5:
            not_found.append(
                NotFoundDay(
                    day=day,
                    key=f"demo-old-{day.isoformat()}",
                    path="/kenshu/2025/",
                    referrer="https://www.pref.mie.lg.jp/kosodate/link.html",
                    count=rng.randint(1, 4),
                )
            )
    return page_rows, download_rows, breakdowns, totals, not_found


def _participation(rng, days, doc_ids):
    """Sample accounts, their credential notices, center statuses, logins, members' page views
    and opened documents; returns (new users, login rows)."""
    from kokasen.accounts import mail_kinds, roles
    from kokasen.analytics.models import ActivityDay, DocumentOpen, LoginDay
    from kokasen.localgov.models import LocalGovernment
    from kokasen.notifications.models import OutboxMessage

    # Participation: accounts for about two thirds of the local governments, more in the east.
    User = get_user_model()
    member_group = roles.ensure_role_groups()[roles.MEMBER]
    has_account = set(User.objects.filter(local_government__isnull=False).values_list("local_government_id", flat=True))
    chosen = [
        (lg_id, code, area)
        for lg_id, code, area in LocalGovernment.objects.order_by("code").values_list("id", "code", "area")
        if rng.random() < (0.72 if area == "east" else 0.6)
    ]
    from kokasen.meetings.models import CenterStatus

    known = set(CenterStatus.objects.values_list("local_government_id", flat=True))
    CenterStatus.objects.bulk_create(
        [
            CenterStatus(local_government_id=lg_id, has_center=rng.random() < 0.6)
            for lg_id, _code, _area in chosen
            if lg_id not in known and rng.random() < 0.9
        ]
    )
    new_users = []
    for lg_id, code, _area in chosen:
        if lg_id in has_account:
            continue
        user = User(username=code, local_government_id=lg_id)
        user.set_unusable_password()
        new_users.append(user)
    User.objects.bulk_create(new_users, batch_size=1000)
    through = User.groups.through
    through.objects.bulk_create(
        [
            through(user_id=u.pk, group_id=member_group.pk)
            for u in User.objects.filter(username__in=[u.username for u in new_users])
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                kind=mail_kinds.CREDENTIALS,
                subject="【サンプル】アカウント発行のお知らせ",
                body="（サンプル：送信していません）",
                to=[f"sample-{code}@example.lg.jp"],
                local_government_id=lg_id,
                message_id=f"<demo-analytics-{code}@kokasen.invalid>",
                status=OutboxMessage.Status.SENT,
                sent_at=now - timedelta(days=DAYS),
            )
            for lg_id, code, _area in chosen
            if rng.random() < 0.97
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    logins, activity, opened = [], [], []
    for lg_id, _code, _area in chosen:
        eagerness = rng.random()
        if eagerness < 0.25:
            continue  # an account that has never logged in
        for day in days:
            if day.weekday() < 5 and rng.random() < 0.08 * eagerness:
                logins.append(LoginDay(day=day, local_government_id=lg_id, logins=rng.randint(1, 2)))
                activity.append(
                    ActivityDay(
                        day=day, local_government_id=lg_id, kind=ActivityDay.PAGE_VIEW, count=rng.randint(2, 15)
                    )
                )
                if doc_ids and rng.random() < 0.45:
                    opened.append(DocumentOpen(day=day, local_government_id=lg_id, document_id=rng.choice(doc_ids)))
    LoginDay.objects.bulk_create(logins, batch_size=2000)
    ActivityDay.objects.bulk_create(activity, batch_size=2000)
    DocumentOpen.objects.bulk_create(opened, batch_size=2000, ignore_conflicts=True)
    return new_users, logins
