from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kokasen.accounts import selectors, services
from kokasen.core import refusals
from kokasen.core.refusals import Refused


class Command(BaseCommand):
    help = (
        "Import the agency's address list (XLSX, or CSV in UTF-8, UTF-8 with BOM or CP932): "
        "create the missing local-government accounts, update addresses, and queue one "
        "credential message per new account (send them with send_outbox). Every row is "
        "checked first; if any row is bad, nothing is imported. --check only validates."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--check", action="store_true", help="validate only; change nothing")

    def handle(self, *args, file: Path, check=False, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"ファイル {file} を読めません（{exc.strerror}）。") from None
        result = selectors.address_list_read(data=data, filename=file.name)
        try:
            if check:
                plan = services.address_list_plan(result=result)
            else:
                plan = services.address_list_import(result=result, source=file.name)
        except Refused as refused:
            raise refusals.command_error(
                self,
                refused,
                f"{file.name}：問題が {len(refused.messages)} 件あります。何も取り込んでいません。"
                "ファイルを直してから、もう一度実行してください。",
            ) from None
        addresses = sum(len(e.addresses) for e in result.entries)
        summary = (
            f"{len(result.entries)} 団体、メールアドレス {addresses} 件"
            f"（新規 {len(plan.create)} 団体、アドレス変更 {len(plan.update)} 団体、変更なし {len(plan.unchanged)} 団体）"
        )
        if check:
            self.stdout.write(f"問題はありません。{summary}。取り込むには --check を外して実行してください。")
        else:
            self.stdout.write(
                f"取り込みました。{summary}。"
                f"アカウント発行のお知らせを {plan.queued} 件、送信待ちにしました（manage.py send_outbox で送信します）。"
            )
