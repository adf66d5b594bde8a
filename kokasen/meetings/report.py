"""The content of the implementation report (情報交換会実施報告書, REQUIREMENTS M3), read from the
database into plain dataclasses; ``report_docx`` and ``report_pdf`` only lay it out.

No person is named anywhere in :class:`ReportData` (S2): participants appear as their roster
number (「参加者012」), never by name, e-mail, position; facilitators and the approver of the
grouping not at all. Free text that staff or respondents typed (agenda, case titles, goals,
progress, survey answers) passes through :class:`Redactor`, which replaces the names and
addresses of the meeting's participants by their numbers and any other e-mail address or
telephone number by a placeholder. Survey free-text answers are kept in ``QuestionResult.texts``
for the Word file only (the agency reviews and edits it); the PDF prints their count.
See docs/decisions/0016-implementation-report.md.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils import timezone

from . import survey_file
from .centers import CENTER_PHRASES
from .models import Half, Meeting, MeetingKind, SurveyResponse
from .selectors import center_by_local_government

REPORT_TITLE = "情報交換会実施報告書"
CENTER_LABELS = CENTER_PHRASES
NO_DEPARTMENT = "（部署の記入なし）"
NO_ROLE = "（担当区分なし）"
CATEGORY_PREFECTURE = "都道府県"
HALVES = (Half.FIRST, Half.SECOND)
WEEKDAYS = "月火水木金土日"


def participant_label(number: int) -> str:
    return f"参加者{number:03d}"


def wareki(day: dt.date) -> str:
    """令和7年7月10日 (令和元年 for 2019); dates before 令和 in the western calendar."""
    if day < dt.date(2019, 5, 1):
        return f"{day.year}年{day.month}月{day.day}日"
    year = day.year - 2018
    return f"令和{'元' if year == 1 else year}年{day.month}月{day.day}日"


# --- the dataclasses ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    """Attendance of one slice of a session's roster."""

    label: str
    invited: int  # people on the roster
    attended: int
    absent: int
    unrecorded: int  # attendance not entered
    lg_invited: int  # local governments on the roster
    lg_attended: int  # … with at least one person present
    lg_attended_with_center: int
    lg_attended_without_center: int

    @property
    def rate(self) -> float | None:
        """Attendance among the people whose attendance was recorded."""
        recorded = self.attended + self.absent
        return self.attended / recorded if recorded else None


@dataclass(frozen=True)
class Presentation:
    position: int
    local_government: str
    title: str


@dataclass(frozen=True)
class SessionReport:
    half: str
    half_label: str
    date_text: str  # 「令和7年7月10日（木）14:00〜16:00」 or 「日時未定」
    agenda: str
    presentations: tuple[Presentation, ...]
    total: Count
    breakdown_label: str  # 「担当区分」 (prefecture meetings) or 「センター設置状況」 (town meetings)
    breakdown: tuple[Count, ...]

    @property
    def recorded(self) -> bool:
        return self.total.unrecorded < self.total.invited


@dataclass(frozen=True)
class GroupMember:
    """One local government in a group: its people by number only."""

    local_government: str
    population: int | None
    has_center: bool | None
    participants: tuple[str, ...]  # 「参加者012」


@dataclass(frozen=True)
class GroupRow:
    number: int
    name: str
    department: str
    room: str
    members: tuple[GroupMember, ...]
    size: int
    with_center: int  # local governments
    without_center: int
    mixed: bool | None  # town meetings: a town with a center and one without; None for prefecture meetings
    population_ratio: float | None  # largest / smallest known population
    attended_first: int
    attended_second: int
    summary_first: str = ""  # 協議の概要, participants' names replaced (Redactor)
    summary_second: str = ""


@dataclass(frozen=True)
class GoalRow:
    local_government: str
    goal: str
    progress: str
    department: str = ""  # prefecture meetings: each department of a prefecture has its own goals


@dataclass(frozen=True)
class ChoiceCount:
    answer: str
    count: int
    share: float  # of the question's answers


@dataclass(frozen=True)
class QuestionResult:
    number: int
    text: str
    kind: str  # survey_file.CHOICE or survey_file.TEXT
    answered: int
    counts: tuple[ChoiceCount, ...]  # choice questions
    texts: tuple[str, ...]  # free-text questions, redacted; for the Word file only


@dataclass(frozen=True)
class SurveyReport:
    half: str
    half_label: str
    respondents: int
    local_governments: int  # respondents' local governments, where the file named them
    questions: tuple[QuestionResult, ...]


