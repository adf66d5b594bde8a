"""Provisioning local-government accounts from the address list (issue 3, points 2 and 3)."""

import csv
import io
import re
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.core.management.base import CommandError

from kokasen.accounts import roles, selectors, services
from kokasen.accounts.models import RegisteredAddress
from kokasen.core.models import AuditEvent
from kokasen.core.refusals import Refused
from kokasen.core.tables import UNDECODABLE
from kokasen.localgov.models import LocalGovernment
from kokasen.notifications import message_templates, sender
from kokasen.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db

User = get_user_model()
HEADER = ["団体コード", "団体名", "メールアドレス"]
SAMPLE = ["010006", "011002", "012025", "131016"]  # 北海道, 札幌市, 函館市, 千代田区


def addresses_of(code):
    return [f"kodomo@l{code}.example.lg.jp", f"center@m{code}.example.lg.jp"]


def rows_for(governments, *, addresses=addresses_of, one_cell=False):
    rows = []
    for lg in governments:
        if one_cell:
            rows.append([lg.code, str(lg), "、".join(addresses(lg.code))])
        else:
            rows.extend([lg.code, lg.name, address] for address in addresses(lg.code))
    return rows


def csv_bytes(rows, encoding="utf-8"):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([HEADER, *rows])
    return out.getvalue().encode(encoding)


def sample_governments(codes=SAMPLE):
    return list(LocalGovernment.objects.filter(code__in=codes).order_by("code"))


def read(data, filename="list.csv"):
    return selectors.address_list_read(data=data, filename=filename)


def snapshot():
    return (
        User.objects.count(),
        RegisteredAddress.objects.count(),
        OutboxMessage.objects.count(),
        AuditEvent.objects.count(),
        tuple(User.objects.order_by("pk").values_list("password", flat=True)),
        tuple(RegisteredAddress.objects.order_by("pk").values_list("address", flat=True)),
    )


