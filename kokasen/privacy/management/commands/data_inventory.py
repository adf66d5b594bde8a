"""Where personal data is held, with counts and the oldest date (docs/security.md)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from kokasen.privacy.inventory import rows


class Command(BaseCommand):
    help = "個人情報を保持している場所ごとに、件数と最も古い日付を表示します。"

    def handle(self, *args, **options):
        for row in rows():
            count = "不明" if row.count < 0 else f"{row.count}件"
            oldest = f"{timezone.localtime(row.oldest):%Y-%m-%d}" if row.oldest else "—"
            self.stdout.write(
                f"{row.store}\t{row.what}\t{count}\t最古 {oldest}\t保存: {row.retention}\t廃棄: {row.disposal}"
            )