@dataclass(frozen=True)
class MeetingReport:
    pk: int
    title: str
    kind: str
    kind_label: str
    category: str  # 「都道府県」「東日本」「西日本」
    tool_label: str
    participants: int
    local_governments: int
    rooms: int
    grouping_approved_on: str  # 「令和7年6月1日」 or ""
    sessions: tuple[SessionReport, ...]
    groups: tuple[GroupRow, ...]
    ungrouped: int  # people on the roster without a group
    goals: tuple[GoalRow, ...]
    surveys: tuple[SurveyReport, ...]


@dataclass(frozen=True)
class SummaryRow:
    meeting: str
    category: str
    half_label: str
    count: Count


@dataclass(frozen=True)
class ReportData:
    title: str
    created_on: dt.date
    meetings: tuple[MeetingReport, ...]
    summary: tuple[SummaryRow, ...]  # each meeting × session
    by_category: tuple[SummaryRow, ...]  # totals per 都道府県 / 東日本 / 西日本 × session
    notes: tuple[str, ...]

    @property
    def created_text(self) -> str:
        return wareki(self.created_on)


# --- redaction -----------------------------------------------------------------------------------

_HONORIFICS = "(?:さん|様|さま|氏|殿|課長|係長|主任|主査|部長|室長|所長|センター長)"
_SPACES = re.compile(r"[\s\u3000]+")
_SEP = None  # a token of _trie_pattern: any run of spaces, or none


def _trie_pattern(sequences: Iterable[tuple]) -> str:
    """A regular expression matching any of ``sequences`` (characters, and _SEP for optional
    spaces), longest first, built as a trie."""
    root: dict = {}
    for sequence in sequences:
        node = root
        for token in sequence:
            node = node.setdefault(token, {})
        node[""] = {}  # end of a sequence

    def build(node: dict) -> str:
        alternatives = []
        for token in sorted((t for t in node if t != ""), key=lambda t: (t is not _SEP, t or "")):
            head = r"[\s\u3000]*" if token is _SEP else re.escape(token)
            child = node[token]
            tail = build(child)
            if tail:
                tail = f"(?:{tail})"
                if "" in child:
                    tail += "?"
            alternatives.append(head + tail)
        return "|".join(alternatives)

    return build(root)


class Redactor:
    """Replaces the names and addresses of a meeting's participants in free text by their
    numbers. Full names match with or without the space between family and given name; a
    family name alone only when followed by an honorific (「山田さん」「山田課長」), and then only
    when no other participant has that family name (else 「［氏名削除］」). Any other e-mail
    address or telephone number becomes a placeholder (survey_file.scrub)."""

    AMBIGUOUS = "［氏名削除］"

    def __init__(self, people: Iterable[tuple[int, str, str]]):
        self._labels: dict[str, str] = {}  # lower-case name without spaces, or address → label
        sequences: set[tuple[str, ...]] = set()  # characters, with _SEP where a name has a space
        families: dict[str, set[int]] = {}
        for number, name, email in people:
            label = participant_label(number)
            keys = []
            if email.strip():
                keys.append((email.strip().lower(), tuple(email.strip().lower())))
            # The name as stored and in NFKC form (half-width kana typed in a roster, …).
            for form in dict.fromkeys((name or "", unicodedata.normalize("NFKC", name or ""))):
                parts = [p.lower() for p in _SPACES.split(form) if p]
                if len("".join(parts)) >= 2:
                    tokens = [t for i, part in enumerate(parts) for t in ((_SEP,) if i else ()) + tuple(part)]
                    keys.append(("".join(parts), tuple(tokens)))
                    if len(parts) >= 2 and len(parts[0]) >= 2:
                        families.setdefault(unicodedata.normalize("NFKC", _SPACES.split(form.strip())[0]), set()).add(
                            number
                        )
            for key, tokens in keys:
                self._labels[key] = label if self._labels.get(key, label) == label else self.AMBIGUOUS
                sequences.add(tokens)
        # One alternation of hundreds of names is tried name by name at every character; a trie
        # (shared prefixes merged) is tried once (about 10× faster for 1,000 participants).
        self._full = re.compile(_trie_pattern(sequences), re.IGNORECASE) if sequences else None
        self._families = {f: min(n) if len(n) == 1 else None for f, n in families.items()}
        names = sorted(self._families, key=lambda s: (-len(s), s))
        self._family = re.compile(f"({'|'.join(map(re.escape, names))})(?={_HONORIFICS})") if names else None

    def _full_label(self, match: re.Match) -> str:
        return self._labels.get(_SPACES.sub("", match.group(0)).lower(), self.AMBIGUOUS)

    def _family_label(self, match: re.Match) -> str:
        number = self._families[match.group(1)]
        return participant_label(number) if number is not None else self.AMBIGUOUS

    def __call__(self, text: str) -> str:
        if not text:
            return ""
        if self._full:
            text = self._full.sub(self._full_label, text)
        if self._family:
            text = self._family.sub(self._family_label, text)
        return survey_file.scrub(text)[0]


