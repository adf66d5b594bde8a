"""Exchange meetings (情報交換会, REQUIREMENTS M1–M3): the meeting and its two half-year sessions, the roster, the
working grouping and its approvals, rooms (one meeting URL each), goals and progress, and the
imported survey.

Personal data here (names, addresses of participants) is the operator's to dispose of after the
report (docs/operations.md); the report itself shows participants by number only (S2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from kokasen.localgov.models import LocalGovernment

from .roles import ROLES


class MeetingKind(models.TextChoices):
    PREFECTURE = "prefecture", "都道府県職員の情報交換会"
    TOWN = "town", "町村職員の情報交換会"


class MeetingTool(models.TextChoices):
    ZOOM = "zoom", "Zoom"
    WEBEX = "webex", "Webex"
    TEAMS = "teams", "Microsoft Teams"
    OTHER = "other", "その他"


@dataclass(frozen=True)
class ProposedGroup:
    participants: tuple[int, ...]  # participant numbers, as the engine proposed them
    notes: tuple[str, ...]  # the engine's notes on this group


@dataclass(frozen=True)
class GroupingNotes:
    """What the engine said when it last proposed a meeting's grouping, and how many hand edits
    followed (``Meeting.grouping_notes``, services/grouping.py). Stored as JSON in one of three
    shapes, which :meth:`to_json` keeps writing: ``{}`` (never proposed nor edited),
    ``{"edits": n}`` (groups made by hand) or every field (proposed; ``groups`` keyed by the group
    number as a string)."""

    proposed_at: datetime | None = None
    proposed_by: str = ""  # user name
    notes: tuple[str, ...] = ()  # on the whole grouping
    groups: dict[int, ProposedGroup] = field(default_factory=dict)  # by group number
    mixed_groups: int = 0
    mixed_upper_bound: int = 0
    mixed_maximum_proven: bool = False
    kind: str = ""  # the engine's: "town" or "prefecture"
    objective: float = 0.0
    edits: int = 0  # hand edits since the proposal

    @classmethod
    def from_json(cls, data: dict | None) -> GroupingNotes:
        data = data or {}
        proposed_at = data.get("proposed_at")
        return cls(
            proposed_at=datetime.fromisoformat(proposed_at) if proposed_at else None,
            proposed_by=str(data.get("proposed_by", "")),
            notes=tuple(data.get("notes", ())),
            groups={
                int(number): ProposedGroup(tuple(group.get("participants", ())), tuple(group.get("notes", ())))
                for number, group in data.get("groups", {}).items()
            },
            mixed_groups=int(data.get("mixed_groups", 0)),
            mixed_upper_bound=int(data.get("mixed_upper_bound", 0)),
            mixed_maximum_proven=bool(data.get("mixed_maximum_proven", False)),
            kind=str(data.get("kind", "")),
            objective=float(data.get("objective", 0.0)),
            edits=int(data.get("edits", 0)),
        )

    def to_json(self) -> dict:
        if self.proposed_at is None:
            return {"edits": self.edits} if self.edits else {}
        return {
            "proposed_at": self.proposed_at.isoformat(),
            "proposed_by": self.proposed_by,
            "notes": list(self.notes),
            "groups": {
                str(number): {"participants": list(group.participants), "notes": list(group.notes)}
                for number, group in self.groups.items()
            },
            "mixed_groups": self.mixed_groups,
            "mixed_upper_bound": self.mixed_upper_bound,
            "mixed_maximum_proven": self.mixed_maximum_proven,
            "kind": self.kind,
            "objective": self.objective,
            "edits": self.edits,
        }


class Meeting(models.Model):
    """One exchange meeting (a series of two: 上半期 and 下半期). Town meetings are held per area (東日本 / 西日本); prefecture
    meetings gather every department and are grouped per department."""

    kind = models.CharField("種類", max_length=20, choices=MeetingKind.choices)
    title = models.CharField("名称", max_length=120)
    area = models.CharField(
        "エリア",
        max_length=4,
        choices=LocalGovernment.Area.choices,
        blank=True,
        help_text="町村向けの会議で、対象のエリアを選びます。都道府県向けの会議では空欄です。",
    )
    tool = models.CharField("会議ツール", max_length=10, choices=MeetingTool.choices, default=MeetingTool.ZOOM)
    capacity_per_url = models.PositiveIntegerField(
        "1つの会議URLの定員",
        default=100,
        help_text="参加者がこれを超えると、会議URLを分けます（グループは分けません）。",
    )
    min_group_size = models.PositiveSmallIntegerField("グループの最小人数", default=5)
    max_group_size = models.PositiveSmallIntegerField("グループの最大人数", default=7)
    max_population_ratio = models.DecimalField(
        "人口差の目安（倍）",
        max_digits=6,
        decimal_places=1,
        default=3,
        help_text="グループ内で最も大きい団体の人口が最も小さい団体のこの倍を超えると、注意を表示します。",
    )
    # The working grouping (Participant.group) was approved as it stands; any change clears these.
    grouping_approved_at = models.DateTimeField("グループ分けの承認日時", null=True, blank=True)
    grouping_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="グループ分けの承認者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # What the engine said when it last proposed the grouping (services/grouping.py), kept for the
    # adjustment screen: notes, mixing figures, the proposed groups, and the number of hand edits since.
    # Read it as ``proposal`` (GroupingNotes); write GroupingNotes.to_json().
    grouping_notes = models.JSONField("グループ分けの提案時の説明", default=dict, blank=True)
    created_at = models.DateTimeField("作成日時", default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "情報交換会"
        verbose_name_plural = "情報交換会"

    def __str__(self):
        return self.title

    @property
    def proposal(self) -> GroupingNotes:
        return GroupingNotes.from_json(self.grouping_notes)


class Half(models.TextChoices):
    FIRST = "first", "上半期"
    SECOND = "second", "下半期"


DEFAULT_AGENDA = {
    Half.FIRST: "課題・取組・目標",
    Half.SECOND: "進捗・取組",
}


class MeetingSession(models.Model):
    """The meeting of the first half-year (上半期: 課題・取組・目標) or of the second
    (下半期: 進捗・取組). The same groups meet in both, so progress is discussed among the
    people who heard the goals."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="sessions")
    half = models.CharField("上半期・下半期", max_length=6, choices=Half.choices)
    starts_at = models.DateTimeField("開始日時", null=True, blank=True)
    ends_at = models.DateTimeField("終了日時", null=True, blank=True)
    agenda = models.TextField("議題", blank=True)

    class Meta:
        ordering = ["meeting", "half"]
        verbose_name = "開催回"
        verbose_name_plural = "開催回"
        constraints = [models.UniqueConstraint(fields=["meeting", "half"], name="meetings_one_session_per_half")]

    def __str__(self):
        return f"{self.meeting}（{self.get_half_display()}）"


