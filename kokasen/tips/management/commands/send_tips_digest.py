"""Queue one digest of posts waiting for review to 管理者 and 受託者 (run by a timer, e.g.
hourly). Idempotent: posts already in a digest are not listed again. send_outbox sends it."""

from django.core.management.base import BaseCommand

from kokasen.tips.services import digest_queue


class Command(BaseCommand):
    help = "小ネタの確認待ち投稿のお知らせを、管理者と受託者あてに送信キューへ入れます。"

    def handle(self, *args, **options):
        message = digest_queue()
        if message is None:
            self.stdout.write("新しい確認待ちの投稿はありません（または宛先の職員がいません）。")
        else:
            self.stdout.write(f"お知らせを送信キューに入れました（{message.subject}）。")
