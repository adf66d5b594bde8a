"""Provisioning, then kill -9 of the sender part way, then a rerun: every local government
gets exactly one credential message, and the password in it is the one that logs in."""

import json
import re
from collections import defaultdict

from django.contrib.auth.hashers import check_password

from kokasen.testing.smtp import SlowHandler, TLSController, manage, send_outbox_killed_part_way, subprocess_env

COUNT = 240
LIST_SCRIPT = f"""
import csv, sys
from kokasen.localgov.models import LocalGovernment
writer = csv.writer(open(sys.argv[-1], "w", encoding="utf-8", newline=""))
writer.writerow(["団体コード", "団体名", "メールアドレス"])
for lg in LocalGovernment.objects.order_by("code")[:{COUNT}]:
    writer.writerow([lg.code, lg.name, f"kodomo@l{{lg.code}}.example.lg.jp center@m{{lg.code}}.example.lg.jp"])
"""
HASHES_SCRIPT = (
    "import json; from kokasen.accounts.models import User; "
    "print(json.dumps(dict(User.objects.values_list('username', 'password'))))"
)


def test_credentials_survive_a_killed_sender_with_one_consistent_password(
    tmp_path, smtp_certificate, fresh_sqlite_file
):
    cert, key = smtp_certificate
    handler = SlowHandler()
    controller = TLSController(handler, cert, key)
    controller.start()
    env = subprocess_env(fresh_sqlite_file, controller.port, cert)
    listing = tmp_path / "list.csv"
    try:
        written = manage(env, "shell", "-v0", "-c", LIST_SCRIPT.replace("sys.argv[-1]", repr(str(listing))))
        assert written.returncode == 0, written.stderr
        imported = manage(env, "import_address_list", str(listing))
        assert imported.returncode == 0, imported.stderr
        assert f"アカウント発行のお知らせを {COUNT} 件、送信待ちにしました" in imported.stdout

        before = send_outbox_killed_part_way(env, handler, after=COUNT // 3)
        assert 0 < before < COUNT, "the kill must land part way"
        rerun = manage(env, "send_outbox")
        assert rerun.returncode == 0, rerun.stderr
        assert manage(env, "send_outbox").stdout.startswith("送信 0 件")
        hashes = json.loads(manage(env, "shell", "-v0", "-c", HASHES_SCRIPT).stdout)
    finally:
        controller.stop()

    ids, passwords = defaultdict(set), defaultdict(set)
    for received in handler.received:
        body = received.message.get_content()
        code = re.search(r"ユーザーID（団体コード）：(\d{6})", body).group(1)
        assert set(received.rcpt_tos) == {f"kodomo@l{code}.example.lg.jp", f"center@m{code}.example.lg.jp"}
        ids[code].add(received.message["Message-ID"].strip())
        passwords[code].add(re.search(r"初期パスワード：(\S+)", body).group(1))
    assert len(ids) == COUNT, "every local government got its credentials"
    assert all(len(v) == 1 for v in ids.values()), "one message per local government"
    assert all(len(v) == 1 for v in passwords.values()), "never two different passwords"
    assert COUNT <= len(handler.received) <= COUNT + 1
    for code in list(passwords)[::20]:
        (password,) = passwords[code]
        assert check_password(password, hashes[code])
