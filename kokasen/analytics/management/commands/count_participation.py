"""Participation counts from the application (issue 15 item 4; decisions 0041, 0050): the
logins per local government and day, counted again from the login audit events, and the 小ネタ
posts and 意見箱 opinions, counted again from their tables. (Members' page views and opened
documents are counted as they happen, by the middleware; the page views still counted in Redis
are added first, ``pageviews.flush``, decision 0067.)

    kokasen-manage count_participation                       # everything (the back-fill)
    kokasen-manage count_participation --from 2026-11-01     # from that day on
    kokasen-manage count_participation --days 2              # yesterday and today (the timer)
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kokasen.analytics import pageviews, participation

from .analytics_summary import _day


class Command(BaseCommand):
    help = (
        "監査ログのログイン記録と小ネタ・意見箱の投稿から、自治体別・日別のログイン数・投稿数・意見数を"
        "数え直します（職員は含みません）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", help="開始日 YYYY-MM-DD（省略時は最初の記録から）")
        parser.add_argument("--to", dest="end", help="終了日 YYYY-MM-DD（この日を含む。省略時は最後の記録まで）")
        parser.add_argument("--days", type=int, help="今日を含む直近の日数だけ数え直す（--from の代わり）")

    def handle(self, *args, start=None, end=None, days=None, verbosity=1, **options):
        start = _day(start) if start else None
        if days is not None:
            if days < 1:
                raise CommandError("--days は 1 以上で指定してください。")
            start = timezone.localdate() - timedelta(days=days - 1)
        end = _day(end) if end else None
        pageviews.flush_before_reading()
        logins = participation.count_logins(start=start, end=end)
        posts, opinions = participation.count_contributions(start=start, end=end)
        if verbosity >= 1:
            self.stdout.write(
                f"自治体のログイン {logins:,} 件、小ネタの投稿 {posts:,} 件、意見箱の意見 {opinions:,} 件を数えました。"
            )
