"""Incident records (事故) and the written 事故報告書 (decision 0034).

An incident is kept from detection to closing on the 「事故」 screens: the first oral report to
the agency, the written report, a timeline of what happened and was done, the cause, the
measures, the alerts it came from. :func:`report_blocks` lays it out as an outline of
``kokasen.meetings.report_outline`` blocks, which the implementation report's own renderers turn
into Word (python-docx) and PDF (reportlab): one layout engine for every report of the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from kokasen.accounts import access
from kokasen.core.audit import audit_record
from kokasen.meetings import charts
from kokasen.meetings.report_outline import FigureBlock, Heading, PageBreak, Para, Table

from .detection import RULES, SEVERITY_LABELS
from .models import Incident, IncidentEntry

REPORT_TITLE = "事故報告書"
NOT_YET = "（未記入）"


def incident_save(*, form, acting_user, request=None) -> Incident:
    """Save an incident from its form, with its alerts (audited: which fields changed)."""
    access.require(acting_user, access.STAFF)
    adding = form.instance.pk is None
    with transaction.atomic():
        incident = form.save()
        incident.alerts.set(form.cleaned_data.get("alert_numbers") or [])
        audit_record(
            action="ops.incident_added" if adding else "ops.incident_changed",
            acting_user=acting_user,
            target=incident,
            target_label=str(incident)[:200],
            detail={"kind": incident.kind, "fields": list(form.changed_data)},
            request=request,
        )
    return incident


def entry_add(*, incident: Incident, form, acting_user, request=None) -> IncidentEntry:
    access.require(acting_user, access.STAFF)
    with transaction.atomic():
        entry = form.save(commit=False)
        entry.incident = incident
        entry.author_label = acting_user.get_username()
        entry.save()
        Incident.objects.filter(pk=incident.pk).update(updated_at=timezone.now())
        audit_record(
            action="ops.incident_entry_added",
            acting_user=acting_user,
            target=incident,
            target_label=str(incident)[:200],
            detail={"entry": entry.pk},
            request=request,
        )
    return entry


# --- the timeline ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    at: datetime
    text: str
    who: str = ""
    milestone: bool = False


MILESTONES = (
    ("detected_at", "検知"),
    ("oral_reported_at", "こども家庭庁へ第一報（口頭）"),
    ("written_reported_at", "こども家庭庁へ書面で報告"),
    ("closed_at", "終結"),
)


def timeline(incident: Incident) -> list[Moment]:
    """The milestones and the recorded entries, in time order."""
    moments = []
    for name, label in MILESTONES:
        value = getattr(incident, name)
        if value:
            text = label
            if name == "oral_reported_at" and incident.oral_reported_to:
                text += f"（相手：{incident.oral_reported_to}）"
            moments.append(Moment(value, text, milestone=True))
    moments += [Moment(e.at, e.text, e.author_label) for e in incident.entries.all()]
    return sorted(moments, key=lambda m: (m.at, not m.milestone))


def elapsed(start: datetime, end: datetime) -> str:
    minutes = max(0, int((end - start).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}日{hours}時間{minutes}分"
    return f"{hours}時間{minutes}分" if hours else f"{minutes}分"


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y年%m月%d日 %H:%M") if value else NOT_YET


def milestone_chart(incident: Incident) -> charts.BarChart | None:
    """The time from detection to each milestone reached (hours to one decimal, or minutes when
    everything came within five hours)."""
    points = [
        (label, getattr(incident, name) - incident.detected_at)
        for name, label in MILESTONES[1:]
        if getattr(incident, name)
    ]
    if not points:
        return None
    longest = max(delta.total_seconds() for _, delta in points)
    in_minutes = longest < 5 * 3600
    unit, divisor = ("分", 60) if in_minutes else ("時間", 3600)
    # Hours to one decimal: 25 minutes is 0.4, not a bar of 0.
    digits = 0 if in_minutes else 1
    values = tuple(max(0, round(delta.total_seconds() / divisor, digits)) for _, delta in points)
    return charts.BarChart(tuple(label for label, _ in points), (charts.Series("検知からの経過", values),), unit=unit)


# --- the report --------------------------------------------------------------------------------


def report_blocks(incident: Incident, *, created_on) -> list:
    tables = figures = 0

    def table(caption, header, rows, widths, **extra):
        nonlocal tables
        tables += 1
        return Table(f"表{tables}　{caption}", tuple(header), tuple(tuple(r) for r in rows), tuple(widths), **extra)

    blocks: list = [
        Para(REPORT_TITLE, "title"),
        Para(incident.title, "subtitle"),
        Para(f"事故番号 {incident.pk}", "subtitle"),
        Para(f"{created_on.year}年{created_on.month}月{created_on.day}日", "date"),
        Para("こども家庭センターポータル 運用受託者", "subtitle"),
        PageBreak(),
        Heading(1, "1. 事故の概要"),
        table(
            "事故の概要",
            ("項目", "内容"),
            [
                ("件名", incident.title),
                ("種類", incident.get_kind_display()),
                ("状態", incident.status_label),
                ("検知した日時", _when(incident.detected_at)),
                (
                    "第一報（口頭）",
                    _when(incident.oral_reported_at)
                    + (f"\n相手：{incident.oral_reported_to}" if incident.oral_reported_to else ""),
                ),
                ("書面での報告", _when(incident.written_reported_at)),
                ("終結した日時", _when(incident.closed_at)),
            ],
            (1, 3),
            align_numbers=False,
        ),
        Heading(2, "1.1 概要・影響"),
        *_paras(incident.summary),
        Heading(1, "2. 経過"),
    ]
    moments = timeline(incident)
    blocks.append(
        table(
            "時系列の経過",
            ("日時", "検知から", "内容", "記録"),
            [(_when(m.at), elapsed(incident.detected_at, m.at), m.text, m.who or "—") for m in moments],
            (2.2, 1.4, 5, 1.4),
            align_numbers=False,
        )
    )
    chart = milestone_chart(incident)
    if chart is not None:
        figures += 1
        blocks.append(FigureBlock(f"図{figures}　検知から報告・終結までの経過（{chart.unit}）", chart))
    blocks += [
        Heading(1, "3. 原因"),
        *_paras(incident.cause),
        Heading(1, "4. 対策（応急・再発防止）"),
        *_paras(incident.measures),
    ]
    related = list(incident.alerts.order_by("first_seen", "pk"))
    blocks.append(Heading(1, "5. 関連する監視のアラート"))
    if related:
        blocks.append(
            table(
                "関連するアラート",
                ("番号", "重大度", "検知", "概要", "発生", "状態"),
                [
                    (
                        f"#{a.pk}",
                        SEVERITY_LABELS.get(a.severity, a.severity),
                        RULES.get(a.rule, a.rule),
                        a.summary,
                        f"{_when(a.first_seen)}\n〜 {_when(a.last_seen)}",
                        a.status_label + (f"\n{a.resolution}" if a.resolution else ""),
                    )
                    for a in related
                ],
                (0.8, 0.9, 1.6, 3.6, 2.4, 1.6),
                align_numbers=False,
            )
        )
    else:
        blocks.append(Para("監視のアラートとの関連は記録されていません。"))
    blocks += [
        Heading(1, "6. 個人情報の取扱い"),
        Para(
            "本報告書は、運用・セキュリティの管理画面に記録した内容から作成しています。個人が特定される情報"
            "（氏名、メールアドレス、入力されたパスワード等）は記載していません。提出前に、記入した文章に個人情報が"
            "含まれていないか確認してください。",
            "note",
        ),
    ]
    return blocks


def _paras(text: str) -> list[Para]:
    parts = [part.strip() for part in (text or "").split("\n\n") if part.strip()]
    return [Para(part) for part in parts] or [Para(NOT_YET, "note")]


def render_word(incident: Incident, *, created_on=None) -> bytes:
    """The 事故報告書 as .docx bytes (charts.ChartFontMissing without a Japanese font)."""
    from kokasen.meetings import report_docx  # python-docx on first use (decision 0063)

    created_on = created_on or timezone.localdate()
    return report_docx.render_blocks(
        report_blocks(incident, created_on=created_on),
        title=f"{REPORT_TITLE}（{incident.title}）",
        subject=REPORT_TITLE,
        created_on=created_on,
    )


def render_pdf(incident: Incident, *, created_on=None) -> bytes:
    from kokasen.meetings import report_pdf  # ReportLab on first use (decision 0063)

    created_on = created_on or timezone.localdate()
    return report_pdf.render_blocks(
        report_blocks(incident, created_on=created_on),
        title=f"{REPORT_TITLE}（{incident.title}）",
        subject=REPORT_TITLE,
    )


def filename(incident: Incident, extension: str) -> str:
    return f"事故報告書_{incident.pk}_{timezone.localdate():%Y%m%d}.{extension}"