# --- reading -------------------------------------------------------------------------------------


def report_data(meetings: Sequence[Meeting], *, created_on: dt.date | None = None) -> ReportData:
    """Everything the report shows for ``meetings`` (in the order given)."""
    reports = tuple(_meeting_report(m) for m in meetings)
    summary = tuple(SummaryRow(m.title, m.category, s.half_label, s.total) for m in reports for s in m.sessions)
    by_category = []
    for category in (CATEGORY_PREFECTURE, "東日本", "西日本"):
        for half in HALVES:
            rows = [s.total for m in reports if m.category == category for s in m.sessions if s.half == half]
            if rows:
                by_category.append(SummaryRow("", category, Half(half).label, _sum_counts(category, rows)))
    notes = (
        "参加者は名簿の参加者番号（参加者001 など）で示し、氏名・メールアドレス・役職は載せていません。",
        "出席率は、出欠を記録した参加者に対する出席者の割合です。",
        "団体の数は、1人でも出席した団体を出席として数えています。",
    )
    return ReportData(
        title=REPORT_TITLE,
        created_on=created_on or timezone.localdate(),
        meetings=reports,
        summary=summary,
        by_category=tuple(by_category),
        notes=notes,
    )


def _category(meeting: Meeting) -> str:
    if meeting.kind == MeetingKind.PREFECTURE:
        return CATEGORY_PREFECTURE
    return meeting.get_area_display() or "エリア未設定"


def _meeting_report(meeting: Meeting) -> MeetingReport:
    people = list(meeting.participants.select_related("local_government", "group", "group__room").order_by("number"))
    redact = Redactor((p.number, p.name, p.email) for p in people)
    center_of_lg = center_by_local_government(meeting)

    def center(p) -> bool | None:
        return center_of_lg.get(p.local_government_id)

    sessions = tuple(
        _session_report(meeting, session, people, center, redact)
        for session in meeting.sessions.prefetch_related("presentations__local_government").order_by("half")
    )
    sessions = tuple(sorted(sessions, key=lambda s: HALVES.index(s.half)))
    approved = meeting.grouping_approved_at
    return MeetingReport(
        pk=meeting.pk,
        title=redact(meeting.title),
        kind=meeting.kind,
        kind_label=meeting.get_kind_display(),
        category=_category(meeting),
        tool_label=meeting.get_tool_display(),
        participants=len(people),
        local_governments=len({p.local_government_id for p in people}),
        rooms=meeting.rooms.count(),
        grouping_approved_on=wareki(timezone.localtime(approved).date()) if approved else "",
        sessions=sessions,
        groups=_groups(meeting, people, center, redact),
        ungrouped=sum(1 for p in people if p.group_id is None),
        goals=tuple(
            GoalRow(str(g.local_government), redact(g.goal), redact(g.progress), g.department)
            for g in meeting.goals.select_related("local_government").order_by("local_government__code", "department")
        ),
        surveys=_surveys(meeting, redact),
    )


def _date_text(session) -> str:
    if not session.starts_at:
        return "日時未定"
    start = timezone.localtime(session.starts_at)
    text = f"{wareki(start.date())}（{WEEKDAYS[start.weekday()]}）{start:%H:%M}"
    if session.ends_at:
        end = timezone.localtime(session.ends_at)
        text += f"〜{end:%H:%M}" if end.date() == start.date() else f"〜{wareki(end.date())} {end:%H:%M}"
    return text


def _session_report(meeting, session, people, center, redact) -> SessionReport:
    attended = (lambda p: p.attended_first) if session.half == Half.FIRST else (lambda p: p.attended_second)
    if meeting.kind == MeetingKind.PREFECTURE:
        breakdown_label = "担当区分"  # prefecture meetings are grouped per 担当区分 (roles.py)
        departments: dict[str, list] = {}
        for p in people:
            departments.setdefault(p.role or NO_ROLE, []).append(p)
        slices = list(departments.items())
    else:
        breakdown_label = "センター設置状況"
        slices = [(label, [p for p in people if center(p) is value]) for value, label in CENTER_LABELS.items()]
        slices = [(label, group) for label, group in slices if group or label != CENTER_LABELS[None]]
    return SessionReport(
        half=session.half,
        half_label=session.get_half_display(),
        date_text=_date_text(session),
        agenda=redact(session.agenda),
        presentations=tuple(
            Presentation(i, str(p.local_government) if p.local_government else "（団体の指定なし）", redact(p.title))
            for i, p in enumerate(session.presentations.all(), start=1)
        ),
        total=_count("合計", people, attended, center),
        breakdown_label=breakdown_label,
        breakdown=tuple(_count(label, group, attended, center) for label, group in slices),
    )


