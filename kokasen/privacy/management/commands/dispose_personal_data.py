"""Dispose of personal data irrecoverably and write 別紙様式1 (docs/operations.md, decision 0033).

manage.py dispose_personal_data --scope meeting --meeting 12 --dry-run
manage.py dispose_personal_data --scope contacts --out /root/disposal-2026-12
manage.py dispose_personal_data --scope contract-end --yes --out DIR
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kokasen.privacy import disposal, report
from kokasen.privacy.export import export_bytes
from kokasen.privacy.scopes import SCOPES, plan_for


class Command(BaseCommand):
    help = "個人情報を復元できない方法で廃棄し、別紙様式１（Word・PDF）と廃棄の記録を書き出します。"

    def add_arguments(self, parser):
        parser.add_argument("--scope", required=True, choices=list(SCOPES))
        parser.add_argument("--meeting", type=int, help="--scope meeting: 会議のID")
        parser.add_argument("--dry-run", action="store_true", help="廃棄するものを表示するだけで、何も変更しません。")
        parser.add_argument("--yes", action="store_true", help="確認せずに実行します。")
        parser.add_argument("--out", help="別紙様式１と廃棄の記録を書き出すフォルダ")
        parser.add_argument("--operator", help="実施者（既定: このコマンドを実行したOSのユーザー）")
        parser.add_argument("--contractor", default=None, help="受託者名（既定: PRIVACY_CONTRACTOR_NAME）")
        parser.add_argument(
            "--export-first",
            action="store_true",
            help="廃棄の前に、対象のデータを Excel（returned-data.xlsx）で --out に書き出します（返却用）。",
        )

    def handle(self, *args, scope, meeting, dry_run, yes, out, operator, contractor, export_first, **options):
        if scope == "contract-end" and not dry_run and not out:
            raise CommandError("--scope contract-end には --out（報告書の書き出し先）が必要です。")
        if export_first and not out:
            raise CommandError("--export-first には --out（書き出し先）が必要です。")
        try:
            plan = plan_for(scope, meeting=meeting)
        except ValueError as error:
            raise CommandError(str(error)) from error
        preview = disposal.dispose(plan, dry_run=True, operator=operator)
        self._show(preview)
        exported = None
        if export_first:
            Path(out).mkdir(parents=True, exist_ok=True)
            data = export_bytes(plan)
            (Path(out) / "returned-data.xlsx").write_bytes(data)
            exported = {"file": "returned-data.xlsx", "sha256": hashlib.sha256(data).hexdigest()}
            self.stdout.write(
                f"返却用のデータを書き出しました: {Path(out) / 'returned-data.xlsx'}（SHA-256: {exported['sha256']}）"
            )
        if dry_run:
            self.stdout.write("（試行のみ。何も変更していません。）")
            return
        if not yes:
            answer = input("上記を復元できない方法で廃棄します。よろしいですか？ yes と入力してください: ")
            if answer.strip() != "yes":
                raise CommandError("中止しました。何も変更していません。")
        out_dir = Path(out) if out else None
        if out_dir:
            out_dir.mkdir(parents=True, exist_ok=True)
        evidence = disposal.dispose(plan, dry_run=False, operator=operator)
        evidence.export = exported
        annex = report.annex_bytes(evidence)
        digest = hashlib.sha256(annex).hexdigest()
        disposal.record(evidence, digest)
        if out_dir:
            day = timezone.localdate(evidence.finished_at)
            name = settings.PRIVACY_CONTRACTOR_NAME if contractor is None else contractor
            (out_dir / "evidence.json").write_bytes(annex)
            (out_dir / "betsushi-yoshiki-1.docx").write_bytes(
                report.docx_bytes(evidence, contractor=name, day=day, annex_sha256=digest)
            )
            (out_dir / "betsushi-yoshiki-1.pdf").write_bytes(
                report.pdf_bytes(evidence, contractor=name, day=day, annex_sha256=digest)
            )
            self.stdout.write(f"報告書を書き出しました: {out_dir}")
        verdict = "確認済み（残りなし）" if evidence.verification["ok"] else "残りあり"
        self.stdout.write(f"廃棄しました。結果: {verdict}。廃棄の記録の SHA-256: {digest}")
        if not evidence.verification["ok"]:
            raise CommandError("廃棄後の確認で、残っている記録またはファイルがあります。")

    def _show(self, evidence):
        self.stdout.write(f"対象: {evidence.description}（{evidence.scope}）")
        for step in evidence.steps:
            verb = "削除" if step.action == "delete" else "消去"
            self.stdout.write(f"  {step.label}（{step.store}）: {step.before}件を{verb}")
        self.stdout.write(f"  再構成する表: {', '.join(evidence.rewritten)}")
        for kind, files in (("アップロードファイル", evidence.files), ("ログファイル", evidence.log_files)):
            self.stdout.write(f"  {kind}: {len(files)}件")
            for f in files:
                self.stdout.write(f"    {f['path']}（{f['size']}バイト）")
        self.stdout.write(f"  バックアップ: {evidence.backup['summary']}")