class CasePresentation(models.Model):
    """A local government presenting its case in one session, with its materials."""

    session = models.ForeignKey(MeetingSession, on_delete=models.CASCADE, related_name="presentations")
    local_government = models.ForeignKey(
        LocalGovernment, verbose_name="発表団体", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField("発表テーマ", max_length=200)
    material = models.ForeignKey(
        "wagtaildocs.Document", verbose_name="資料", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveSmallIntegerField("順番", default=0)

    class Meta:
        ordering = ["session", "position", "pk"]
        verbose_name = "事例発表"
        verbose_name_plural = "事例発表"

    def __str__(self):
        return self.title


class CenterStatus(models.Model):
    """Whether a municipality has set up its こども家庭センター, from the agency's list; used when
    a roster row leaves センター設置 blank. One row per municipality, replaced by each import."""

    local_government = models.OneToOneField(
        LocalGovernment, on_delete=models.CASCADE, related_name="center_status", verbose_name="地方公共団体"
    )
    has_center = models.BooleanField("センター設置")
    updated_at = models.DateTimeField("更新日時", default=timezone.now)

    class Meta:
        verbose_name = "センター設置状況"
        verbose_name_plural = "センター設置状況"


class Room(models.Model):
    """One meeting URL with its facilitator. A group is in exactly one room."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="rooms")
    number = models.PositiveSmallIntegerField("番号")
    name = models.CharField("名称", max_length=60)
    url = models.URLField("会議URL", max_length=500, blank=True)
    facilitator_name = models.CharField("ファシリテーター", max_length=60, blank=True)
    facilitator_email = models.EmailField("ファシリテーターのメールアドレス", blank=True)

    class Meta:
        ordering = ["meeting", "number"]
        verbose_name = "会議室（URL）"
        verbose_name_plural = "会議室（URL）"
        constraints = [models.UniqueConstraint(fields=["meeting", "number"], name="meetings_room_number_unique")]

    def __str__(self):
        return self.name


class Group(models.Model):
    """A group of the working grouping. Numbered 1.. per meeting; the name is what the meeting
    tool shows as the breakout room's name."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="groups")
    number = models.PositiveSmallIntegerField("番号")
    name = models.CharField("名称", max_length=60)
    department = models.CharField("部署", max_length=100, blank=True)
    room = models.ForeignKey(
        Room, verbose_name="会議室", null=True, blank=True, on_delete=models.SET_NULL, related_name="groups"
    )
    # What the group discussed, entered by staff or the facilitator after each session; the report
    # prints it with participants' names replaced by their numbers (report.Redactor).
    summary_first = models.TextField("協議の概要（上半期）", blank=True)
    summary_second = models.TextField("協議の概要（下半期）", blank=True)

    class Meta:
        ordering = ["meeting", "number"]
        verbose_name = "グループ"
        verbose_name_plural = "グループ"
        constraints = [models.UniqueConstraint(fields=["meeting", "number"], name="meetings_group_number_unique")]

    def __str__(self):
        return self.name


class Participant(models.Model):
    """One person on a meeting's roster (one imported row)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    number = models.PositiveIntegerField("参加者番号", help_text="報告書では氏名の代わりにこの番号を使います。")
    local_government = models.ForeignKey(
        LocalGovernment, verbose_name="団体", on_delete=models.PROTECT, related_name="+"
    )
    department = models.CharField("部署", max_length=100, blank=True)
    # 担当区分 (prefecture meetings are grouped by it): the roster's, else the department's
    # confirmed mapping (DepartmentRole); "" until confirmed. Town meetings: always "".
    role = models.CharField("担当区分", max_length=30, blank=True, choices=[(r, r) for r in ROLES])
    role_from_roster = models.BooleanField("担当区分は名簿の記入", default=False)
    position = models.CharField("役職", max_length=100, blank=True)
    name = models.CharField("氏名", max_length=100)
    email = models.EmailField("メールアドレス", max_length=254)
    has_center = models.BooleanField("センター設置", null=True)
    group = models.ForeignKey(
        Group, verbose_name="グループ", null=True, blank=True, on_delete=models.SET_NULL, related_name="participants"
    )
    attended_first = models.BooleanField("上半期に出席", null=True)
    attended_second = models.BooleanField("下半期に出席", null=True)

    class Meta:
        ordering = ["meeting", "number"]
        verbose_name = "参加者"
        verbose_name_plural = "参加者"
        constraints = [
            models.UniqueConstraint(fields=["meeting", "number"], name="meetings_participant_number_unique"),
            models.UniqueConstraint(fields=["meeting", "email"], name="meetings_participant_email_unique"),
        ]

    def __str__(self):
        return f"{self.number}: {self.local_government}"


class DepartmentRole(models.Model):
    """Prefecture meetings: the 担当区分 of one prefecture's department, for roster rows that left
    担当区分 blank. Made by the roster import with a suggestion (roles.suggest_role, or the same
    department's 区分 at an earlier meeting); staff confirm every department once per meeting, and
    the confirmed 区分 is copied to the department's participants (services/roles.py)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="department_roles")
    local_government = models.ForeignKey(
        LocalGovernment, verbose_name="団体", on_delete=models.PROTECT, related_name="+"
    )
    department = models.CharField("部署", max_length=100)
    suggestion = models.CharField("提案した担当区分", max_length=30, blank=True)
    role = models.CharField("担当区分", max_length=30, blank=True, choices=[(r, r) for r in ROLES])
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField("確認日時", null=True, blank=True)

    class Meta:
        ordering = ["meeting", "local_government__code", "department"]
        verbose_name = "部署の担当区分"
        verbose_name_plural = "部署の担当区分"
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "local_government", "department"], name="meetings_one_role_per_department"
            )
        ]


