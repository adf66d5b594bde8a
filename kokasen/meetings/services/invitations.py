"""Invitations to one session (上半期 or 下半期) through the outbox (REQUIREMENTS S1).

- One message per participant, to that participant's own address only: the session's date and
  time, the agenda, the case presentations, their group and their room's meeting URL. Nothing
  about any other participant (no names, no addresses).
- One message per room to its facilitator: date, URL, and the room's groups with their local
  governments and head counts (no participant names or addresses; those are on the
  facilitator sheet).
- Re-running queues nothing new: each message's dedupe key ends with a digest of what the
  recipient must know (date and time, URL, group; for a facilitator also the groups). When that
  changes (a new URL, say), running again queues a corrected message, marked 【変更】 if the
  earlier one already went out; an earlier one still waiting in the outbox is cancelled so that
  nobody receives stale details.
- Refused in Japanese, with nothing queued, unless the grouping is approved, every participant
  is in a group, every group is in a room, every such room has a URL and the session has its
  start time.

The texts are the templates of the kinds registered in meetings/mail_kinds.py
(templates/emails/meeting_invitation/ and meeting_facilitator/, with the session block shared
in templates/emails/_meeting_session.txt), rendered by kokasen.notifications.emails.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from kokasen.accounts import access
from kokasen.core.audit import audit_record
from kokasen.core.refusals import Refused
from kokasen.notifications import emails
from kokasen.notifications.models import OutboxMessage
from kokasen.notifications.services import message_queue

from .. import campaign
from ..mail_kinds import KIND_FACILITATOR, KIND_PARTICIPANT
from ..models import Group, Half, Meeting, MeetingSession, MeetingTool, Participant, Room

WEEKDAYS = "月火水木金土日"


def participant_key_prefix(meeting: Meeting, half: str, participant: Participant) -> str:
    return f"meeting-invite:{meeting.pk}:{half}:{participant.pk}:"


def facilitator_key_prefix(meeting: Meeting, half: str, room: Room) -> str:
    return f"meeting-facilitator:{meeting.pk}:{half}:{room.pk}:"


def meeting_key_prefixes(meeting: Meeting, half: str) -> tuple[str, str]:
    return f"meeting-invite:{meeting.pk}:{half}:", f"meeting-facilitator:{meeting.pk}:{half}:"


# --- texts (templates/emails/meeting_invitation/, meeting_facilitator/, _meeting_session.txt) --


def _line(value) -> str:
    """A value put into a message on one line (names, titles: staff typed them in a form)."""
    return " ".join(str(value or "").split())


def when(session: MeetingSession) -> str:
    """「2026年6月10日（水）14:00〜16:00」 in the site's time zone."""
    if session.starts_at is None:
        return "未定"
    start = timezone.localtime(session.starts_at)
    text = f"{start.year}年{start.month}月{start.day}日（{WEEKDAYS[start.weekday()]}）{start:%H:%M}"
    if session.ends_at:
        end = timezone.localtime(session.ends_at)
        if end.date() == start.date():
            text += f"〜{end:%H:%M}"
        else:
            text += f"〜{end.year}年{end.month}月{end.day}日（{WEEKDAYS[end.weekday()]}）{end:%H:%M}"
    return text


def _presentations(session: MeetingSession) -> list[dict]:
    return [
        {
            "title": _line(presentation.title),
            "local_government": presentation.local_government or "",
            "material_url": emails.absolute(presentation.material.url) if presentation.material else "",
        }
        for presentation in session.presentations.select_related("local_government", "material")
    ]


def _session_context(meeting: Meeting, session: MeetingSession, room: Room, changed: bool, presentations) -> dict:
    agenda = "\n".join(_line(line) for line in str(session.agenda or "").splitlines()).strip()
    return {
        "changed": changed,
        "title": _line(meeting.title),
        "half": session.get_half_display(),
        "first_half": session.half == Half.FIRST,
        "when": when(session),
        "tool": meeting.get_tool_display(),
        "url": room.url,
        "agenda": (agenda or "（追ってお知らせします）").splitlines(),
        "presentations": _presentations(session) if presentations is None else presentations,
        # The portal's top page with the meeting's campaign key (the 効果分析報告書 counts the visits).
        "portal_url": campaign.tagged(emails.absolute("/"), meeting.pk),
    }


