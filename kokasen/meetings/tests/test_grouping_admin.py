"""The グループ分け admin screen through HTTP: propose, Japanese refusals, moves and the violations
shown next to each group, approval (with the confirmation when rules are broken), permissions,
CSRF and POST-only writes."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from kokasen.accounts import roles
from kokasen.core.models import AuditEvent
from kokasen.meetings.models import Group, GroupingApproval, Participant
from kokasen.meetings.services import grouping as services
from kokasen.testing import CODE_A, login_member, login_staff, make_member, make_staff

from .test_grouping_service import stored_groups, west_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(db):
    return west_meeting()


@pytest.fixture
def staff_client(client, agency_admin):
    login_staff(client, agency_admin)
    return client


def url(name, meeting, *args):
    return reverse(f"meetings_admin:{name}", args=[meeting.pk, *args])


def screen(client, meeting) -> str:
    response = client.get(url("grouping", meeting))
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, number: int) -> str:
    """The HTML of one group's card (up to the next card)."""
    start = html.index(f'id="group-{number}"')
    nxt = html.find('<section aria-labelledby="group-', start + 1)
    return html[start : nxt if nxt != -1 else len(html)]


def propose(client, meeting, **extra):
    return client.post(url("grouping_propose", meeting), extra)


def test_propose_from_the_screen_shows_every_group_with_members_population_mix_and_notes(staff_client, meeting):
    html = screen(staff_client, meeting)
    assert "グループ分けを提案する" in html and "グループがまだありません" in html
    response = propose(staff_client, meeting)
    assert response.status_code == 302 and response["Location"] == url("grouping", meeting)
    assert Group.objects.filter(meeting=meeting).count() == 10
    html = staff_client.get(response["Location"]).content.decode()
    assert "60人を10グループに分けました。" in html
    card = section(html, 1)
    group = Group.objects.get(meeting=meeting, number=1)
    for p in group.participants.select_related("local_government"):
        assert f"<td>{p.number}</td><td>{p.local_government}</td>" in card and p.name in card
    report = services.current_report(meeting)
    assert report.groups[0].population_label in card
    assert re.search(r"[0-9.,万]+〜[0-9.,万]+人（[0-9.]+倍）", card)
    assert "設置済1団体・未設置1団体（混在）" in card
    assert "このグループはルールに合っています。" in card and "ルール違反" not in card
    assert "10グループのうち10グループで" in html  # the engine's note on mixing
    assert "可能な最大であることを確認しています" in html
    # one move form for the screen; a 「選ぶ」 radio button per participant and per town joins it
    assert html.count('name="to_group"') == 1 and html.count('<option value="') == 10 + 1
    assert html.count('name="participant"') == 60 and html.count('name="local_government"') == 20
    assert html.count('form="grouping-move"') == 80
    assert AuditEvent.objects.filter(action="meetings.grouping_proposed", actor__username="agency-admin").count() == 1


def test_a_refused_proposal_shows_the_japanese_reason_and_changes_nothing(staff_client, meeting, agency_admin):
    services.grouping_propose(meeting=meeting, acting_user=agency_admin)
    before = stored_groups(meeting)
    meeting.min_group_size = meeting.max_group_size = 7
    meeting.save()
    response = propose(staff_client, meeting)
    html = response.content.decode()
    assert response.status_code == 400
    assert "グループ分けを提案できませんでした。何も変更していません。" in html
    assert "この会議の参加者60人は、7〜7人のグループに分けられません" in html
    assert stored_groups(meeting) == before
    assert AuditEvent.objects.filter(action="meetings.grouping_proposed").count() == 1


