"""The meeting admin screens through HTTP: who may open them, the meeting form with its two
sessions and case presentations, the meeting's page, attendance, goals, uploads and downloads."""

import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kokasen.accounts import roles
from kokasen.core.models import AuditEvent
from kokasen.localgov.models import LocalGovernment
from kokasen.meetings.models import CasePresentation, Goal, Half, Meeting, MeetingSession, Participant, Room
from kokasen.meetings.services import rooms
from kokasen.meetings.tests.builders import add_participants, make_meeting
from kokasen.meetings.tests.test_rooms import grouped_meeting, west_towns
from kokasen.testing import login_member, login_staff, make_member, make_staff

pytestmark = pytest.mark.django_db

SECRET_NAME = "秘匿 参加者"


def screens(meeting):
    pk = [meeting.pk]
    return [
        reverse("meetings_admin:index"),
        reverse("meetings_admin:add"),
        reverse("meetings_admin:center_list"),
        reverse("meetings_admin:detail", args=pk),
        reverse("meetings_admin:edit", args=pk),
        reverse("meetings_admin:roster", args=pk),
        reverse("meetings_admin:participants", args=pk),
        reverse("meetings_admin:rooms", args=pk),
        reverse("meetings_admin:goals", args=pk),
        reverse("meetings_admin:invitations", args=pk),
    ]


def test_only_agency_admins_and_operators_with_totp_open_the_screens(agency_admin, operator):
    meeting = grouped_meeting(towns=2)
    Participant.objects.filter(meeting=meeting).update(name=SECRET_NAME)
    urls = screens(meeting)
    posts = [
        (reverse("meetings_admin:rooms_assign", args=[meeting.pk]), {}),
        (reverse("meetings_admin:invitations", args=[meeting.pk]), {"half": "first"}),
        (reverse("meetings_admin:add"), {"kind": "prefecture", "title": "乗っ取り"}),
    ]
    anonymous = Client()
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    member = Client()
    login_member(member, make_member())
    unverified = Client()
    unverified.force_login(make_staff(roles.AGENCY_ADMIN))  # password step only, no TOTP
    for visitor in (anonymous, member, unverified):
        for url in urls:
            response = visitor.get(url)
            assert response.status_code in (302, 403), url
            assert SECRET_NAME not in response.content.decode()
        for url, data in posts:
            assert visitor.post(url, data).status_code in (302, 403)
    assert unverified.get(urls[0])["Location"].startswith("/login/totp/")
    assert not Room.objects.exists() and Meeting.objects.count() == 1
    assert not AuditEvent.objects.filter(action__startswith="meetings.").exists()
    for user in (agency_admin, operator):
        staff = Client()
        login_staff(staff, user)
        for url in urls:
            assert staff.get(url).status_code == 200, (user, url)
    staff = Client()
    login_staff(staff, operator)
    assert SECRET_NAME in staff.get(reverse("meetings_admin:participants", args=[meeting.pk])).content.decode()


# --- create and edit --------------------------------------------------------------------------


def meeting_data(**overrides):
    data = {
        "kind": "town",
        "title": "東日本エリア 町村職員の情報交換会",
        "area": "east",
        "tool": "zoom",
        "capacity_per_url": "100",
        "min_group_size": "5",
        "max_group_size": "7",
        "max_population_ratio": "3",
        "first-starts_at": "2026-06-10T14:00",
        "first-ends_at": "2026-06-10T16:00",
        "first-agenda": "課題・取組・目標",
        "second-starts_at": "",
        "second-ends_at": "",
        "second-agenda": "進捗・取組",
    }
    return data | overrides


def presentation_data(half, rows=(), initial=0):
    prefix = f"presentations-{half}"
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "20",
    }
    for i, row in enumerate(rows):
        data |= {f"{prefix}-{i}-{k}": v for k, v in row.items()}
    return data


