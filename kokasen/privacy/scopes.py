"""What each disposal scope covers: a list of steps (delete rows, or blank personal fields) and
files. Built from querysets, so that the dry run counts exactly what the disposal then removes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import Q, QuerySet

from kokasen.accounts.models import RegisteredAddress, StaffEnrolmentInvitation, User
from kokasen.analytics.models import ZeroResultSearchDay
from kokasen.core.models import AuditEvent
from kokasen.feedback.models import Opinion
from kokasen.meetings.models import Group, Meeting, Participant, Room, SurveyResponse
from kokasen.notifications.models import OutboxMessage
from kokasen.ops.models import Alert, EmergencyContact, Incident
from kokasen.tips.models import Post

from . import backups

DELETE = "delete"
BLANK = "blank"

SCOPES = {
    "meeting": "会議1件の個人情報（参加者名簿、グループの部署、ファシリテーター、案内メール、アンケート）",
    "contacts": "小ネタ・意見箱の連絡先（すべて）",
    "outbox": "送信済みメール（本文・宛先を含む送信記録。送信待ちのものを除く）",
    "contract-end": "契約終了時のすべての個人情報",
}


@dataclass
class Step:
    label: str  # Japanese, for the dry run and the annex
    queryset: QuerySet
    action: str = DELETE
    values: dict = field(default_factory=dict)  # BLANK: field -> erased value

    @property
    def table(self) -> str:
        return self.queryset.model._meta.db_table

    @property
    def store(self) -> str:
        return self.queryset.model._meta.label

    def count(self) -> int:
        return self.queryset.count()


@dataclass
class Plan:
    scope: str
    description: str
    steps: list[Step]
    files: list[Path] = field(default_factory=list)
    log_files: list[Path] = field(default_factory=list)
    backup_mode: str = backups.FORGET_PRUNE

    @property
    def tables(self) -> list[str]:
        """Every table a step touches, and the tables that cascade from them."""
        tables = []
        for step in self.steps:
            for name in [step.table, *_cascaded(step.queryset.model)]:
                if name not in tables:
                    tables.append(name)
        return tables


def _cascaded(model) -> list[str]:
    return [
        rel.related_model._meta.db_table
        for rel in model._meta.related_objects
        if getattr(rel, "on_delete", None) is not None and rel.on_delete.__name__ == "CASCADE"
    ]


def _blank(label, queryset, **values) -> Step:
    not_blank = Q()
    for name, value in values.items():
        not_blank |= ~Q(**{name: value})
    return Step(label, queryset.filter(not_blank), BLANK, values)


def _meeting_steps(meetings: QuerySet) -> list[Step]:
    ids = list(meetings.values_list("pk", flat=True))
    invitations = Q(pk__in=[])
    for pk in ids:
        invitations |= Q(dedupe_key__startswith=f"meeting-invite:{pk}:")
        invitations |= Q(dedupe_key__startswith=f"meeting-facilitator:{pk}:")
    return [
        Step("参加者名簿（氏名・メールアドレス・部署・役職）", Participant.objects.filter(meeting__in=ids)),
        _blank(
            "グループの部署・協議の概要",
            Group.objects.filter(meeting__in=ids),
            department="",
            summary_first="",
            summary_second="",
        ),
        _blank(
            "会議室のファシリテーター（氏名・メールアドレス）",
            Room.objects.filter(meeting__in=ids),
            facilitator_name="",
            facilitator_email="",
        ),
        Step("会議の案内メール（本文・宛先）", OutboxMessage.objects.filter(invitations)),
        Step("アンケート回答", SurveyResponse.objects.filter(meeting__in=ids)),
    ]


def _contact_steps() -> list[Step]:
    return [
        _blank(
            "小ネタの連絡先（メールアドレス・部署・氏名）",
            Post.objects.all(),
            contact_email="",
            department="",
            person_name="",
        ),
        _blank(
            "意見箱の連絡先（部署・氏名・メールアドレス）", Opinion.objects.all(), contact_name="", contact_email=""
        ),
    ]


def _outbox_step() -> Step:
    pending = [OutboxMessage.Status.QUEUED, OutboxMessage.Status.SENDING]
    return Step("送信記録（件名・本文・宛先）", OutboxMessage.objects.exclude(status__in=pending))


def _files_under(root) -> list[Path]:
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def _log_files() -> list[Path]:
    found = []
    for pattern in getattr(settings, "PRIVACY_LOG_FILES", []):
        base = Path(pattern)
        anchor = Path(base.anchor or ".")
        found += [p for p in anchor.glob(str(base.relative_to(anchor))) if p.is_file()]
    return sorted(set(found))


def plan_for(scope: str, *, meeting: int | None = None) -> Plan:
    if scope == "meeting":
        if meeting is None:
            raise ValueError("--meeting is required for the meeting scope")
        meetings = Meeting.objects.filter(pk=meeting)
        if not meetings.exists():
            raise ValueError(f"no meeting {meeting}")
        return Plan(f"meeting:{meeting}", SCOPES["meeting"], _meeting_steps(meetings))
    if scope == "contacts":
        return Plan(scope, SCOPES[scope], _contact_steps())
    if scope == "outbox":
        return Plan(scope, SCOPES[scope], [_outbox_step()])
    if scope == "contract-end":
        steps = [
            *_meeting_steps(Meeting.objects.all()),
            Step("送信メール（すべて）", OutboxMessage.objects.all()),
            Step("意見箱のご意見（本文・連絡先）", Opinion.objects.all()),
            *_contact_steps()[:1],
            Step("監査ログ（操作者・IPアドレス・詳細）", AuditEvent.objects.all()),
            Step("運用アラート（根拠のIPアドレス等）", Alert.objects.all()),
            Step("事故の記録（経過・記録した職員）", Incident.objects.all()),
            Step("緊急連絡先", EmergencyContact.objects.all()),
            Step("セッション", Session.objects.all()),
            Step("該当なしだったサイト内検索の検索語", ZeroResultSearchDay.objects.all()),
            Step("アカウントの登録メールアドレス", RegisteredAddress.objects.all()),
            Step("職員の登録招待", StaffEnrolmentInvitation.objects.all()),
            _blank("アカウントの氏名・メールアドレス", User.objects.all(), first_name="", last_name="", email=""),
        ]
        return Plan(
            scope,
            SCOPES[scope],
            steps,
            files=_files_under(settings.MEDIA_ROOT),
            log_files=_log_files(),
            backup_mode=backups.DESTROY_KEY,
        )
    raise ValueError(f"unknown scope {scope!r}")
