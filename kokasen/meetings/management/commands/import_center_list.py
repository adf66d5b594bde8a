from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kokasen.core import refusals
from kokasen.core.refusals import Refused
from kokasen.meetings.services import roster as service


class Command(BaseCommand):
    help = (
        "Replace the agency's list of municipalities with and without a こども家庭センター (CenterStatus). "
        "FILE: XLSX, or CSV in UTF-8, UTF-8 with BOM or CP932, with the header 団体コード,団体名,センター設置 "
        "(設置済 / 未設置), one municipality per row. Every row is checked first; if any row is bad, "
        "nothing changes."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"ファイル {file} を読めません（{exc.strerror}）。") from None
        try:
            result = service.center_list_import(data=data, filename=file.name, acting_user=None)
        except Refused as refused:
            raise refusals.command_error(
                self,
                refused,
                f"{file.name}：問題が {len(refused.messages)} 件あります。何も取り込んでいません。"
                "ファイルを直してから、もう一度実行してください。",
            ) from None
        self.stdout.write(
            f"センター設置状況を取り込みました：{result.entries:,} 団体（設置済 {result.with_center:,}、"
            f"未設置 {result.without_center:,}）。これまでの一覧 {result.replaced:,} 件と置き換えました。"
        )