def participant_text(
    meeting: Meeting, session: MeetingSession, participant: Participant, *, changed=False, presentations=None
) -> emails.Text:
    room = participant.group.room
    return emails.render(
        KIND_PARTICIPANT,
        {
            **_session_context(meeting, session, room, changed, presentations),
            "local_government": participant.local_government,
            "department": _line(participant.department),
            "name": _line(participant.name),
            "group": _line(participant.group.name),
            "email": participant.email,
            "display_name": _line(f"{participant.local_government.name} {participant.name}"),
            "zoom": meeting.tool == MeetingTool.ZOOM,
        },
    )


def facilitator_text(
    meeting: Meeting, session: MeetingSession, room: Room, groups: list[dict], *, changed=False, presentations=None
) -> emails.Text:
    return emails.render(
        KIND_FACILITATOR,
        {
            **_session_context(meeting, session, room, changed, presentations),
            "room": _line(room.name),
            "facilitator": _line(room.facilitator_name),
            "groups": [{**group, "name": _line(group["name"])} for group in groups],
            "people": sum(group["people"] for group in groups),
        },
    )


# --- checks -----------------------------------------------------------------------------------


def _digest(*parts) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:12]


def _session(meeting: Meeting, half: str) -> MeetingSession:
    if half not in Half.values:
        raise Refused("上半期か下半期かを選んでください。")
    session = MeetingSession.objects.filter(meeting=meeting, half=half).first()
    if session is None:
        raise Refused(f"{Half(half).label}の開催回がありません。情報交換会の編集画面で入力してください。")
    return session


def invitations_refusal(*, meeting: Meeting, half: str) -> Refused | None:
    """Why invitations for this half cannot be queued yet: the refusal :func:`invitations_queue`
    would raise (None when they can be queued). The screen shows it before the button is pressed."""
    try:
        session = _session(meeting, half)
    except Refused as refused:
        return refused
    problems = []
    label = session.get_half_display()
    if session.starts_at is None:
        problems.append(f"{label}の開始日時が入力されていません。情報交換会の編集画面で入力してください。")
    participants = meeting.participants.all()
    if not participants.exists():
        problems.append("参加者がいません。先に参加者名簿を取り込んでください。")
        return Refused(*problems)
    if meeting.grouping_approved_at is None:
        problems.append(
            "グループ分けがまだ承認されていません。グループ分けの画面で承認してから、案内を送ってください。"
        )
    ungrouped = participants.filter(group__isnull=True).count()
    if ungrouped:
        problems.append(f"グループに入っていない参加者が{ungrouped}人います。")
    roomless = Group.objects.filter(meeting=meeting, room__isnull=True, participants__isnull=False).distinct()
    if roomless.exists():
        names = "、".join(g.name for g in roomless.order_by("number")[:10])
        problems.append(
            f"会議室（会議URL）が決まっていないグループがあります（{names}）。会議室の画面で割り当ててください。"
        )
    no_url = Room.objects.filter(meeting=meeting, url="", groups__participants__isnull=False).distinct()
    if no_url.exists():
        names = "、".join(r.name for r in no_url.order_by("number"))
        problems.append(f"会議URLが入力されていない会議室があります（{names}）。会議室の画面で入力してください。")
    return Refused(*problems) if problems else None


def facilitators_missing(meeting: Meeting) -> list[Room]:
    """Rooms holding groups whose facilitator has no e-mail address (they get no message)."""
    return list(
        Room.objects.filter(meeting=meeting, facilitator_email="", groups__participants__isnull=False)
        .distinct()
        .order_by("number")
    )


# --- queueing ---------------------------------------------------------------------------------


class _Outbox:
    """This half's invitation messages already in the outbox, read once: which keys exist and the
    earlier versions of each recipient's message."""

    def __init__(self, meeting: Meeting, half: str):
        self.keys: set[str] = set()
        self.earlier: dict[str, list[tuple[str, str]]] = defaultdict(list)
        rows = OutboxMessage.objects.filter(
            Q(dedupe_key__startswith=meeting_key_prefixes(meeting, half)[0])
            | Q(dedupe_key__startswith=meeting_key_prefixes(meeting, half)[1])
        ).values_list("dedupe_key", "status")
        for key, status in rows:
            self.keys.add(key)
            self.earlier[key.rsplit(":", 1)[0] + ":"].append((key, status))
        self.superseded: list[str] = []

    def supersede(self, prefix: str) -> bool:
        """Mark earlier versions of this recipient's message for cancelling (those not yet sent);
        True if an earlier version already went to the mail server (the new one is a 【変更】)."""
        sent = False
        for key, status in self.earlier.get(prefix, []):
            if status in (OutboxMessage.Status.SENT, OutboxMessage.Status.SENDING):
                sent = True
            elif status in (OutboxMessage.Status.QUEUED, OutboxMessage.Status.FAILED):
                self.superseded.append(key)
        return sent

    def cancel_superseded(self) -> int:
        # Filtered on the status again: a message the sender claimed meanwhile is left alone.
        return OutboxMessage.objects.filter(
            dedupe_key__in=self.superseded, status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.FAILED]
        ).update(status=OutboxMessage.Status.CANCELLED)


