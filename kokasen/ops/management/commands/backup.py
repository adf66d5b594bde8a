"""manage.py backup: PostgreSQL and the media into the restic repository, retention applied and
the status file written (kokasen/ops/backups.py; run nightly by kokasen-backup.timer).

    kokasen-manage backup            # one backup
    kokasen-manage backup --drill    # the restore drill of the newest snapshot instead
"""

import json

from django.core.management.base import BaseCommand, CommandError

from kokasen.ops import backups


class Command(BaseCommand):
    help = "Back up PostgreSQL and MEDIA_ROOT with restic (or, with --drill, run the restore drill)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--drill", action="store_true", help="restore the newest snapshot into the scratch database and compare"
        )
        parser.add_argument(
            "--snapshot", default="latest", help="with --drill: the snapshot to restore (default: latest)"
        )
        parser.add_argument("--json", action="store_true", help="print the record as JSON")

    def handle(self, *args, **options):
        try:
            record = backups.restore_drill(options["snapshot"]) if options["drill"] else backups.backup()
        except backups.BackupError as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(record, ensure_ascii=False, indent=2))
        elif options["drill"]:
            verdict = "一致" if record["ok"] else f"不一致 {record['difference_count']} 件"
            self.stdout.write(
                f"復元訓練 {verdict}: スナップショット {record['snapshot']}、{record['tables']} テーブル "
                f"{record['rows']} 行、ファイル {record['media_files']} 件、{record['seconds']} 秒"
            )
        else:
            self.stdout.write(
                f"バックアップ完了: スナップショット {record['snapshot_id'][:8]}、{record['database']['rows']} 行、"
                f"ファイル {record['media']['files']} 件、{record['seconds']} 秒（保存期間 {record['retention']}）"
            )
        if options["drill"] and not record["ok"]:
            raise CommandError("復元訓練で差異が見つかりました（" + str(record["difference_count"]) + " 件）。")
