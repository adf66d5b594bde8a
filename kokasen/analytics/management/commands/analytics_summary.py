"""The access analytics' counts of a period, for people or machines (decision 0036).

kokasen-manage analytics_summary --from 2026-11-01 --to 2026-11-30 --json
"""

from __future__ import annotations

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from kokasen.analytics import selectors


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"日付は YYYY-MM-DD で指定してください: {value}") from None


class Command(BaseCommand):
    help = (
        "取り込んだアクセスログの期間の集計（行数、読めない行、ボット、ページ別閲覧数、ダウンロード数）を出力します。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="開始日 YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="終了日 YYYY-MM-DD（この日を含む）")
        parser.add_argument("--json", action="store_true", help="JSON で出力する")

    def handle(self, *args, start, end, json=False, **options):
        start, end = _day(start), _day(end)
        if end < start:
            raise CommandError("終了日が開始日より前です。")
        data = selectors.summary(start, end)
        if json:
            self.stdout.write(_dumps(data))
            return
        self.stdout.write(
            f"{start}〜{end}: {data['lines']:,} 行（読めない行 {data['bad_lines']:,}）、"
            f"ボットのリクエスト {data['bot_requests']:,}、ページビュー {data['page_view_total']:,}、"
            f"ダウンロード {data['download_total']:,}"
        )
        for title, key in (("ページビュー", "page_views"), ("ダウンロード", "downloads")):
            self.stdout.write(f"{title}:")
            for path, count in list(data[key].items())[:20]:
                self.stdout.write(f"  {count:>8,}  {path}")


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
