"""The report as an outline of blocks (headings, paragraphs, tables, figures, free text) that
``report_docx`` and ``report_pdf`` both lay out, so the Word file and the PDF carry the same
headings, tables and charts and the same numbering of 表 and 図. The one difference: survey free
text (:class:`FreeText`) is printed in the Word file only; the PDF prints ``FreeText.pdf_text``.

:func:`outline` builds it one section at a time: the title page, 1 実施の概要, then per meeting
its overview, each session, the group composition, goals and progress, the survey results, and
last the note on personal data. The content is :func:`report.report_data`'s, nothing is read here.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import charts, survey_file
from .centers import center_label
from .models import MeetingKind
from .report import NO_DEPARTMENT, Count, MeetingReport, QuestionResult, ReportData, SessionReport


@dataclass(frozen=True)
class Heading:
    level: int  # 1–3
    text: str


@dataclass(frozen=True)
class Para:
    text: str
    kind: str = "body"  # "body", "note", "question", "title", "subtitle", "date"


@dataclass(frozen=True)
class Table:
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # relative
    total: bool = False  # the last row is a total
    align_numbers: bool = True  # right-align cells that hold a number


@dataclass(frozen=True)
class FigureBlock:
    caption: str
    chart: object  # charts.BarChart


@dataclass(frozen=True)
class FreeText:
    answers: tuple[str, ...]
    note: str
    pdf_text: str


@dataclass(frozen=True)
class PageBreak:
    pass


FREE_TEXT_NOTE = (
    "【提出前に確認してください】自由記述の回答をそのまま載せています（参加者の氏名・メールアドレス・電話番号は"
    "番号や「削除」の表示に置き換え済みです）。ほかの個人名など、個人が特定される記述がないか確認し、"
    "必要に応じて編集してください。"
)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _count_cells(count: Count) -> tuple[str, ...]:
    return (
        f"{count.invited:,}",
        f"{count.attended:,}",
        f"{count.absent:,}",
        f"{count.unrecorded:,}",
        _percent(count.rate),
        f"{count.lg_attended:,} / {count.lg_invited:,}",
    )


COUNT_HEADER = ("名簿の人数", "出席", "欠席", "出欠未記録", "出席率", "出席団体数 / 名簿の団体数")


class _Outline:
    """The blocks so far; tables and figures are numbered in the order they are added."""

    def __init__(self):
        self.blocks: list = []
        self.tables = self.figures = 0

    def add(self, *blocks) -> None:
        self.blocks.extend(blocks)

    def table(self, caption, header, rows, widths, total=False, align_numbers=True) -> None:
        self.tables += 1
        self.blocks.append(
            Table(
                f"表{self.tables}　{caption}",
                tuple(header),
                tuple(tuple(r) for r in rows),
                tuple(widths),
                total,
                align_numbers,
            )
        )

    def figure(self, fig) -> None:
        if fig is not None:
            self.figures += 1
            self.blocks.append(FigureBlock(f"図{self.figures}　{fig.caption}", fig.chart))


def outline(data: ReportData) -> list:
    doc = _Outline()
    _title_page(doc, data)
    _summary(doc, data)
    for n, meeting in enumerate(data.meetings, start=2):
        doc.add(Heading(1, f"{n}. {meeting.title}"))
        _meeting_overview(doc, f"{n}.1", meeting)
        section = 1
        for session in meeting.sessions:
            section += 1
            _session(doc, f"{n}.{section}", meeting, session)
        _group_composition(doc, f"{n}.{section + 1}", meeting)
        _summaries(doc, f"{n}.{section + 2}", meeting)
        _goals(doc, f"{n}.{section + 3}", meeting)
        _survey_results(doc, f"{n}.{section + 4}", meeting)
    doc.add(Heading(1, f"{len(data.meetings) + 2}. 個人情報の取扱い"), *(Para(note) for note in data.notes))
    return doc.blocks


def _title_page(doc: _Outline, data: ReportData) -> None:
    doc.add(
        Para(data.title, "title"),
        *(Para(m.title, "subtitle") for m in data.meetings),
        Para(data.created_text, "date"),
        PageBreak(),
    )


def _summary(doc: _Outline, data: ReportData) -> None:
    """1 実施の概要: attendance per meeting and session, and per 区分 when there are several."""
    doc.add(Heading(1, "1. 実施の概要"))
    people = sum(m.participants for m in data.meetings)
    doc.add(
        Para(
            f"本報告書は、{len(data.meetings)}件の情報交換会（各会に上半期・下半期の2回）の実施結果をまとめたものです。"
            f"名簿の参加者は合計{people:,}人です。"
        )
    )
    doc.table(
        "開催回ごとの出席状況",
        ("情報交換会", "区分", "開催回", *COUNT_HEADER),
        [(r.meeting, r.category, r.half_label, *_count_cells(r.count)) for r in data.summary],
        (3.4, 1.2, 1.2, 1.2, 0.9, 0.9, 1.2, 1.4, 1.8),
    )
    doc.figure(
        charts.attendance_figure(
            "開催回ごとの名簿の人数と出席者数", [(f"{r.meeting}\n（{r.half_label}）", r.count) for r in data.summary]
        )
    )
    if len({r.category for r in data.by_category}) > 1:
        doc.table(
            "区分（都道府県・エリア）ごとの出席状況",
            ("区分", "開催回", *COUNT_HEADER),
            [(r.category, r.half_label, *_count_cells(r.count)) for r in data.by_category],
            (1.8, 1.4, 1.3, 1, 1, 1.3, 1.4, 1.8),
        )
        doc.figure(
            charts.attendance_figure(
                "区分ごとの名簿の人数と出席者数",
                [(f"{r.category}（{r.half_label}）", r.count) for r in data.by_category],
            )
        )


def _meeting_overview(doc: _Outline, number: str, meeting: MeetingReport) -> None:
    doc.add(Heading(2, f"{number} 開催の概要"))
    doc.table(
        f"{meeting.title}の概要",
        ("項目", "内容"),
        [
            ("種類", meeting.kind_label),
            ("区分", meeting.category),
            ("会議ツール", meeting.tool_label),
            ("会議URL（会議室）の数", f"{meeting.rooms:,}" if meeting.rooms else "登録なし"),
            ("名簿の参加者", f"{meeting.participants:,}人（{meeting.local_governments:,}団体）"),
            (
                "グループ",
                f"{len(meeting.groups):,}グループ"
                + (f"（グループ未定 {meeting.ungrouped:,}人）" if meeting.ungrouped else ""),
            ),
            ("グループ分けの承認", meeting.grouping_approved_on or "未承認"),
        ],
        (1, 3),
        align_numbers=False,
    )


def _session(doc: _Outline, number: str, meeting: MeetingReport, session: SessionReport) -> None:
    """Date, agenda, case presentations and attendance of one session."""
    doc.add(
        Heading(2, f"{number} {session.half_label}（{session.date_text}）"),
        Para(f"議題：{session.agenda or '（未記入）'}"),
        Heading(3, "事例発表"),
    )
    if session.presentations:
        doc.table(
            f"{session.half_label}の事例発表",
            ("順", "発表団体", "テーマ"),
            [(str(p.position), p.local_government, p.title) for p in session.presentations],
            (0.5, 2, 4),
        )
    else:
        doc.add(Para("事例発表の記録はありません。", "note"))
    doc.add(Heading(3, "出席状況"))
    if not session.recorded:
        doc.add(Para("この回の出欠はまだ記録されていません。", "note"))
    rows = [(c.label, *_count_cells(c)) for c in session.breakdown]
    rows.append(("合計", *_count_cells(session.total)))
    doc.table(
        f"{session.half_label}の出席状況（{session.breakdown_label}別）",
        (session.breakdown_label, *COUNT_HEADER),
        rows,
        (2.6, 1.3, 1, 1, 1.3, 1.4, 1.8),
        total=True,
    )
    if meeting.kind == MeetingKind.TOWN:
        t = session.total
        doc.add(
            Para(
                f"出席した{t.lg_attended:,}団体のうち、センター設置済は{t.lg_attended_with_center:,}団体、"
                f"未設置は{t.lg_attended_without_center:,}団体です。"
            )
        )
    doc.figure(
        charts.attendance_figure(
            f"{session.half_label}の名簿の人数と出席者数（{session.breakdown_label}別）",
            [(c.label, c) for c in session.breakdown],
        )
    )


def _group_composition(doc: _Outline, number: str, meeting: MeetingReport) -> None:
    doc.add(Heading(2, f"{number} グループ構成"))
    if not meeting.groups:
        doc.add(Para("グループはまだ作られていません。", "note"))
        return
    doc.add(
        Para(
            "参加者は名簿の参加者番号で示しています。人口は令和2年国勢調査、人口の比はグループ内で最も人口の多い団体と"
            "少ない団体の比です。"
        )
    )
    prefecture = meeting.kind == MeetingKind.PREFECTURE
    header = [
        "グループ",
        *(["担当区分"] if prefecture else []),
        "会議室",
        "団体（人口）：参加者番号",
        "人数",
        *([] if prefecture else ["設置済・未設置（団体数）"]),
        "人口の比",
        "出席（上半期・下半期）",
    ]
    rows = []
    for g in meeting.groups:
        members = (
            "\n".join(
                f"{m.local_government}（{f'{m.population:,}人' if m.population else '人口不明'}"
                f"{'' if prefecture else '・' + center_label(m.has_center)}）"
                f"：{'、'.join(m.participants)}"
                for m in g.members
            )
            or "（参加者なし）"
        )
        rows.append(
            (
                g.name,
                *([g.department or "–"] if prefecture else []),
                g.room or "–",
                members,
                f"{g.size:,}",
                *([] if prefecture else [f"{g.with_center}・{g.without_center}" + ("" if g.mixed else "（混在なし）")]),
                f"{g.population_ratio:.1f}倍" if g.population_ratio else "–",
                f"{g.attended_first}・{g.attended_second}",
            )
        )
    widths = (1.2, *([1.4] if prefecture else []), 1, 4.4, 0.7, *([] if prefecture else [1.5]), 0.9, 1.3)
    doc.table(f"{meeting.title}のグループ構成", header, rows, widths)
    unmixed = [g.name for g in meeting.groups if g.mixed is False]
    if unmixed:
        doc.add(
            Para(
                f"センター設置済と未設置の町村が混在しないグループ：{'、'.join(unmixed)}（名簿の構成上、すべての"
                "グループを混在させることはできませんでした）。",
                "note",
            )
        )


def _summaries(doc: _Outline, number: str, meeting: MeetingReport) -> None:
    """Each group's 協議の概要 (issue 16, item 7), in the Word file and the PDF alike: staff enter
    it for the report, names already replaced by participant numbers."""
    doc.add(Heading(2, f"{number} グループの協議の概要"))
    written = [g for g in meeting.groups if g.summary_first or g.summary_second]
    if not written:
        doc.add(Para("グループの協議の概要は記録されていません。", "note"))
        return
    doc.add(
        Para(
            "各グループのファシリテーターの記録をもとに、協議の内容をまとめたものです。参加者は参加者番号で示しています。"
        )
    )
    doc.table(
        f"{meeting.title}のグループの協議の概要",
        ("グループ", "上半期", "下半期"),
        [(g.name, g.summary_first or "（記録なし）", g.summary_second or "（記録なし）") for g in written],
        (1.2, 3, 3),
        align_numbers=False,
    )


def _goals(doc: _Outline, number: str, meeting: MeetingReport) -> None:
    doc.add(Heading(2, f"{number} 目標と進捗"))
    if not meeting.goals:
        doc.add(Para("目標と進捗の記録はありません。", "note"))
        return
    prefecture = meeting.kind == MeetingKind.PREFECTURE  # goals per prefecture and department
    doc.table(
        f"{meeting.title}の目標（上半期）と進捗（下半期）",
        ("団体", *(["部署"] if prefecture else []), "目標（上半期）", "進捗（下半期）"),
        [
            (
                g.local_government,
                *([g.department or NO_DEPARTMENT] if prefecture else []),
                g.goal or "（未記入）",
                g.progress or "（未記入）",
            )
            for g in meeting.goals
        ],
        (1.3, 1.4, 2.6, 2.6) if prefecture else (1.5, 3, 3),
    )


def _survey_results(doc: _Outline, number: str, meeting: MeetingReport) -> None:
    doc.add(Heading(2, f"{number} アンケート結果"))
    if not meeting.surveys:
        doc.add(Para("アンケートの回答は取り込まれていません。", "note"))
    for result in meeting.surveys:
        doc.add(Heading(3, f"{result.half_label}のアンケート（回答 {result.respondents:,}件）"))
        if result.local_governments:
            doc.add(Para(f"回答した団体：{result.local_governments:,}団体"))
        for q in result.questions:
            _question(doc, q)


def _question(doc: _Outline, q: QuestionResult) -> None:
    """A choice question as a table and a chart; free text in the Word file only."""
    doc.add(Para(f"問{q.number}　{q.text}（回答 {q.answered:,}件）", "question"))
    if q.kind == survey_file.CHOICE:
        if q.counts:
            doc.table(
                f"問{q.number}の回答",
                ("回答", "件数", "割合"),
                [(c.answer, f"{c.count:,}", _percent(c.share)) for c in q.counts],
                (4, 1, 1),
            )
            doc.figure(charts.survey_figure(f"問{q.number}の回答", q))
        else:
            doc.add(Para("回答はありません。", "note"))
    elif q.texts:
        doc.add(
            FreeText(
                q.texts,
                FREE_TEXT_NOTE,
                f"自由記述の回答 {len(q.texts):,}件は、Word 版の報告書に収録しています（個人情報の確認のため、PDF 版には載せていません）。",
            )
        )
    else:
        doc.add(Para("回答はありません。", "note"))
