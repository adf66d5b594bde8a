"""The monthly 運用・セキュリティ報告 (decision 0039), on the 1st by
deploy/systemd/kokasen-ops-monthly.timer:

    kokasen-manage ops_monthly_report [--month YYYY-MM]

Checks that the report of the month (by default the previous one) can be made, and queues one
notice to the agency's 管理者 with the URL written out (no attachment). Running it again for
the same month queues nothing more.
"""

from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from kokasen.ops import monthly


class Command(BaseCommand):
    help = "前月（または --month の月）の運用・セキュリティ報告を作成し、管理者にURLをお知らせします（毎月1日にタイマーで実行）。"

    def add_arguments(self, parser):
        parser.add_argument("--month", default="", help="YYYY-MM（省略時は前月）")

    def handle(self, *args, month="", verbosity=1, **options):
        if month:
            match = re.fullmatch(r"(\d{4})-(\d{1,2})", month)
            if not match or not 1 <= int(match[2]) <= 12:
                raise CommandError("--month は YYYY-MM の形で指定してください（例：2026-11）。")
            year, number = int(match[1]), int(match[2])
        else:
            year, number = monthly.previous_month(timezone.localdate())
        monthly.refresh_apt_simulation()  # Debian's pending updates, if not checked today
        data = monthly.collect(year, number)
        monthly.render_pdf(data)  # the report can be made (a failure here is the unit's failure)
        with transaction.atomic():
            sent = monthly.notify(year, number)
        if verbosity >= 1:
            if sent:
                self.stdout.write(f"{data.label}の報告を作成し、管理者 {sent} 人へのお知らせを送信待ちにしました。")
            else:
                self.stderr.write(f"{data.label}の報告を作成しましたが、メールアドレスのある管理者がいません。")