def test_the_add_form_prefills_the_agenda_and_validates_in_japanese(staff_client):
    page = staff_client.get(reverse("meetings_admin:add")).content.decode()
    assert "課題・取組・目標" in page and "進捗・取組" in page
    response = staff_client.post(
        reverse("meetings_admin:add"),
        meeting_data(area="", min_group_size="8", max_group_size="6", **{"first-ends_at": "2026-06-10T13:00"}),
    )
    content = response.content.decode()
    assert response.status_code == 400
    assert "町村職員の情報交換会では、エリア（東日本・西日本）を選んでください。" in content
    assert "グループの最大人数は、最小人数以上にしてください。" in content
    assert "終了日時は開始日時より後にしてください。" in content
    response = staff_client.post(reverse("meetings_admin:add"), meeting_data(capacity_per_url="0", title=""))
    content = response.content.decode()
    assert "名称を入力してください。" in content and "1以上の数を入力してください。" in content
    assert not Meeting.objects.exists()


def test_create_then_edit_with_case_presentations(staff_client, operator):
    response = staff_client.post(reverse("meetings_admin:add"), meeting_data())
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("meetings_admin:detail", args=[meeting.pk])
    assert (meeting.kind, meeting.area, meeting.capacity_per_url) == ("town", "east", 100)
    first = MeetingSession.objects.get(meeting=meeting, half=Half.FIRST)
    assert timezone.localtime(first.starts_at).strftime("%Y-%m-%d %H:%M") == "2026-06-10 14:00"
    assert MeetingSession.objects.get(meeting=meeting, half=Half.SECOND).agenda == "進捗・取組"
    created = AuditEvent.objects.get(action="meetings.meeting_created")
    assert created.actor == operator and created.target_id == str(meeting.pk)

    edit = reverse("meetings_admin:edit", args=[meeting.pk])
    page = staff_client.get(edit).content.decode()
    east_town = LocalGovernment.objects.filter(kind="town", area="east").order_by("code").first()
    west_town = LocalGovernment.objects.filter(kind="town", area="west").order_by("code").first()
    assert str(east_town) in page and str(west_town) not in page, "presenters are towns of the meeting's area"

    refused = staff_client.post(
        edit,
        meeting_data()
        | presentation_data(
            "first",
            [
                {"title": "", "local_government": str(west_town.pk), "material": "", "position": "1"},
            ],
        )
        | presentation_data("second"),
    )
    assert refused.status_code == 400
    content = refused.content.decode()
    assert "発表テーマを入力してください。" in content and "発表団体を一覧から選んでください。" in content

    response = staff_client.post(
        edit,
        meeting_data(title="東日本エリア（令和8年度）")
        | presentation_data(
            "first",
            [
                {
                    "title": "母子保健と児童福祉の一体化",
                    "local_government": str(east_town.pk),
                    "material": "",
                    "position": "1",
                },
            ],
        )
        | presentation_data("second"),
    )
    assert response.status_code == 302
    presentation = CasePresentation.objects.get()
    assert (presentation.session.half, presentation.local_government) == ("first", east_town)
    changed = AuditEvent.objects.get(action="meetings.meeting_changed")
    assert "title" in changed.detail["changed"]
    assert changed.detail["sessions"]["first"]["presentations"]["added"] == ["母子保健と児童福祉の一体化"]

    detail = staff_client.get(reverse("meetings_admin:detail", args=[meeting.pk])).content.decode()
    assert "母子保健と児童福祉の一体化" in detail and "2026-06-10 14:00" in detail

    staff_client.post(
        edit,
        meeting_data(title="東日本エリア（令和8年度）")
        | presentation_data(
            "first",
            [
                {
                    "id": str(presentation.pk),
                    "title": presentation.title,
                    "local_government": str(east_town.pk),
                    "material": "",
                    "position": "1",
                    "DELETE": "on",
                },
            ],
            initial=1,
        )
        | presentation_data("second"),
    )
    assert not CasePresentation.objects.exists()


def test_kind_and_area_are_fixed_once_a_roster_exists(staff_client):
    meeting = make_meeting(area="west")
    add_participants(meeting, west_towns(1))
    response = staff_client.post(
        reverse("meetings_admin:edit", args=[meeting.pk]),
        meeting_data(area="east") | presentation_data("first") | presentation_data("second"),
    )
    assert response.status_code == 400
    assert "参加者名簿を取り込んだ後は、種類とエリアを変更できません。" in response.content.decode()
    assert Meeting.objects.get(pk=meeting.pk).area == "west"


