"""The 効果分析報告書 (issue 15 item 6; decision 0052): Word, PDF and the Excel annex of a period,
stored as a generated report (アクセス解析 → 効果分析報告書 lists and serves it).

    kokasen-manage analytics_report --from 2026-11-01 --to 2026-11-30 [--out DIR]
    kokasen-manage analytics_report --monthly     # deploy/systemd/kokasen-analytics-report.timer

``--monthly`` makes last month's report once (a second run finds it) and queues one notice to
the agency's 管理者 with the URLs written out (the outbox's dedupe key is the month).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kokasen.analytics import report
from kokasen.analytics.models import GeneratedReport

from .analytics_summary import _day


class Command(BaseCommand):
    help = (
        "期間の効果分析報告書（Word・PDF・別添の Excel）を作成して保存します。--monthly は前月分を作成し、"
        "管理者にURLをお知らせします（毎月1日にタイマーで実行。同じ月に何度実行してもお知らせは1通）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", help="開始日 YYYY-MM-DD")
        parser.add_argument("--to", dest="end", help="終了日 YYYY-MM-DD（この日を含む）")
        parser.add_argument("--monthly", action="store_true", help="前月分を作成し、管理者にお知らせする（タイマー用）")
        parser.add_argument("--month", default="", help="--monthly で作る月 YYYY-MM（省略時は前月）")
        parser.add_argument("--out", default="", help="3つのファイルをこのフォルダーにも書き出す")

    def handle(self, *args, start=None, end=None, monthly=False, month="", out="", verbosity=1, **options):
        if monthly:
            if start or end:
                raise CommandError("--monthly と --from/--to は一緒に指定できません。")
            today = None
            if month:
                match = re.fullmatch(r"(\d{4})-(\d{1,2})", month)
                if not match or not 1 <= int(match[2]) <= 12:
                    raise CommandError("--month は YYYY-MM の形で指定してください（例：2026-11）。")
                today = report.last_day_of_month(date(int(match[1]), int(match[2]), 1)) + timedelta(days=1)
            stored, made = report.monthly_report(today)
            message = "作成しました" if made else "作成済みでした"
        else:
            if month:
                raise CommandError("--month は --monthly と一緒に指定してください。")
            if not (start and end):
                raise CommandError("--from と --to（YYYY-MM-DD）を指定してください（前月分は --monthly）。")
            start, end = _day(start), _day(end)
            if end < start:
                raise CommandError("終了日が開始日より前です。")
            stored = report.generate(start, end, origin=GeneratedReport.COMMAND)
            message = "作成しました"
        if out:
            folder = Path(out)
            folder.mkdir(parents=True, exist_ok=True)
            for fmt in report.FORMATS:
                (folder / report.filename(stored, fmt)).write_bytes(bytes(getattr(stored, fmt)))
        if verbosity >= 1:
            self.stdout.write(
                f"{report.period_label(stored.start, stored.end)}の{stored.title}を{message}"
                f"（{stored.seconds:.1f}秒）：{report.report_path(stored)}"
            )