def test_moving_a_person_and_a_town_shows_each_rule_next_to_its_group(staff_client, meeting, agency_admin):
    services.grouping_propose(meeting=meeting, acting_user=agency_admin)
    person = Participant.objects.filter(meeting=meeting, group__number=1).order_by("number").first()
    response = staff_client.post(url("grouping_move_participant", meeting), {"participant": person.pk, "to_group": "2"})
    assert response.status_code == 302 and response["Location"].endswith("#group-2")
    html = screen(staff_client, meeting)
    one, two, three = section(html, 1), section(html, 2), section(html, 3)
    assert "ルール違反（1件）" in one and "の参加者がグループ2にも分かれています。" in one
    assert "ルール違反（1件）" in two and "の参加者がグループ1にも分かれています。" in two
    assert "ほかにグループ1にも参加者がいます" in two
    assert "ルール違反" not in three
    assert "ルール違反 2件（2グループ）" in html

    response = staff_client.post(
        url("grouping_move_local_government", meeting),
        {"local_government": person.local_government_id, "to_group": "３"},
    )
    assert response.status_code == 302  # full-width digits are accepted
    html = screen(staff_client, meeting)
    one, two, three = section(html, 1), section(html, 2), section(html, 3)
    assert "3人で、最小人数（5人）に足りません。" in one and "混在していません" in one
    assert "ルール違反" not in two
    assert "9人で、最大人数（7人）を超えています。" in three
    assert "手作業で2回変更されています" in html
    assert AuditEvent.objects.filter(action__startswith="meetings.grouping_", action__endswith="_moved").count() == 2


def test_bad_moves_are_refused_on_the_screen(staff_client, meeting, agency_admin):
    services.grouping_propose(meeting=meeting, acting_user=agency_admin)
    person = Participant.objects.filter(meeting=meeting, group__number=1).first()
    before = stored_groups(meeting)
    for data, text in (
        ({"participant": person.pk, "to_group": ""}, "移動先のグループの番号を選ぶか入力してください。"),
        ({"participant": person.pk, "to_group": "42"}, "グループ42はありません。"),
        ({"participant": person.pk, "to_group": "1"}, "すでにグループ1にいます"),
        ({"participant": "999999", "to_group": "2"}, "参加者が見つかりません。"),
    ):
        response = staff_client.post(url("grouping_move_participant", meeting), data)
        assert response.status_code == 400 and text in response.content.decode()
    assert stored_groups(meeting) == before


def test_proposing_again_after_edits_needs_a_confirmation(staff_client, meeting, agency_admin):
    services.grouping_propose(meeting=meeting, acting_user=agency_admin)
    person = Participant.objects.filter(meeting=meeting, group__number=1).first()
    services.participant_move(meeting=meeting, participant=person, to_group=2, acting_user=agency_admin)
    html = screen(staff_client, meeting)
    assert "提案の後に手作業で1回変更されています。" in html and services.CONFIRM_REPLACE_LABEL in html
    edited = stored_groups(meeting)
    response = propose(staff_client, meeting)
    assert response.status_code == 400 and "にチェックを入れてください" in response.content.decode()
    assert stored_groups(meeting) == edited
    assert propose(staff_client, meeting, confirm_replace="1").status_code == 302
    assert stored_groups(meeting) != edited
    assert services.CONFIRM_REPLACE_LABEL not in screen(staff_client, meeting)