def test_a_prefecture_meeting_needs_no_area(staff_client):
    response = staff_client.post(
        reverse("meetings_admin:add"), meeting_data(kind="prefecture", area="east", title="都道府県職員の情報交換会")
    )
    assert response.status_code == 302
    assert Meeting.objects.get().area == ""


# --- the meeting's page -----------------------------------------------------------------------


def test_the_meeting_page_summarises_and_links_every_step(staff_client, operator):
    meeting = grouped_meeting(towns=6)  # 18 people, 3 groups
    towns = list(LocalGovernment.objects.filter(code__in=west_towns(6)).order_by("code"))
    Participant.objects.filter(meeting=meeting, local_government__in=towns[:2]).update(has_center=True)
    Participant.objects.filter(meeting=meeting, local_government__in=towns[2:5]).update(has_center=False)
    rooms.rooms_assign(meeting=meeting, acting_user=operator)
    meeting.grouping_approved_at, meeting.grouping_approved_by = timezone.now(), operator
    meeting.save()
    page = staff_client.get(reverse("meetings_admin:detail", args=[meeting.pk])).content.decode()
    assert "18人（グループ未割り当て 0人）" in page
    assert "6団体（センター設置済 2、未設置 3、不明 1）" in page
    assert "3グループ" in page and "承認済み：" in page and operator.get_username() in page
    assert "会議室1：18人・3グループ（URL未入力）" in page
    for name in ("roster", "participants", "grouping", "rooms", "invitations", "goals", "report"):
        assert reverse(f"meetings_admin:{name}", args=[meeting.pk]) in page, name
    assert reverse("meetings_admin:download", args=[meeting.pk, "zoom"]) in page


# --- participants and attendance --------------------------------------------------------------


def test_attendance_is_recorded_per_half_for_the_people_shown(staff_client):
    meeting = grouped_meeting(towns=4)  # 12 people
    people = list(Participant.objects.filter(meeting=meeting).order_by("number"))
    town = people[0].local_government
    url = reverse("meetings_admin:participants", args=[meeting.pk])
    page = staff_client.get(url, {"local_government": str(town.pk)}).content.decode()
    assert page.count('name="shown"') == 3
    shown = [p.pk for p in people if p.local_government_id == town.pk]
    response = staff_client.post(
        url, {"half": "first", "local_government": str(town.pk), "shown": shown, "present": shown[:2]}
    )
    assert response.status_code == 302 and f"local_government={town.pk}" in response["Location"]
    values = dict(Participant.objects.filter(meeting=meeting).values_list("pk", "attended_first"))
    assert [values[pk] for pk in shown] == [True, True, False]
    assert all(values[p.pk] is None for p in people if p.pk not in shown), "people not shown are untouched"
    assert set(Participant.objects.values_list("attended_second", flat=True)) == {None}, "the other half too"
    event = AuditEvent.objects.get(action="meetings.attendance_recorded")
    assert event.detail == {
        "half": "first",
        "present": [people[0].number, people[1].number],
        "absent": [people[2].number],
    }
    # A participant of another meeting cannot be changed through this one.
    other = grouped_meeting(towns=1)
    stranger = other.participants.first()
    staff_client.post(url, {"half": "second", "shown": [stranger.pk], "present": [stranger.pk]})
    assert Participant.objects.get(pk=stranger.pk).attended_second is None
    group = people[-1].group
    page = staff_client.get(url, {"group": str(group.pk), "half": "second"}).content.decode()
    assert page.count('name="shown"') == 6 and "下半期の出席を保存" in page


# --- goals and progress -----------------------------------------------------------------------


