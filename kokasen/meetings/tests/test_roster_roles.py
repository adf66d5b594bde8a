"""Prefecture meetings with real rosters (issue 16, item 1): every prefecture names its departments
differently, so the meeting is grouped per 担当区分, from the roster's column or from a suggestion
staff confirm once per meeting on the 担当区分の確認 screen. The roster is built from the master data
(kokasen/localgov/data/municipalities.csv, the same file as ../shared/data/municipalities.csv):
12 prefectures × 3 departments with per-prefecture names, 2 people each."""

import csv
import io

import pytest
from django.urls import reverse

from kokasen.core.models import AuditEvent
from kokasen.core.refusals import Refused
from kokasen.localgov.data import read_rows
from kokasen.meetings.models import DepartmentRole, Group, MeetingKind, Participant
from kokasen.meetings.roles import ROLE_CASEWORKER, ROLE_CENTER, ROLE_MATERNAL, suggest_role
from kokasen.meetings.services import grouping, roles
from kokasen.meetings.services.roster import roster_import
from kokasen.meetings.tests.builders import make_meeting

pytestmark = pytest.mark.django_db

PREFECTURES = [r for r in read_rows() if r.kind == "prefecture"][::4][:12]  # 北海道, 福島県, 栃木県 … spread out

# What each prefecture calls its three departments (real-world spellings vary like this).
CENTER_NAMES = ("こども家庭課", "子ども未来課", "児童家庭課", "こども家庭支援課", "少子化対策課", "子ども政策課")
MATERNAL_NAMES = ("健康づくり推進課", "母子保健課", "健康増進課", "こども保健課", "子ども・子育て支援課", "保健医療課")
CASEWORKER_NAMES = (
    "中央児童相談所",
    "家庭支援課",
    "こども相談センター",
    "児童相談所",
    "子ども家庭相談課",
    "福祉相談所",
)
TRUE_ROLES = (ROLE_CENTER, ROLE_MATERNAL, ROLE_CASEWORKER)

# The columns rearranged, 部署名 for 部署, and a column the roster does not use.
HEADER = ["氏名", "メールアドレス", "団体名", "団体コード", "担当区分", "部署名", "役職", "センター設置", "備考"]


def departments(i: int) -> list[tuple[str, str]]:
    """(department name, true 区分) of the i-th prefecture."""
    return [
        (CENTER_NAMES[i % 6], ROLE_CENTER),
        (MATERNAL_NAMES[(i + 1) % 6], ROLE_MATERNAL),
        (CASEWORKER_NAMES[(i + 2) % 6], ROLE_CASEWORKER),
    ]


