"""Builders for tests of the meetings app (not used in production code)."""

from kokasen.localgov.models import LocalGovernment
from kokasen.meetings.models import Half, Meeting, MeetingKind, MeetingSession, Participant
from kokasen.meetings.roles import role_of


def make_meeting(kind: str = MeetingKind.TOWN, *, area: str = "west", title: str = "", **fields) -> Meeting:
    meeting = Meeting.objects.create(
        kind=kind,
        area=area if kind == MeetingKind.TOWN else "",
        title=title or f"テスト用の情報交換会（{kind}）",
        **fields,
    )
    for half in Half.values:
        MeetingSession.objects.create(meeting=meeting, half=half)
    return meeting


def add_participants(
    meeting: Meeting, codes, *, per_local_government: int = 3, department: str = "", has_center=None, role=None
):
    """per_local_government people for each code; has_center None leaves it to CenterStatus,
    a callable decides per LocalGovernment. E-mail addresses are unique and fake. Prefecture
    meetings: ``role`` (担当区分) defaults to the one ``department`` names (roles.role_of)."""
    if role is None:
        role = (role_of(department) or "") if meeting.kind == MeetingKind.PREFECTURE else ""
    people = []
    number = meeting.participants.count()
    for lg in LocalGovernment.objects.filter(code__in=list(codes)).order_by("code"):
        center = has_center(lg) if callable(has_center) else has_center
        for _ in range(per_local_government):
            number += 1
            people.append(
                Participant(
                    meeting=meeting,
                    number=number,
                    local_government=lg,
                    department=department,
                    role=role,
                    role_from_roster=bool(role),
                    position="係長",
                    name=f"試験 太郎{number}",
                    email=f"p{number}.{lg.code}@example.lg.jp",
                    has_center=center,
                )
            )
    return Participant.objects.bulk_create(people)