def test_approval_from_the_screen_and_its_history(staff_client, meeting, agency_admin):
    services.grouping_propose(meeting=meeting, acting_user=agency_admin)
    html = screen(staff_client, meeting)
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', html).group(1)
    assert services.CONFIRM_VIOLATIONS_LABEL not in html  # nothing to confirm
    response = staff_client.post(url("grouping_approve", meeting), {"fingerprint": fingerprint})
    assert response.status_code == 302
    html = screen(staff_client, meeting)
    assert "このグループ分けは承認済みです" in html and "agency-admin" in html
    history = html[html.index('id="approval"') :]
    assert "承認時のグループ" in history and "<td>なし</td>" in history  # no violation at approval
    assert "グループ1（6人）：参加者番号" in history

    assert staff_client.post(url("grouping_approval_withdraw", meeting)).status_code == 302
    assert "その後の変更か取り消しで承認は解除されています" in screen(staff_client, meeting)
    assert staff_client.post(url("grouping_approve", meeting), {"fingerprint": fingerprint}).status_code == 302
    assert GroupingApproval.objects.count() == 2

    person = Participant.objects.filter(meeting=meeting, group__number=1).first()
    staff_client.post(url("grouping_move_participant", meeting), {"participant": person.pk, "to_group": "2"})
    html = screen(staff_client, meeting)
    assert "その後の変更か取り消しで承認は解除されています" in html
    assert services.CONFIRM_VIOLATIONS_LABEL in html and "ルール違反が2件あります" in html
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', html).group(1)
    response = staff_client.post(url("grouping_approve", meeting), {"fingerprint": fingerprint})
    assert response.status_code == 400 and services.CONFIRM_VIOLATIONS_LABEL in response.content.decode()
    assert GroupingApproval.objects.count() == 2
    response = staff_client.post(
        url("grouping_approve", meeting), {"fingerprint": fingerprint, "confirm_violations": "1"}
    )
    assert response.status_code == 302
    latest = GroupingApproval.objects.filter(meeting=meeting).first()
    assert latest.violation_count == 2 and latest.snapshot["violations_confirmed"] is True
    html = screen(staff_client, meeting)
    assert "2件（確認のうえ承認）" in html and "ルール違反：" in html
    assert GroupingApproval.objects.count() == 3


def test_a_stale_screen_cannot_approve(staff_client, meeting, agency_admin):
    services.grouping_propose(meeting=meeting, acting_user=agency_admin)
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', screen(staff_client, meeting)).group(1)
    person = Participant.objects.filter(meeting=meeting, group__number=1).first()
    services.participant_move(meeting=meeting, participant=person, to_group=2, acting_user=agency_admin)
    response = staff_client.post(
        url("grouping_approve", meeting), {"fingerprint": fingerprint, "confirm_violations": "1"}
    )
    assert response.status_code == 400 and "画面を表示した後にグループ分けが変更されました" in response.content.decode()
    assert not GroupingApproval.objects.exists()


def test_groups_can_be_added_and_empty_ones_deleted_from_the_screen(staff_client, meeting, agency_admin):
    services.grouping_propose(meeting=meeting, acting_user=agency_admin)
    assert staff_client.post(url("grouping_group_add", meeting)).status_code == 302
    html = screen(staff_client, meeting)
    assert "0人で、最小人数（5人）に足りません。" in section(html, 11) and "このグループを削除する" in section(html, 11)
    assert "このグループを削除する" not in section(html, 1)
    group = Group.objects.get(meeting=meeting, number=11)
    assert staff_client.post(url("grouping_group_delete", meeting, group.pk)).status_code == 302
    assert not Group.objects.filter(pk=group.pk).exists()
    busy = Group.objects.get(meeting=meeting, number=1)
    response = staff_client.post(url("grouping_group_delete", meeting, busy.pk))
    assert response.status_code == 400 and "参加者がいるため削除できません" in response.content.decode()


def test_the_screen_is_for_staff_with_totp_only(client, meeting, agency_admin):
    services.grouping_propose(meeting=meeting, acting_user=agency_admin)
    before = stored_groups(meeting)
    person = Participant.objects.filter(meeting=meeting, group__number=1).first()
    writes = [
        (url("grouping_propose", meeting), {"confirm_replace": "1"}),
        (url("grouping_move_participant", meeting), {"participant": person.pk, "to_group": "2"}),
        (url("grouping_approve", meeting), {"confirm_violations": "1"}),
        (url("grouping_group_add", meeting), {}),
    ]
    events = AuditEvent.objects.count()

    def refused(c):
        assert c.get(url("grouping", meeting)).status_code in (302, 403)
        for target, data in writes:
            assert c.post(target, data).status_code in (302, 403)

    refused(client)  # anonymous: to the login page
    login_member(client, make_member(CODE_A))
    refused(client)
    unverified = Client()
    unverified.force_login(make_staff(roles.OPERATOR))  # password only, TOTP step not passed
    refused(unverified)
    assert stored_groups(meeting) == before and Group.objects.filter(meeting=meeting).count() == 10
    assert not GroupingApproval.objects.exists()
    assert AuditEvent.objects.filter(action__startswith="meetings.").count() == 1
    assert AuditEvent.objects.count() >= events