def test_goals_and_progress_are_saved_together_with_limits(staff_client):
    meeting = grouped_meeting(towns=3)
    towns = list(LocalGovernment.objects.filter(code__in=west_towns(3)).order_by("code"))
    url = reverse("meetings_admin:goals", args=[meeting.pk])
    page = staff_client.get(url).content.decode()
    assert all(str(t) in page for t in towns)
    data = {
        f"goal_{towns[0].pk}": "統括支援員を配置する",
        f"progress_{towns[0].pk}": "",
        f"goal_{towns[1].pk}": "あ" * 2001,
        f"progress_{towns[1].pk}": "",
        f"goal_{towns[2].pk}": "",
        f"progress_{towns[2].pk}": "",
    }
    response = staff_client.post(url, data)
    assert response.status_code == 400
    assert (
        f"{towns[1]}の目標（上半期）は2000文字以内で入力してください（現在2001文字です）。" in response.content.decode()
    )
    assert not Goal.objects.exists(), "all or nothing"
    data[f"goal_{towns[1].pk}"] = "研修を2回開く\r\n庁内連携会議を立ち上げる"
    assert staff_client.post(url, data).status_code == 302
    assert dict(Goal.objects.values_list("local_government__code", "goal")) == {
        towns[0].code: "統括支援員を配置する",
        towns[1].code: "研修を2回開く\n庁内連携会議を立ち上げる",
    }
    data[f"progress_{towns[0].pk}"] = "4月に配置した"
    staff_client.post(url, data)
    assert Goal.objects.get(local_government=towns[0]).progress == "4月に配置した"
    events = AuditEvent.objects.filter(action="meetings.goals_changed").order_by("pk")
    assert [e.detail["local_governments"] for e in events] == [[towns[0].code, towns[1].code], [towns[0].code]]
    assert "4月に配置した" in staff_client.get(url).content.decode()


# --- downloads --------------------------------------------------------------------------------


