"""The participation of the local governments in a period, for people or machines (issue 15
item 4; decision 0050): the funnel, the coverage of the 1,788 per prefecture, kind, east/west,
population band and こども家庭センター status, the period's totals and how many never logged in.

kokasen-manage analytics_participation --from 2026-11-01 --to 2026-11-30 --json

It reads the counts; ``count_participation`` (the timer) and the middleware write them.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from kokasen.analytics import pageviews
from kokasen.analytics import participation_selectors as selectors

from .analytics_summary import _day


class Command(BaseCommand):
    help = (
        "期間内の自治体の利用状況（発行から投稿までの段階別の自治体数、都道府県・区分・東西・人口規模・"
        "こども家庭センター設置状況別の利用率、一度もログインしていない自治体の数）を出力します。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="開始日 YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="終了日 YYYY-MM-DD（この日を含む）")
        parser.add_argument("--json", action="store_true", help="JSON で出力する")
        parser.add_argument(
            "--never-logged-in", action="store_true", help="一度もログインしていない自治体の一覧も出力する"
        )

    def handle(self, *args, start, end, json=False, never_logged_in=False, **options):
        start, end = _day(start), _day(end)
        if end < start:
            raise CommandError("終了日が開始日より前です。")
        pageviews.flush_before_reading()  # the page views still in Redis (decision 0067)
        never = selectors.never_logged_in(end)
        data = {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "totals": selectors.totals(start, end),
            "funnel": selectors.funnel(start, end),
            "coverage": selectors.coverage(start, end),
            "never_logged_in": len(never),
        }
        if never_logged_in:
            data["never_logged_in_list"] = never
        if json:
            self.stdout.write(_dumps(data))
            return
        self._text(data, never if never_logged_in else [])

    def _text(self, data, never):
        totals = data["totals"]
        self.stdout.write(
            f"{data['from']}〜{data['to']}: ログイン {totals['logins']:,}、会員ページの閲覧 {totals['page_views']:,}、"
            f"資料の閲覧 {totals['downloads']:,}、小ネタの投稿 {totals['posts']:,}、意見 {totals['opinions']:,}"
        )
        self.stdout.write("段階別の自治体数（かっこ内は前の段階もすべて満たす自治体と、全団体に占める割合）:")
        for step in data["funnel"]:
            self.stdout.write(
                f"  {step['label']}: {step['count']:,} 団体（{step['reached']:,} 団体、{step['share']}%）"
            )
        labels = dict(selectors.DIMENSIONS)
        for name, rows in data["coverage"].items():
            self.stdout.write(f"{labels[name]}別（期間内にログインした団体／全団体）:")
            for row in rows:
                self.stdout.write(
                    f"  {row['label']}: {row['active']:,}/{row['local_governments']:,} 団体（{row['active_share']}%）"
                )
        self.stdout.write(f"一度もログインしていない自治体: {data['never_logged_in']:,}")
        for row in never:
            name = row["prefecture"] + ("" if row["name"] == row["prefecture"] else row["name"])
            state = (
                "通知メール送信済み"
                if row["mail_delivered"]
                else "アカウント発行済み"
                if row["account_issued"]
                else "アカウント未発行"
            )
            self.stdout.write(f"  {row['code']} {name}（{state}、センター設置状況：{row['center']}）")


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
