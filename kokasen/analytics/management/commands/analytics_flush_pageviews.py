"""Add the members' page views counted in Redis to the daily rows (decision 0067).

    kokasen-manage analytics_flush_pageviews      # every minute (kokasen-analytics-flush.timer)

Without Redis (the cache is local memory) there is nothing to add: page views are written to
the database as they happen. A batch left by a flush that stopped part way is added first, once.
Safe to rerun, to run twice at once and to kill.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from kokasen.analytics import pageviews


class Command(BaseCommand):
    help = "Redis に数えた会員ページの閲覧数を自治体別・日別の利用に加えます（毎分のタイマー）。"

    def handle(self, *args, verbosity=1, **options):
        if not pageviews.buffered():
            if verbosity >= 1:
                self.stdout.write("共有キャッシュが Redis ではないため、加える閲覧数はありません。")
            return
        done = pageviews.flush()
        if not done.reached:
            raise CommandError("Redis に接続できません。閲覧数は Redis に残っており、次の実行で加えます。")
        if verbosity >= 1:
            self.stdout.write(
                f"閲覧数 {done.views:,} 件（{done.batches} まとまり）を加えました"
                f"（加算済みで削除だけしたもの {done.repeated}、Redis に残したもの {done.left}）。"
            )
        if done.left:
            raise CommandError(f"Redis が途中で応答しなくなりました。{done.left} まとまりを次の実行で加えます。")
