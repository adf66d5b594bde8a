"""Invitations through the real outbox and a real SMTP server (aiosmtpd on loopback, STARTTLS):
one message per participant with only their own address and name, one per facilitator, no
duplicates when queued again, corrections when details change, refusals in Japanese."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from kokasen.core.models import AuditEvent
from kokasen.core.refusals import Refused
from kokasen.meetings.models import CasePresentation, Half, MeetingSession, MeetingTool, Participant, Room
from kokasen.meetings.services import invitations, rooms
from kokasen.meetings.tests.test_rooms import grouped_meeting
from kokasen.notifications import sender
from kokasen.notifications.models import OutboxMessage
from kokasen.testing import login_staff

pytestmark = pytest.mark.django_db

TOKYO = datetime.timezone(datetime.timedelta(hours=9))


def ready_meeting(operator, *, towns=8, capacity=15, facilitators=True):
    """24 people in 4 groups over 2 rooms with URLs, grouping approved, sessions dated."""
    meeting = grouped_meeting(
        towns=towns, per_town=3, capacity_per_url=capacity, title="西日本エリア 町村職員の情報交換会"
    )
    for p in Participant.objects.filter(meeting=meeting):
        # Names and addresses that never contain one another (試験 太郎1 is inside 試験 太郎12).
        p.name = f"氏名{p.number:03d}号"
        p.email = f"person{p.number:03d}@town{p.number:03d}.example.lg.jp"
        p.save()
    MeetingSession.objects.filter(meeting=meeting, half=Half.FIRST).update(
        starts_at=datetime.datetime(2026, 6, 10, 14, 0, tzinfo=TOKYO),
        ends_at=datetime.datetime(2026, 6, 10, 16, 0, tzinfo=TOKYO),
        agenda="課題・取組・目標",
    )
    session = MeetingSession.objects.get(meeting=meeting, half=Half.FIRST)
    CasePresentation.objects.create(session=session, title="センター設置までの1年", position=1)
    rooms.rooms_assign(meeting=meeting, acting_user=operator)
    for room in Room.objects.filter(meeting=meeting):
        room.url = f"https://zoom.example/j/10{room.number}"
        if facilitators:
            room.facilitator_name = f"進行役{room.number}"
            room.facilitator_email = f"facilitator{room.number}@contractor.example.jp"
        room.save()
    meeting.grouping_approved_at, meeting.grouping_approved_by = timezone.now(), operator
    meeting.save()
    return meeting


def _text(received) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in received.message.items())
    return headers + "\n" + received.message.get_content()


def test_the_zoom_sign_in_note_is_only_for_zoom_meetings(operator):
    meeting = ready_meeting(operator)
    person = Participant.objects.filter(meeting=meeting).select_related("group__room", "local_government").first()
    session = MeetingSession.objects.get(meeting=meeting, half=Half.FIRST)
    assert "Zoom にサインイン" in invitations.participant_text(meeting, session, person).body
    meeting.tool = MeetingTool.TEAMS
    meeting.save()
    text = invitations.participant_text(meeting, session, person).body
    assert "サインイン" not in text and "■ 会議ツール　Microsoft Teams" in text


def test_each_participant_gets_one_message_showing_only_themselves(smtp_server, operator):
    meeting = ready_meeting(operator)
    people = list(Participant.objects.filter(meeting=meeting).select_related("group__room", "local_government"))
    assert len(people) == 24 and Room.objects.filter(meeting=meeting).count() == 2
    queued = invitations.invitations_queue(meeting=meeting, half=Half.FIRST, acting_user=operator)
    assert queued == 24 + 2
    report = sender.send_outbox()
    assert (report.sent, report.failed) == (26, 0)
    assert len(smtp_server.received) == 26

    by_address = {}
    for received in smtp_server.received:
        assert received.tls
        (address,) = received.rcpt_tos
        by_address[address] = received
        assert received.message["Cc"] is None and received.message["Bcc"] is None
        assert received.message["To"].strip() == address
    for person in people:
        received = by_address.pop(person.email)
        text = _text(received)
        assert f"{person.name} 様" in text and str(person.local_government) in text
        assert f"■ あなたのグループ　{person.group.name}" in text
        assert person.group.room.url in text
        assert "2026年6月10日（水）14:00〜16:00" in text and "課題・取組・目標" in text
        assert "センター設置までの1年" in text
        # Zoom pre-assigns by address and only for people signed in with it (issue 16, item 5)
        assert f"このメールを受け取ったアドレス（{person.email}）に事前に割り当てています" in text
        assert "このアドレスで Zoom にサインインして参加した方にだけ働きます" in text
        assert f"表示名を「団体名　氏名」（例：{person.local_government.name} {person.name}）にしてください" in text
        for other in people:
            if other.pk != person.pk:
                assert other.email not in text and other.name not in text, (person.number, other.number)
        for n in (1, 2):
            assert f"facilitator{n}@" not in text
        other_room = ({"https://zoom.example/j/101", "https://zoom.example/j/102"} - {person.group.room.url}).pop()
        assert other_room not in text, "only their own room's URL"
    # What remains are the two facilitators, each with their own room and groups, no personal data.
    assert sorted(by_address) == ["facilitator1@contractor.example.jp", "facilitator2@contractor.example.jp"]
    for address, received in by_address.items():
        text = _text(received)
        room = Room.objects.get(meeting=meeting, facilitator_email=address)
        assert f"{room.facilitator_name} 様" in text and room.url in text
        names = [g.name for g in room.groups.order_by("number")]
        assert all(f"・{name}：" in text for name in names)
        assert not any(p.email in text or p.name in text for p in people)
        assert len(re.findall(r"^・グループ\d+：", received.message.get_content(), re.M)) == len(names)

    # Queueing again creates nothing, and the sender has nothing to send.
    before = OutboxMessage.objects.count()
    assert invitations.invitations_queue(meeting=meeting, half=Half.FIRST, acting_user=operator) == 0
    assert OutboxMessage.objects.count() == before
    assert sender.send_outbox().sent == 0 and len(smtp_server.received) == 26
    events = AuditEvent.objects.filter(action="meetings.invitations_queued").order_by("pk")
    assert [(e.detail["participants"], e.detail["facilitators"]) for e in events] == [(24, 2), (0, 0)]


def test_a_changed_url_sends_a_correction_to_that_room_only(smtp_server, operator):
    meeting = ready_meeting(operator)
    invitations.invitations_queue(meeting=meeting, half=Half.FIRST, acting_user=operator)
    sender.send_outbox()
    room = Room.objects.get(meeting=meeting, number=2)
    room.url = "https://zoom.example/j/999"
    room.save()
    in_room = Participant.objects.filter(meeting=meeting, group__room=room).count()
    assert invitations.invitations_queue(meeting=meeting, half=Half.FIRST, acting_user=operator) == in_room + 1
    sender.send_outbox()
    corrections = smtp_server.received[26:]
    assert len(corrections) == in_room + 1
    for received in corrections:
        assert "【変更】" in received.message["Subject"]
        assert "https://zoom.example/j/999" in received.message.get_content()


def test_an_unsent_earlier_version_is_cancelled_not_delivered(smtp_server, operator):
    meeting = ready_meeting(operator)
    invitations.invitations_queue(meeting=meeting, half=Half.FIRST, acting_user=operator)
    Room.objects.filter(meeting=meeting, number=1).update(url="https://zoom.example/j/555")
    invitations.invitations_queue(meeting=meeting, half=Half.FIRST, acting_user=operator)
    sender.send_outbox()
    assert len(smtp_server.received) == 26, "one message per person, the latest"
    assert not any("https://zoom.example/j/101" in r.message.get_content() for r in smtp_server.received)
    assert not any("【変更】" in r.message["Subject"] for r in smtp_server.received), "nothing went out before"
    assert OutboxMessage.objects.filter(status="cancelled").count() == 13  # 12 people and a facilitator


def test_refusals_in_japanese_queue_nothing(operator):
    meeting = ready_meeting(operator)
    meeting.grouping_approved_at = None
    meeting.save()
    Room.objects.filter(meeting=meeting, number=2).update(url="")
    MeetingSession.objects.filter(meeting=meeting, half=Half.SECOND).update(starts_at=None)
    with pytest.raises(Refused) as refused:
        invitations.invitations_queue(meeting=meeting, half=Half.FIRST, acting_user=operator)
    assert any("グループ分けがまだ承認されていません" in e for e in refused.value.messages)
    assert any("会議URLが入力されていない会議室があります（会議室2）" in e for e in refused.value.messages)
    with pytest.raises(Refused) as refused:
        invitations.invitations_queue(meeting=meeting, half=Half.SECOND, acting_user=operator)
    assert any("下半期の開始日時が入力されていません" in e for e in refused.value.messages)
    assert OutboxMessage.objects.count() == 0


def test_facilitators_without_an_address_get_nothing_and_the_screen_says_so(client, operator):
    meeting = ready_meeting(operator, facilitators=False)
    login_staff(client, operator)
    url = reverse("meetings_admin:invitations", args=[meeting.pk])
    page = client.get(url).content.decode()
    assert "ファシリテーター向けの案内を送りません" in page and "上半期の案内を送信待ちにする（参加者24人）" in page
    assert "下半期の開始日時が入力されていません" in page
    response = client.post(url, {"half": "first"}, follow=True)
    assert "上半期の案内を24通、送信待ちにしました" in response.content.decode()
    assert set(OutboxMessage.objects.values_list("kind", flat=True)) == {"meeting_invitation"}
    response = client.post(url, {"half": "first"}, follow=True)
    assert "新しく送るメールはありません" in response.content.decode()
    response = client.post(url, {"half": "second"}, follow=True)
    assert "下半期の開始日時が入力されていません" in response.content.decode()
    assert OutboxMessage.objects.count() == 24


def test_the_second_half_is_queued_on_its_own_with_its_own_text(operator):
    meeting = ready_meeting(operator)
    MeetingSession.objects.filter(meeting=meeting, half=Half.SECOND).update(
        starts_at=datetime.datetime(2026, 11, 18, 10, 0, tzinfo=TOKYO), agenda="進捗・取組"
    )
    assert invitations.invitations_queue(meeting=meeting, half=Half.FIRST, acting_user=operator) == 26
    assert invitations.invitations_queue(meeting=meeting, half=Half.SECOND, acting_user=operator) == 26
    second = OutboxMessage.objects.filter(dedupe_key__startswith=f"meeting-invite:{meeting.pk}:second:")
    assert second.count() == 24
    body = second.first().body
    assert "2026年11月18日（水）10:00" in body and "上半期に立てた目標の進捗" in body and "進捗・取組" in body
    assert "（下半期）のご案内" in second.first().subject
