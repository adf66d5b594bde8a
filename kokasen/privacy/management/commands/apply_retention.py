"""Apply the retention periods (PRIVACY_RETENTION_DAYS): every night from
deploy/systemd/kokasen-apply-retention.timer; safe to run again."""

from django.core.management.base import BaseCommand
from django.db import transaction

from kokasen.core.audit import audit_record
from kokasen.privacy.retention import STORES, apply_retention


class Command(BaseCommand):
    help = "保存期間を過ぎた個人情報を消去します（PRIVACY_RETENTION_DAYS）。"

    def handle(self, *args, **options):
        with transaction.atomic():
            done = apply_retention()
            if any(done.values()):
                audit_record(action="privacy.retention_applied", detail={"counts": done})
        for store, count in done.items():
            self.stdout.write(f"{STORES[store]}: {count}件")
