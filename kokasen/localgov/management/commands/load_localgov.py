from django.core.management.base import BaseCommand
from django.db import transaction

from kokasen.localgov import data
from kokasen.localgov.models import LocalGovernment


class Command(BaseCommand):
    help = (
        "Synchronise the local-government master table with localgov/data/municipalities.csv: "
        "adds missing rows and updates changed ones in one transaction. Rows are never deleted "
        "(accounts point at them)."
    )

    def handle(self, *args, **options):
        rows = data.read_rows()
        with transaction.atomic():
            created, updated = data.sync(LocalGovernment, rows)
        self.stdout.write(f"{len(rows)} 団体を確認しました（追加 {created}、更新 {updated}）。")