def test_downloads_are_real_files_and_audited(staff_client, operator):
    meeting = grouped_meeting(towns=4, capacity_per_url=6)  # 12 people, 2 groups, 2 rooms
    rooms.rooms_assign(meeting=meeting, acting_user=operator)
    room1, room2 = Room.objects.filter(meeting=meeting).order_by("number")
    detail = staff_client.get(reverse("meetings_admin:detail", args=[meeting.pk])).content.decode()
    zoom = reverse("meetings_admin:download", args=[meeting.pk, "zoom"])
    assert f"{zoom}?room={room1.pk}" in detail and f'href="{zoom}"' not in detail, "one CSV per meeting URL"

    response = staff_client.get(zoom, {"room": room1.pk})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = response.content.decode("utf-8").splitlines()
    in_room = list(Participant.objects.filter(meeting=meeting, group__room=room1).values_list("email", flat=True))
    assert lines[0] == "Pre-assign Room Name,Email Address"
    assert sorted(line.split(",")[1] for line in lines[1:]) == sorted(in_room)

    response = staff_client.get(zoom, follow=True)
    assert "会議室ごとにダウンロードしてください" in response.content.decode()

    workbook = staff_client.get(reverse("meetings_admin:download", args=[meeting.pk, "groups"]))
    assert workbook["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    cells = {str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None}
    assert {p.name for p in Participant.objects.filter(meeting=meeting)} <= cells

    sheet = staff_client.get(reverse("meetings_admin:download", args=[meeting.pk, "facilitator"]), {"room": room2.pk})
    assert zipfile.is_zipfile(io.BytesIO(sheet.content))
    assert staff_client.get(reverse("meetings_admin:download", args=[meeting.pk, "second-half"])).status_code == 200
    other_room = grouped_meeting(towns=2)
    rooms.rooms_assign(meeting=other_room, acting_user=operator)
    stranger = Room.objects.get(meeting=other_room)
    assert staff_client.get(zoom, {"room": stranger.pk}).status_code == 404
    assert staff_client.get(reverse("meetings_admin:download", args=[meeting.pk, "passwords"])).status_code == 404
    files = list(
        AuditEvent.objects.filter(action="meetings.export_downloaded").order_by("pk").values_list("detail", flat=True)
    )
    assert files == [
        {"file": "zoom", "room": 1},
        {"file": "groups", "room": None},
        {"file": "facilitator", "room": 2},
        {"file": "second-half", "room": None},
    ]

    template = staff_client.get(reverse("meetings_admin:roster_template"), {"kind": "town"})
    header = [c.value for c in openpyxl.load_workbook(io.BytesIO(template.content)).worksheets[0][1]]
    assert header[:7] == ["団体コード", "団体名", "部署", "役職", "氏名", "メールアドレス", "センター設置"]


# --- uploads ----------------------------------------------------------------------------------


def roster_csv(rows, encoding="utf-8"):
    lines = ["団体コード,団体名,部署,役職,氏名,メールアドレス,センター設置", *(",".join(r) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def test_roster_upload_reports_problems_and_imports_a_good_file(staff_client, operator):
    meeting = make_meeting(area="west")
    town = LocalGovernment.objects.filter(kind="town", area="west").order_by("code").first()
    url = reverse("meetings_admin:roster", args=[meeting.pk])
    bad = roster_csv([[town.code, town.name, "こども家庭課", "係長", "試験 花子", "not-an-address", "設置済"]])
    response = staff_client.post(url, {"file": SimpleUploadedFile("roster.csv", bad, "text/csv")})
    content = response.content.decode()
    assert response.status_code == 400
    assert "roster.csv に問題が 1 件あります。何も取り込んでいません。" in content and "2行目" in content
    assert not Participant.objects.filter(meeting=meeting).exists()
    good = roster_csv(
        [[town.code, town.name, "こども家庭課", "係長", "試験 花子", "hanako@town.example.lg.jp", "設置済"]], "cp932"
    )
    response = staff_client.post(url, {"file": SimpleUploadedFile("roster.csv", good, "text/csv")}, follow=True)
    assert "roster.csv を取り込みました。参加者1人（1団体）です。" in response.content.decode()
    assert list(Participant.objects.filter(meeting=meeting).values_list("name", flat=True)) == ["試験 花子"]
    meeting.grouping_approved_at, meeting.grouping_approved_by = timezone.now(), operator
    meeting.save()
    response = staff_client.post(url, {"file": SimpleUploadedFile("roster.csv", good, "text/csv")})
    assert response.status_code == 400 and "グループ分けは承認済みです" in response.content.decode()


def test_center_list_upload(staff_client):
    from kokasen.meetings.models import CenterStatus

    towns = LocalGovernment.objects.filter(kind="town", area="west").order_by("code")[:2]
    data = "団体コード,団体名,センター設置\r\n" + "".join(
        f"{t.code},{t.name},{'設置済' if i == 0 else '未設置'}\r\n" for i, t in enumerate(towns)
    )
    meeting = make_meeting()
    url = reverse("meetings_admin:center_list") + f"?meeting={meeting.pk}"
    response = staff_client.post(url, {"file": SimpleUploadedFile("centers.csv", data.encode(), "text/csv")})
    assert response.status_code == 302 and response["Location"] == reverse("meetings_admin:detail", args=[meeting.pk])
    assert dict(CenterStatus.objects.values_list("local_government__code", "has_center")) == {
        towns[0].code: True,
        towns[1].code: False,
    }


def test_upload_form_refuses_a_missing_file(staff_client):
    meeting = make_meeting()
    response = staff_client.post(reverse("meetings_admin:roster", args=[meeting.pk]), {})
    assert response.status_code == 400 and "ファイルを選んでください。" in response.content.decode()
    response = staff_client.post(reverse("meetings_admin:center_list"), {})
    assert response.status_code == 400 and "ファイルを選んでください。" in response.content.decode()


def test_screens_do_not_query_per_participant(staff_client, operator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(meeting):
        # Making the meetings wrote user rows: the session's row is read once again, whichever
        # meeting comes first (accounts/user_rows.py); not a query per participant.
        assert staff_client.get(reverse("meetings_admin:index")).status_code == 200
        counts = []
        for name in ("detail", "participants", "rooms", "goals", "invitations"):
            with CaptureQueriesContext(connection) as captured:
                assert staff_client.get(reverse(f"meetings_admin:{name}", args=[meeting.pk])).status_code == 200
            counts.append(len(captured.captured_queries))
        return counts

    small, large = grouped_meeting(towns=2), grouped_meeting(towns=20)
    for meeting in (small, large):
        rooms.rooms_assign(meeting=meeting, acting_user=operator)
    assert queries(large) == queries(small)


def test_the_list_shows_each_meeting(staff_client):
    meeting = grouped_meeting(towns=2, title="西日本エリア 第1回")
    other = make_meeting("prefecture", title="都道府県 こども家庭センター担当")
    page = staff_client.get(reverse("meetings_admin:index")).content.decode()
    assert "西日本エリア 第1回" in page and "都道府県 こども家庭センター担当" in page
    assert reverse("meetings_admin:detail", args=[meeting.pk]) in page and "6人" in page
    assert reverse("meetings_admin:detail", args=[other.pk]) in page