def _room_groups(meeting: Meeting) -> dict[int, list[dict]]:
    lgs: dict[int, dict] = defaultdict(dict)
    for p in Participant.objects.filter(meeting=meeting, group__isnull=False).select_related("local_government"):
        lgs[p.group_id][p.local_government_id] = str(p.local_government)
    by_room: dict[int, list[dict]] = defaultdict(list)
    groups = Group.objects.filter(meeting=meeting, room__isnull=False).annotate(people=Count("participants"))
    for group in groups.order_by("number"):
        if group.people:
            by_room[group.room_id].append(
                {"name": group.name, "people": group.people, "local_governments": list(lgs[group.pk].values())}
            )
    return by_room


@transaction.atomic
def invitations_queue(*, meeting: Meeting, half: str, acting_user, request=None) -> int:
    """Queue the invitations of one half (see the module docstring); returns how many
    messages were newly queued (0 when everything was queued before)."""
    access.require(acting_user, access.STAFF)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    refusal = invitations_refusal(meeting=meeting, half=half)
    if refusal:
        raise refusal
    session = _session(meeting, half)
    timing = (session.starts_at.isoformat(), session.ends_at.isoformat() if session.ends_at else "")
    participants = (
        Participant.objects.filter(meeting=meeting).select_related("local_government", "group__room").order_by("number")
    )
    outbox = _Outbox(meeting, half)
    presentations = _presentations(session)
    queued = corrected = 0
    for participant in participants:
        room = participant.group.room
        prefix = participant_key_prefix(meeting, half, participant)
        key = prefix + _digest(*timing, room.url, participant.group.name, participant.email)
        if key in outbox.keys:
            continue
        changed = outbox.supersede(prefix)
        subject, body = participant_text(meeting, session, participant, changed=changed, presentations=presentations)
        message_queue(kind=KIND_PARTICIPANT, to=[participant.email], subject=subject, body=body, dedupe_key=key)
        queued += 1
        corrected += changed
    facilitators = 0
    room_groups = _room_groups(meeting)
    for room in Room.objects.filter(meeting=meeting).order_by("number"):
        groups = room_groups.get(room.pk)
        if not groups or not room.facilitator_email:
            continue
        prefix = facilitator_key_prefix(meeting, half, room)
        shape = [(g["name"], g["people"], tuple(g["local_governments"])) for g in groups]
        key = prefix + _digest(*timing, room.url, room.facilitator_email, room.name, shape)
        if key in outbox.keys:
            continue
        changed = outbox.supersede(prefix)
        subject, body = facilitator_text(meeting, session, room, groups, changed=changed, presentations=presentations)
        message_queue(kind=KIND_FACILITATOR, to=[room.facilitator_email], subject=subject, body=body, dedupe_key=key)
        facilitators += 1
        corrected += changed
    cancelled = outbox.cancel_superseded()
    audit_record(
        action="meetings.invitations_queued",
        acting_user=acting_user,
        target=meeting,
        request=request,
        detail={
            "half": half,
            "participants": queued,
            "facilitators": facilitators,
            "corrections": corrected,
            "cancelled": cancelled,
        },
    )
    return queued + facilitators


def invitations_status(meeting: Meeting, half: str) -> dict:
    """Counts of this half's invitation messages in the outbox, by recipient type and status."""
    counts = {}
    for label, prefix in zip(("participants", "facilitators"), meeting_key_prefixes(meeting, half)):
        rows = OutboxMessage.objects.filter(dedupe_key__startswith=prefix).values("status").annotate(n=Count("pk"))
        counts[label] = {row["status"]: row["n"] for row in rows}
    return counts


def invitation_preview(meeting: Meeting, half: str) -> tuple[str, str] | None:
    """The first participant's message as it would be queued (None when not possible yet)."""
    if invitations_refusal(meeting=meeting, half=half):
        return None
    participant = (
        Participant.objects.filter(meeting=meeting).select_related("local_government", "group__room").order_by("number")
    ).first()
    return participant_text(meeting, _session(meeting, half), participant)