class GroupingApproval(models.Model):
    """A grouping as it was approved: who, when, and a snapshot of every group (numbers, names,
    participant numbers, rule violations at the time). Never edited."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="approvals")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(default=timezone.now)
    snapshot = models.JSONField()
    objective = models.FloatField(null=True)
    violation_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-approved_at", "-pk"]
        verbose_name = "グループ分けの承認"
        verbose_name_plural = "グループ分けの承認"


class Goal(models.Model):
    """A local government's goals set in 上半期, and its progress reported in 下半期. Town meetings:
    one per town (department ""). Prefecture meetings are grouped per department, so each
    department of a prefecture sets its own: one per (prefecture, department of the roster)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="goals")
    local_government = models.ForeignKey(
        LocalGovernment, verbose_name="団体", on_delete=models.PROTECT, related_name="+"
    )
    department = models.CharField("部署", max_length=100, blank=True)
    goal = models.TextField("目標（上半期）", blank=True)
    progress = models.TextField("進捗（下半期）", blank=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        ordering = ["meeting", "local_government__code", "department"]
        verbose_name = "目標と進捗"
        verbose_name_plural = "目標と進捗"
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "local_government", "department"], name="meetings_one_goal_per_lg_department"
            )
        ]


class SurveyResponse(models.Model):
    """One row of an imported survey CSV: answers by question (the header), with no names."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="survey_responses")
    half = models.CharField("上半期・下半期", max_length=6, choices=Half.choices, blank=True)
    row_number = models.PositiveIntegerField("行")
    local_government = models.ForeignKey(
        LocalGovernment, verbose_name="団体", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answers = models.JSONField("回答", default=dict)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["meeting", "row_number"]
        verbose_name = "アンケート回答"
        verbose_name_plural = "アンケート回答"