def roster(with_roles: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for i, pref in enumerate(PREFECTURES):
        for d, (department, role) in enumerate(departments(i)):
            for person in range(2):
                writer.writerow(
                    [
                        f"試験 {i}-{d}-{person}",
                        f"p{i}.{d}.{person}@pref.example.lg.jp",
                        pref.name,
                        pref.code,
                        role if with_roles else "",
                        department,
                        "主査",
                        "",
                        "名簿係メモ",
                    ]
                )
    return out.getvalue().encode("utf-8")


def prefecture_meeting():
    return make_meeting(MeetingKind.PREFECTURE, title="都道府県職員の情報交換会")


def assert_grouped_per_role(meeting, operator):
    outcome = grouping.grouping_propose(meeting=meeting, acting_user=operator)
    assert outcome.people == 72
    groups = list(Group.objects.filter(meeting=meeting).prefetch_related("participants"))
    assert {g.department for g in groups} == set(TRUE_ROLES)
    for g in groups:
        members = list(g.participants.all())
        assert 5 <= len(members) <= 7
        assert {p.role for p in members} == {g.department}
        assert g.name == f"グループ{g.number}（{g.department}）"
    # every department (prefecture × name) stays whole and is grouped with its 区分
    truth = {(p.code, dept): role for i, p in enumerate(PREFECTURES) for dept, role in departments(i)}
    for p in Participant.objects.filter(meeting=meeting).select_related("group", "local_government"):
        assert p.group is not None and p.group.department == truth[(p.local_government.code, p.department)]
    return groups


def test_prefecture_roster_with_roles_in_any_column_order_groups_every_department(operator):
    # 18 spellings for 36 departments, at most 4 people each: keyed on the text, none could form a group of 5
    assert len({d for i in range(12) for d, _ in departments(i)}) == 18
    meeting = prefecture_meeting()
    result = roster_import(meeting=meeting, data=roster(with_roles=True), filename="名簿.csv", acting_user=operator)
    assert (result.participants, result.local_governments, result.roles_pending) == (72, 12, 0)
    assert [str(n) for n in result.notices] == [
        "1行目（9列目）：「備考」は名簿の様式にない列のため、読み込みませんでした。"
    ]
    assert not DepartmentRole.objects.filter(meeting=meeting).exists()
    assert len(assert_grouped_per_role(meeting, operator)) == 12


def test_blank_roles_are_suggested_and_confirmed_once_per_meeting(operator, staff_client):
    meeting = prefecture_meeting()
    result = roster_import(meeting=meeting, data=roster(with_roles=False), filename="名簿.csv", acting_user=operator)
    assert result.roles_pending == 36
    with pytest.raises(Refused) as refused:
        grouping.grouping_propose(meeting=meeting, acting_user=operator)
    assert "担当区分が決まっていない参加者が72人います" in str(refused.value)

    url = reverse("meetings_admin:roles", args=[meeting.pk])
    page = staff_client.get(url).content.decode()
    assert "未確認：36件／36件" in page and "担当区分を確定する" in page
    rows = list(DepartmentRole.objects.filter(meeting=meeting).select_related("local_government"))
    truth = {(p.code, dept): role for i, p in enumerate(PREFECTURES) for dept, role in departments(i)}
    suggested_right = sum(r.suggestion == truth[(r.local_government.code, r.department)] for r in rows)
    # the words guess 32 of 36; staff correct the rest (here 家庭支援課 is a 児童相談所's, 子ども・子育て支援課 母子保健)
    assert suggested_right == 32
    # a missing choice refuses everything, naming the department
    posted = {f"role-{r.pk}": truth[(r.local_government.code, r.department)] for r in rows}
    first = rows[0]
    response = staff_client.post(url, {**posted, f"role-{first.pk}": ""})
    assert response.status_code == 400
    assert f"{first.local_government}「{first.department}」の担当区分を選んでください。" in response.content.decode()
    assert Participant.objects.filter(meeting=meeting, role="").count() == 72
    response = staff_client.post(url, posted)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="meetings.department_roles_confirmed").count() == 1
    assert roles.pending(meeting) == 0
    assert_grouped_per_role(meeting, operator)

    # re-importing the same roster keeps the confirmations: nothing to confirm again
    again = roster_import(meeting=meeting, data=roster(with_roles=False), filename="名簿.csv", acting_user=operator)
    assert again.roles_pending == 0 and not Participant.objects.filter(meeting=meeting, role="").exists()
    # the next meeting suggests what this one confirmed
    later = prefecture_meeting()
    roster_import(meeting=later, data=roster(with_roles=False), filename="名簿.csv", acting_user=operator)
    assert all(
        r.suggestion == truth[(r.local_government.code, r.department)]
        for r in DepartmentRole.objects.filter(meeting=later).select_related("local_government")
    )


def test_suggestions_from_department_words():
    assert suggest_role("母子保健課") == ROLE_MATERNAL
    assert suggest_role("中央児童相談所") == ROLE_CASEWORKER
    assert suggest_role("こども家庭課") == ROLE_CENTER
    assert suggest_role("児童虐待防止対策担当") == ROLE_CENTER
    assert suggest_role("総務課") == ""


def test_an_unknown_role_and_a_missing_column_are_refused(operator):
    meeting = prefecture_meeting()
    data = roster(with_roles=True).decode().replace(ROLE_MATERNAL, "保健師", 1).encode()
    with pytest.raises(Refused) as refused:
        roster_import(meeting=meeting, data=data, filename="名簿.csv", acting_user=operator)
    [problem] = refused.value.problems
    assert (problem.column, problem.message.split("は")[0]) == ("担当区分", "担当区分「保健師」")
    lines = roster(with_roles=True).decode().splitlines()
    no_email = "\r\n".join(",".join(c for j, c in enumerate(line.split(",")) if j != 1) for line in lines).encode()
    with pytest.raises(Refused) as refused:
        roster_import(meeting=meeting, data=no_email, filename="名簿.csv", acting_user=operator)
    assert refused.value.messages == [
        "1行目：必要な列がありません：「メールアドレス」。1行目の見出しに入れてください"
        "（名簿の様式のファイルを使うと確実です。列の順番は自由です）。"
    ]
    assert not Participant.objects.filter(meeting=meeting).exists()