def write(tmp_path, data, name="list.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- broken lists change nothing ------------------------------------------------------------

GOOD = [["011002", "札幌市", "kodomo@l011002.example.lg.jp"], ["131016", "千代田区", "kodomo@l131016.example.lg.jp"]]
BROKEN = {
    "wrong encoding": (
        csv_bytes([], "cp932") + b"\x80\xa0\xfd\r\n" + csv_bytes(GOOD, "cp932").split(b"\r\n", 1)[1],
        [UNDECODABLE],
    ),
    "missing column": (
        "団体コード,団体名\r\n011002,札幌市\r\n".encode(),
        ["必須の列「メールアドレス」がありません（1行目の見出しを確認してください）。"],
    ),
    "unknown code": (
        csv_bytes([*GOOD, ["999997", "架空町", "a@example.lg.jp"]]),
        ["4行目（団体コード）：団体コード「999997」は全国地方公共団体コードにありません。"],
    ),
    "bad address": (
        csv_bytes([GOOD[0], ["131016", "千代田区", "kodomo@@example.lg.jp"], ["012025", "函館市", "函館@example.jp"]]),
        [
            "3行目（メールアドレス）：メールアドレス「kodomo@@example.lg.jp」の形式が正しくありません。「@」が2つ以上あります。",
            "4行目（メールアドレス）：メールアドレス「函館@example.jp」の形式が正しくありません。全角文字や日本語は使えません。",
        ],
    ),
    "duplicate rows": (
        csv_bytes([*GOOD, GOOD[1], GOOD[0]]),
        ["4行目：3行目と同じ内容の行です。", "5行目：2行目と同じ内容の行です。"],
    ),
}


@pytest.fixture
def provisioned():
    """Two accounts already there, so that a broken list could also damage existing ones."""
    services.address_list_import(result=read(csv_bytes(rows_for(sample_governments(["010006", "012025"])))))
    return snapshot()


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_list_through_the_command_reports_every_bad_row_and_imports_nothing(
    case, provisioned, tmp_path, capsys
):
    data, expected = BROKEN[case]
    path = write(tmp_path, data)
    for args in ((), ("--check",)):
        with pytest.raises(CommandError) as raised:
            call_command("import_address_list", str(path), *args)
        err = capsys.readouterr().err
        assert err.splitlines() == expected
        assert "何も取り込んでいません" in str(raised.value)
        assert snapshot() == provisioned


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_list_through_the_service_is_refused(case, provisioned):
    data, expected = BROKEN[case]
    result = read(data)
    with pytest.raises(Refused) as raised:
        services.address_list_import(result=result)
    assert [str(p) for p in raised.value.problems] == expected
    assert snapshot() == provisioned


def test_a_failure_part_way_rolls_everything_back(provisioned, monkeypatch):
    result = read(csv_bytes(rows_for(sample_governments())))
    calls = []

    def failing_audit(**kwargs):
        calls.append(kwargs["action"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(**kwargs)

    original = services.audit_record
    monkeypatch.setattr(services, "audit_record", failing_audit)
    with pytest.raises(RuntimeError):
        services.address_list_import(result=result)
    assert calls == ["account.created", "account.created"]
    assert snapshot() == provisioned


def test_a_username_taken_by_another_account_is_refused(provisioned):
    User.objects.create_user("011002", password="x" * 16)  # e.g. a staff account named like a code
    before = snapshot()
    with pytest.raises(Refused) as raised:
        services.address_list_import(result=read(csv_bytes(rows_for(sample_governments()))))
    assert [str(p) for p in raised.value.problems] == [
        "4行目（団体コード）：ユーザーID「011002」は、札幌市のアカウントではない別のアカウントが使っています。"
        "システム管理者に連絡してください。"
    ]
    assert snapshot() == before


# --- importing ------------------------------------------------------------------------------


def test_check_validates_and_changes_nothing(tmp_path, capsys):
    before = snapshot()
    call_command("import_address_list", str(write(tmp_path, csv_bytes(rows_for(sample_governments())))), "--check")
    out = capsys.readouterr().out
    assert "問題はありません。4 団体、メールアドレス 8 件（新規 4 団体、アドレス変更 0 団体、変更なし 0 団体）" in out
    assert snapshot() == before


def test_import_creates_accounts_addresses_messages_and_audit(tmp_path, capsys):
    staff = User.objects.create_user("staff-for-audit", password="x" * 16)
    result = read(csv_bytes(rows_for(sample_governments(), one_cell=True), "cp932"))
    assert result.encoding == "cp932"
    plan = services.address_list_import(result=result, acting_user=staff, source="list.csv")
    assert (len(plan.create), len(plan.update), plan.queued) == (4, 0, 4)

    member_group = roles.ensure_role_groups()[roles.MEMBER]
    for code in SAMPLE:
        user = User.objects.get(username=code)
        assert user.local_government.code == code
        assert list(user.groups.all()) == [member_group]
        assert [a.address for a in user.registered_addresses.all()] == addresses_of(code)
        assert user.password.startswith("pbkdf2_sha256$1000$")
        assert user.is_active and not user.is_staff
        (message,) = OutboxMessage.objects.filter(local_government=user.local_government)
        assert message.to == addresses_of(code) and message.bcc == []
        assert message.kind == message_templates.CREDENTIALS
        assert message_templates.PASSWORD_SLOT in message.body
        assert message.secret_nonce.startswith("v1:")
        assert code in message.body and str(user.local_government) in message.subject
        assert "http://testserver/login/" in message.body
    # Other apps audit too (the demo site's restriction repairs): count the accounts' events.
    actions = Counter(AuditEvent.objects.filter(action__startswith="account").values_list("action", flat=True))
    assert actions == {"account.created": 4, "accounts.address_list_imported": 1}
    summary = AuditEvent.objects.get(action="accounts.address_list_imported")
    assert summary.actor == staff and summary.target_label == "list.csv"
    assert summary.detail == {"encoding": "cp932", "created": 4, "updated": 0, "unchanged": 0, "queued": 4}


def test_no_password_in_plain_text_anywhere_in_the_database(smtp_server):
    services.address_list_import(result=read(csv_bytes(rows_for(sample_governments()))))
    queued = list(OutboxMessage.objects.all())
    passwords = {m.local_government.code: sender._body(m) for m in queued}
    passwords = {code: re.search(r"初期パスワード：(\S+)", body).group(1) for code, body in passwords.items()}

    def database_text():
        rows = [
            *OutboxMessage.objects.values_list("subject", "body", "to", "secret_nonce", "last_error"),
            *AuditEvent.objects.values_list("detail", "target_label"),
            *User.objects.values_list("password", "username"),
        ]
        return repr(rows)

    assert not any(p in database_text() for p in passwords.values())
    sender.send_outbox()
    assert not any(p in database_text() for p in passwords.values())
    assert set(OutboxMessage.objects.values_list("secret_nonce", flat=True)) == {""}, "nonces erased once sent"
    for received in smtp_server.received:
        code = re.search(r"ユーザーID（団体コード）：(\d{6})", received.message.get_content()).group(1)
        assert passwords[code] in received.message.get_content()


def test_reimporting_is_idempotent_and_updates_addresses_without_resetting_passwords(tmp_path, capsys):
    governments = sample_governments()
    services.address_list_import(result=read(csv_bytes(rows_for(governments))))
    passwords = dict(User.objects.values_list("username", "password"))
    outbox, audit = OutboxMessage.objects.count(), AuditEvent.objects.count()

    call_command("import_address_list", str(write(tmp_path, csv_bytes(rows_for(governments)))))
    assert "新規 0 団体、アドレス変更 0 団体、変更なし 4 団体" in capsys.readouterr().out
    assert dict(User.objects.values_list("username", "password")) == passwords
    assert OutboxMessage.objects.count() == outbox
    assert AuditEvent.objects.count() == audit + 1  # only the import summary

    def changed(code):
        return ["new@l011002.example.lg.jp"] if code == "011002" else addresses_of(code)

    User.objects.filter(username="131016").update(is_active=False)  # disabled meanwhile
    plan = services.address_list_import(result=read(csv_bytes(rows_for(governments, addresses=changed))))
    assert (plan.create, plan.update, plan.queued) == ([], ["011002"], 0)
    assert [a.address for a in User.objects.get(username="011002").registered_addresses.all()] == changed("011002")
    assert dict(User.objects.values_list("username", "password")) == passwords
    assert not User.objects.get(username="131016").is_active, "an import never re-enables an account"
    event = AuditEvent.objects.get(action="account.addresses_updated")
    assert event.detail == {"before": addresses_of("011002"), "after": changed("011002")}
    assert OutboxMessage.objects.count() == outbox


def test_a_list_with_fewer_local_governments_leaves_the_others_alone():
    services.address_list_import(result=read(csv_bytes(rows_for(sample_governments()))))
    services.address_list_import(result=read(csv_bytes(rows_for(sample_governments(["011002"])))))
    assert RegisteredAddress.objects.count() == 8
    assert User.objects.filter(is_active=True).count() == 4


# --- all 1,788 local governments against a real SMTP server ---------------------------------


def test_provisioning_all_local_governments_sends_one_message_each_to_its_own_addresses_only(smtp_server):
    governments = list(LocalGovernment.objects.order_by("code"))
    assert len(governments) == 1788
    plan = services.address_list_import(result=read(csv_bytes(rows_for(governments))))
    assert (len(plan.create), plan.queued) == (1788, 1788)
    report = sender.send_outbox()
    assert (report.sent, report.retried, report.failed) == (1788, 0, 0)
    assert len(smtp_server.received) == 1788

    every_address = {a for lg in governments for a in addresses_of(lg.code)}
    seen_codes = Counter()
    passwords = {}
    for received in smtp_server.received:
        message = received.message
        body = message.get_content()
        code = re.search(r"ユーザーID（団体コード）：(\d{6})", body).group(1)
        seen_codes[code] += 1
        own = set(addresses_of(code))
        assert set(received.rcpt_tos) == own, "envelope: its own addresses only"
        assert {a.strip() for a in message["To"].split(",")} == own
        assert message["Cc"] is None and message["Bcc"] is None
        text = "\n".join(f"{k}: {v}" for k, v in message.items()) + "\n" + body
        foreign = {a for a in every_address - own if a in text}
        assert not foreign, f"{code}: foreign addresses {foreign}"
        assert not re.search(r"l(?!" + code + r")\d{6}\.example", text)
        assert received.tls
        assert message_templates.PASSWORD_SLOT not in body and "[[kokasen:" not in body
        passwords[code] = re.search(r"初期パスワード：(\S+)", body).group(1)
    assert seen_codes == {lg.code: 1 for lg in governments}
    assert len(set(passwords.values())) == 1788

    users = {u.username: u for u in User.objects.filter(username__in=list(passwords)[::150])}
    assert len(users) == 12
    for code, user in users.items():
        assert check_password(passwords[code], user.password)
        assert not check_password(passwords[code] + "x", user.password)

    # Importing the same list again queues nothing and resets no password.
    hashes = dict(User.objects.values_list("username", "password"))
    plan = services.address_list_import(result=read(csv_bytes(rows_for(governments))))
    assert (len(plan.create), len(plan.update), plan.queued) == (0, 0, 0)
    assert dict(User.objects.values_list("username", "password")) == hashes
    assert sender.send_outbox().sent == 0
    assert len(smtp_server.received) == 1788


def test_a_generated_password_logs_in_and_is_upgraded_to_the_preferred_hasher(client, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    services.address_list_import(result=read(csv_bytes(rows_for(sample_governments(["011002"])))))
    message = OutboxMessage.objects.get()
    password = re.search(r"初期パスワード：(\S+)", sender._body(message)).group(1)
    assert len(password) == 20
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    user = authenticate(RequestFactory().post("/login/"), username="011002", password=password)
    assert user is not None and user.username == "011002"
    user.refresh_from_db()
    assert user.password.startswith("argon2$"), "re-hashed with Argon2 at the first login"
    assert user.check_password(password)


def test_production_settings_keep_the_hasher_that_verifies_generated_passwords():
    from kokasen.settings import base

    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in base.PASSWORD_HASHERS
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
