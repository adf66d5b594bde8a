import sys

from django.core.management.base import BaseCommand, CommandError

from kokasen.notifications import delivery, sender


class Command(BaseCommand):
    help = (
        "Send the queued e-mail of the outbox (one message per recipient, or Bcc broadcasts). "
        "Safe to run again at any time, also after it was killed: unsent messages are sent, "
        "sent ones never again. Temporary SMTP failures are retried later with back-off; "
        "permanent ones are marked 送信失敗 for staff to see. Run it from a timer."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, help="send at most this many messages")

    def handle(self, *args, limit=None, verbosity=1, **options):
        interactive = sys.stderr.isatty()

        def progress(done, total):
            if verbosity < 1:
                return
            line = f"送信中 {done}/{total}（{done * 100 // total}%）"
            if interactive:
                self.stderr.write("\r" + line, ending="")
            elif done == total or done % 100 == 0:
                self.stderr.write(line)

        try:
            report = sender.send_outbox(limit=limit, progress=progress)
        except sender.SenderBusy:
            raise CommandError("別の send_outbox が実行中です。終わってから実行してください。") from None
        except delivery.NonDeliveringBackend as refused:
            raise CommandError(str(refused)) from None
        if interactive and verbosity >= 1:
            self.stderr.write("")
        self.stdout.write(f"送信 {report.sent} 件、再送予定 {report.retried} 件、送信失敗 {report.failed} 件")
