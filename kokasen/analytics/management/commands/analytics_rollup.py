"""The monthly roll-up of the access analytics (decision 0064): roll up every closed month not
rolled up yet, or every month again.

    kokasen-manage analytics_rollup              # the months not rolled up yet (the timer does it too)
    kokasen-manage analytics_rollup --rebuild    # every closed month again (the back-fill)

The ingestion and ``count_participation`` keep the roll-up up to date themselves; this command
is the back-fill after an upgrade and the repair after changing day rows by hand.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from kokasen.analytics import rollup


class Command(BaseCommand):
    help = "アクセス解析の日別集計を、締まった月ごとに月別集計へまとめます（未集計の月、または --rebuild で全月）。"

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="集計済みの月も含めて、すべての月を集計し直す")

    def handle(self, *args, rebuild=False, verbosity=1, **options):
        months = rollup.catch_up(rebuild=rebuild)
        if verbosity >= 1:
            if months:
                self.stdout.write(
                    f"{len(months)} か月分を月別に集計しました（{months[0]:%Y-%m}〜{months[-1]:%Y-%m}）。"
                )
            else:
                self.stdout.write("月別に集計する月はありませんでした。")
