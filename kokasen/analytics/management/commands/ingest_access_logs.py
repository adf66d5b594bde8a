"""Read access logs into the daily counts of the access analytics (docs/operations.md
"Access analytics", decision 0036).

    kokasen-manage ingest_access_logs                    # the live logs (ANALYTICS_ACCESS_LOGS)
    kokasen-manage ingest_access_logs FILE [FILE …]      # imports: JSON or combined, plain or .gz

Live logs are read incrementally across rotation; an import is read whole and once (giving it
again adds nothing). Lines that cannot be read are counted and shown, never fatal. One run at a
time (the lock OPS_STATE_DIR/ingest_access_logs.lock).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kokasen.analytics import ingest


class Command(BaseCommand):
    help = "アクセスログ（JSON 形式または combined 形式、gzip 可）を読み、アクセス解析の日別集計に加えます。"

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="読むファイル（省略時は ANALYTICS_ACCESS_LOGS のログ）")
        parser.add_argument("--processes", type=int, default=None, help="並列に読むプロセス数（既定: 2 以下の CPU 数）")

    def handle(self, *args, paths=(), processes=None, verbosity=1, **options):
        paths = list(paths) or list(settings.ANALYTICS_ACCESS_LOGS)
        if not paths:
            raise CommandError(
                "読むログがありません（ファイルを指定するか ANALYTICS_ACCESS_LOGS を設定してください）。"
            )
        missing = [path for path in paths if not Path(path).exists()]
        if missing and len(missing) == len(paths):
            raise CommandError("ファイルが見つかりません: " + ", ".join(missing))
        try:
            with ingest.one_run():
                report = ingest.ingest(paths, processes=processes)
        except ingest.Busy:
            raise CommandError("別の ingest_access_logs が実行中です。") from None
        for path in missing:
            self.stderr.write(f"ファイルが見つかりません: {path}")
        for problem in report.problems:
            self.stderr.write(f"読めないファイル: {problem}")
        if verbosity >= 1:
            self.stdout.write(
                f"{report.lines:,} 行を読みました（読めない行 {report.bad_lines:,}、"
                f"ボットのリクエスト {report.bot_requests:,}、ページビュー {report.page_views:,}、"
                f"ダウンロード {report.downloads:,}）。"
            )
            for sample in report.bad_samples:
                self.stdout.write(f"  読めない行の例: {sample!r}")