def _count(label: str, people, attended, center) -> Count:
    present = [p for p in people if attended(p) is True]
    lgs_present: dict[int, bool | None] = {}
    for p in present:
        lgs_present.setdefault(p.local_government_id, center(p))
    return Count(
        label=label,
        invited=len(people),
        attended=len(present),
        absent=sum(1 for p in people if attended(p) is False),
        unrecorded=sum(1 for p in people if attended(p) is None),
        lg_invited=len({p.local_government_id for p in people}),
        lg_attended=len(lgs_present),
        lg_attended_with_center=sum(1 for c in lgs_present.values() if c is True),
        lg_attended_without_center=sum(1 for c in lgs_present.values() if c is False),
    )


def _sum_counts(label: str, counts: Sequence[Count]) -> Count:
    return Count(
        label,
        *(
            sum(getattr(c, f) for c in counts)
            for f in (
                "invited",
                "attended",
                "absent",
                "unrecorded",
                "lg_invited",
                "lg_attended",
                "lg_attended_with_center",
                "lg_attended_without_center",
            )
        ),
    )


def _groups(meeting, people, center, redact) -> tuple[GroupRow, ...]:
    rows = []
    for group in meeting.groups.select_related("room").order_by("number"):
        mine = [p for p in people if p.group_id == group.pk]
        by_lg: dict[int, list] = {}
        for p in mine:
            by_lg.setdefault(p.local_government_id, []).append(p)
        members = tuple(
            GroupMember(
                local_government=str(ps[0].local_government),
                population=ps[0].local_government.population,
                has_center=center(ps[0]),
                participants=tuple(participant_label(p.number) for p in ps),
            )
            for ps in sorted(by_lg.values(), key=lambda ps: ps[0].local_government.code)
        )
        populations = [m.population for m in members if m.population]
        with_center = sum(1 for m in members if m.has_center is True)
        without_center = sum(1 for m in members if m.has_center is False)
        rows.append(
            GroupRow(
                number=group.number,
                name=group.name,
                department=group.department,
                room=group.room.name if group.room else "",
                members=members,
                size=len(mine),
                with_center=with_center,
                without_center=without_center,
                mixed=(with_center > 0 and without_center > 0) if meeting.kind == MeetingKind.TOWN else None,
                population_ratio=max(populations) / min(populations) if len(populations) >= 2 else None,
                attended_first=sum(1 for p in mine if p.attended_first),
                attended_second=sum(1 for p in mine if p.attended_second),
                summary_first=redact(group.summary_first.strip()),
                summary_second=redact(group.summary_second.strip()),
            )
        )
    return tuple(rows)


def survey_pairs(answers) -> list[tuple[str, str]]:
    """A SurveyResponse's answers as (heading, answer) pairs in the file's column order.
    The import stores a list of pairs (a JSON object's key order is lost in PostgreSQL's
    jsonb); a plain object is read too."""
    if isinstance(answers, dict):
        return [(str(k), "" if v is None else str(v)) for k, v in answers.items()]
    return [(str(pair[0]), "" if pair[1] is None else str(pair[1])) for pair in answers or () if len(pair) == 2]


def _surveys(meeting, redact) -> tuple[SurveyReport, ...]:
    reports = []
    responses = list(SurveyResponse.objects.filter(meeting=meeting).order_by("half", "row_number", "pk"))
    for half in (*HALVES, ""):
        rows = [r for r in responses if r.half == half]
        if not rows:
            continue
        headings: dict[str, None] = {}
        answers: list[dict[str, str]] = []
        for r in rows:
            pairs = survey_pairs(r.answers)
            for heading, _ in pairs:
                headings.setdefault(heading)
            answers.append({h: redact(a.strip()) for h, a in pairs})
        questions = []
        for number, heading in enumerate(headings, start=1):
            question = survey_file.question_of(heading)
            values = [a.get(heading, "") for a in answers]
            given = [v for v in values if v]
            kind = question.kind or survey_file.classify(given)
            counts = survey_file.count_choices(given) if kind == survey_file.CHOICE else []
            questions.append(
                QuestionResult(
                    number=number,
                    text=redact(question.text),
                    kind=kind,
                    answered=len(given),
                    counts=tuple(ChoiceCount(a, n, n / len(given)) for a, n in counts),
                    texts=tuple(given) if kind == survey_file.TEXT else (),
                )
            )
        reports.append(
            SurveyReport(
                half=half,
                half_label=Half(half).label if half else "時期の指定なし",
                respondents=len(rows),
                local_governments=len({r.local_government_id for r in rows if r.local_government_id}),
                questions=tuple(questions),
            )
        )
    return tuple(reports)
