"""Provisioning benchmark: `make bench` (or python -m kokasen.bench.provisioning).

Builds a throw-away SQLite database, generates an address list for all 1,788 local
governments (two addresses each), imports it (accounts + one credential message each in
the outbox), then sends the outbox to an aiosmtpd server on loopback that requires STARTTLS.
Prints the seconds for import + queue and the send rate. Nothing is asserted: the figures
are for people to read (the aim is all 1,788 queued and sent in under 60 s).
"""

import argparse
import csv
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kokasen.bench.scratch import setup_django


def address_list() -> bytes:
    from kokasen.localgov.models import LocalGovernment

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["団体コード", "団体名", "メールアドレス"])
    for code, name in LocalGovernment.objects.order_by("code").values_list("code", "name"):
        writer.writerow([code, name, f"kodomo@l{code}.example.lg.jp、center@m{code}.example.lg.jp"])
    return out.getvalue().encode("cp932")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kokasen-bench-accounts-") as tmp:
        workdir = Path(tmp)
        started = time.monotonic()
        setup_django(workdir)
        print(f"database migrated in {time.monotonic() - started:.1f} s")

        from django.conf import settings

        from kokasen.accounts import selectors, services
        from kokasen.notifications import sender
        from kokasen.testing.smtp import self_signed_certificate

        data = address_list()
        started = time.monotonic()
        result = selectors.address_list_read(data=data, filename="bench.csv")
        parsed = time.monotonic() - started
        plan = services.address_list_import(result=result, source="bench.csv")
        import_seconds = time.monotonic() - started
        print(
            f"import + queue: {len(plan.create)} accounts, {plan.queued} messages in {import_seconds:.2f} s "
            f"(reading and validating the list {parsed:.2f} s)"
        )

        # The SMTP server runs in its own process, as a real one would (no GIL shared).
        cert, key = self_signed_certificate(workdir)
        server = subprocess.Popen(
            [sys.executable, "-m", "kokasen.testing.smtp", str(cert), str(key)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        port = int(server.stdout.readline())
        os.environ["SSL_CERT_FILE"] = str(cert)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = True, False
        settings.DEFAULT_FROM_EMAIL = "kokasen@portal.example.go.jp"
        try:
            started = time.monotonic()
            report = sender.send_outbox()
            send_seconds = time.monotonic() - started
        finally:
            received, recipients = server.communicate("", timeout=60)[0].split()
        print(
            f"send: {report.sent} sent, {report.retried} retried, {report.failed} failed in {send_seconds:.2f} s "
            f"= {report.sent / send_seconds:.0f} messages/s (STARTTLS, one connection; "
            f"server received {received} messages for {recipients} recipients)"
        )
        print(f"total import + queue + send: {import_seconds + send_seconds:.1f} s for {plan.queued} local governments")
    return 0


if __name__ == "__main__":
    sys.exit(main())
