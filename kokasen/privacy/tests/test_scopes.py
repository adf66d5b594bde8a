"""What each scope covers, and that the dry run changes nothing. (The rewrite of the database
files and the canary are in test_canary.py: it needs a database outside the test's transaction.)"""

import hashlib

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import override_settings

from kokasen.feedback.models import Opinion
from kokasen.localgov.models import LocalGovernment
from kokasen.meetings.models import Group, Participant, Room, SurveyResponse
from kokasen.meetings.tests.builders import add_participants, make_meeting
from kokasen.notifications.models import OutboxMessage
from kokasen.notifications.services import message_queue
from kokasen.privacy import disposal
from kokasen.privacy.scopes import plan_for
from kokasen.testing import CODE_A

pytestmark = pytest.mark.django_db


def _meeting_with_people(title):
    meeting = make_meeting(title=title)
    codes = list(LocalGovernment.objects.filter(kind="town").values_list("code", flat=True)[:2]) or [CODE_A]
    people = add_participants(meeting, codes, per_local_government=2)
    room = Room.objects.create(
        meeting=meeting, number=1, name="A", facilitator_name="進行 花子", facilitator_email="f@example.jp"
    )
    Group.objects.create(meeting=meeting, number=1, name="グループ1", department="こども家庭課", room=room)
    SurveyResponse.objects.create(meeting=meeting, row_number=1, answers={"感想": "よかった"})
    message_queue(
        kind="meeting_invitation",
        to=[people[0].email],
        subject="ご案内",
        body=f"{people[0].name} 様",
        dedupe_key=f"meeting-invite:{meeting.pk}:first:{people[0].pk}:x",
    )
    return meeting


def test_the_meeting_scope_takes_that_meeting_only():
    one, other = _meeting_with_people("一つ目"), _meeting_with_people("二つ目")
    message_queue(kind="other", to=["x@example.jp"], subject="別件", body="別件の本文")
    disposal.apply(plan_for("meeting", meeting=one.pk))
    assert not Participant.objects.filter(meeting=one).exists()
    assert not SurveyResponse.objects.filter(meeting=one).exists()
    assert Group.objects.get(meeting=one).department == ""
    room = Room.objects.get(meeting=one)
    assert (room.facilitator_name, room.facilitator_email) == ("", "")
    assert not OutboxMessage.objects.filter(dedupe_key__startswith=f"meeting-invite:{one.pk}:").exists()
    # Everything else stays.
    assert Participant.objects.filter(meeting=other).count() == 4
    assert SurveyResponse.objects.filter(meeting=other).count() == 1
    assert Group.objects.get(meeting=other).department == "こども家庭課"
    assert Room.objects.get(meeting=other).facilitator_email == "f@example.jp"
    assert OutboxMessage.objects.filter(dedupe_key__startswith=f"meeting-invite:{other.pk}:").count() == 1
    assert OutboxMessage.objects.filter(kind="other").count() == 1


def test_the_contacts_scope_blanks_contacts_and_keeps_the_opinions(member_a):
    kept = Opinion.objects.create(
        author=member_a, body="ご意見の本文", contact_name="部署 氏名", contact_email="c@example.jp"
    )
    disposal.apply(plan_for("contacts"))
    kept.refresh_from_db()
    assert (kept.body, kept.contact_name, kept.contact_email) == ("ご意見の本文", "", "")


def test_the_outbox_scope_keeps_what_is_still_to_be_sent():
    queued = message_queue(kind="k", to=["a@example.jp"], subject="s", body="b")
    sent = message_queue(kind="k", to=["b@example.jp"], subject="s", body="b")
    OutboxMessage.objects.filter(pk=sent.pk).update(status=OutboxMessage.Status.SENT)
    disposal.apply(plan_for("outbox"))
    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [queued.pk]


def _counts():
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


def _hashes(root):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_dry_run_changes_nothing(tmp_path, member_a, capsys):
    _meeting_with_people("試行")
    Opinion.objects.create(author=member_a, body="本文", contact_email="c@example.jp")
    media, logs = tmp_path / "media", tmp_path / "logs"
    (media / "documents").mkdir(parents=True)
    (media / "documents" / "資料.pdf").write_bytes(b"%PDF-1.4 personal")
    logs.mkdir()
    (logs / "access.log").write_text('{"ip": "192.0.2.1"}\n')
    before_rows, before_files = _counts(), _hashes(tmp_path)
    with override_settings(MEDIA_ROOT=media, PRIVACY_LOG_FILES=[str(logs / "*.log*")]):
        call_command("dispose_personal_data", "--scope", "contract-end", "--dry-run")
    out = capsys.readouterr().out
    assert _counts() == before_rows and _hashes(tmp_path) == before_files
    assert "参加者名簿（氏名・メールアドレス・部署・役職）（meetings.Participant）: 4件を削除" in out
    assert "資料.pdf" in out and "access.log" in out and "何も変更していません" in out
    assert "暗号鍵の破棄" in out  # contract end: the backup hook is asked to destroy the key


def test_contract_end_needs_a_report_folder():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--out"):
        call_command("dispose_personal_data", "--scope", "contract-end", "--yes")


def test_a_disposal_refuses_to_run_inside_a_transaction():
    with pytest.raises(RuntimeError, match="transaction"):
        disposal.dispose(plan_for("outbox"), dry_run=False)


def test_export_first_writes_the_covered_data_and_changes_nothing(tmp_path, member_a, capsys):
    from openpyxl import load_workbook

    meeting = _meeting_with_people("返却")
    Participant.objects.filter(meeting=meeting).update(name='=HYPERLINK("x")')
    before = _counts()
    call_command(
        "dispose_personal_data",
        "--scope",
        "meeting",
        "--meeting",
        str(meeting.pk),
        "--dry-run",
        "--export-first",
        "--out",
        str(tmp_path),
    )
    assert _counts() == before
    data = (tmp_path / "returned-data.xlsx").read_bytes()
    assert hashlib.sha256(data).hexdigest() in capsys.readouterr().out
    workbook = load_workbook(tmp_path / "returned-data.xlsx")
    sheet = workbook["参加者名簿（氏名・メールアドレス・部署・役職）"[:31]]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    header = values[3]
    assert "氏名" in header and "メールアドレス" in header
    names = [row[header.index("氏名")] for row in values[4:]]
    assert names == ['=HYPERLINK("x")'] * 4
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == '=HYPERLINK("x")')
    assert cell.data_type == "s"  # text, never a formula