def test_writes_are_post_only_and_need_the_csrf_token(meeting, agency_admin):
    strict = Client(enforce_csrf_checks=True)
    login_staff(strict, agency_admin)
    assert strict.get(url("grouping_propose", meeting)).status_code == 405
    assert strict.post(url("grouping_propose", meeting)).status_code == 403
    assert not Group.objects.filter(meeting=meeting).exists()
    html = strict.get(url("grouping", meeting)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert strict.post(url("grouping_propose", meeting), {"csrfmiddlewaretoken": token}).status_code == 302
    assert Group.objects.filter(meeting=meeting).count() == 10


def test_the_engines_reasons_for_unmixed_groups_stand_next_to_them_until_the_group_changes(staff_client, agency_admin):
    from kokasen.meetings.models import MeetingKind
    from kokasen.meetings.tests.builders import add_participants, make_meeting

    from .test_grouping_service import west_town_codes

    codes = west_town_codes(20)
    meeting = make_meeting(MeetingKind.TOWN)
    add_participants(meeting, codes, per_local_government=3, has_center=lambda lg: lg.code not in codes[:2])
    assert propose(staff_client, meeting).status_code == 302
    html = screen(staff_client, meeting)
    assert "10グループのうち2グループで、センター設置済と未設置の町村が混在しています。" in html
    assert "この名簿で混在させられるのは最大2グループで、その最大に達しています。" in html
    report = services.current_report(meeting)
    unmixed = [g for g in report.groups if not g.mixed]
    assert len(unmixed) == 8
    card = section(html, unmixed[0].number)
    assert "提案時の説明" in card and "混在できない理由：未設置の町村が足りないか" in card
    assert "センター設置済の町村だけのグループで、未設置の町村と混在していません。" in card  # the violation too
    mixed = next(g for g in report.groups if g.mixed)
    assert "提案時の説明" not in section(html, mixed.number)
    # once changed by hand, the proposal's explanation no longer describes the group
    other = unmixed[1]
    services.local_government_move(
        meeting=meeting,
        local_government=other.local_governments[0].local_government,
        to_group=unmixed[0].number,
        acting_user=agency_admin,
    )
    assert "提案時の説明" not in section(screen(staff_client, meeting), unmixed[0].number)


def test_all_groups_mixed_at_a_count_nearer_six_is_said_so_without_claiming_the_maximum(staff_client):
    # issue 16: other counts could mix more groups (more, smaller groups); the screen says all mix
    from kokasen.meetings.models import MeetingKind
    from kokasen.meetings.tests.builders import add_participants, make_meeting

    from .test_grouping_service import west_town_codes

    codes = west_town_codes(20)
    meeting = make_meeting(MeetingKind.TOWN)
    centers = {code: n % 2 == 0 for n, code in enumerate(codes)}
    add_participants(meeting, codes[:10], per_local_government=2, has_center=lambda lg: centers[lg.code])
    add_participants(meeting, codes[10:], per_local_government=3, has_center=lambda lg: centers[lg.code])
    assert propose(staff_client, meeting).status_code == 302
    notes = meeting.__class__.objects.get(pk=meeting.pk).proposal
    groups = len(notes.groups)
    assert notes.mixed_groups == groups < notes.mixed_upper_bound and not notes.mixed_maximum_proven
    html = screen(staff_client, meeting)
    assert f"提案したすべてのグループ（{groups}）で混在しています" in html
    assert f"混在させられるグループ数の上限は{notes.mixed_upper_bound}ですが" in html
    assert "可能な最大であることを確認しています" not in html
