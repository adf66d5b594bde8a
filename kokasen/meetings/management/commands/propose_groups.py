"""``manage.py propose_groups ROSTER --meeting-kind prefecture|town --out groups.xlsx
[--zoom-csv FILE] [--min-size 5 --max-size 7]``: a grouping proposal straight from a roster file.

The roster is read and checked like an import (``kokasen/meetings/roster_file.py``; nothing is saved),
populations come from the master data (LocalGovernment), blank センター設置 from the agency's list
(CenterStatus). Participants are numbered as ``roster_import`` would number them. The engine is
``kokasen.meetings.grouping.propose_groups``. Group names: 「グループ1」…, and for prefecture
meetings 「グループ1（母子保健担当）」 (the names the admin's grouping gives); prefecture meetings are
grouped per 担当区分, the roster's or a department named as one (decision 0037). On any problem the
Japanese reasons go to stderr, the exit status is 1 and no file is written.
"""

import os
import tempfile
from dataclasses import replace
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kokasen.core import refusals
from kokasen.core.refusals import Refused
from kokasen.localgov.models import LocalGovernment
from kokasen.meetings import exports, grouping, roster_file
from kokasen.meetings.roles import role_of
from kokasen.meetings.services import roster as service

TARGET_SIZE = 6  # the spec's 「６名程度」
NOTHING_WRITTEN = "ファイルは書き出していません。"


def group_name(number: int, department: str = "") -> str:
    name = f"グループ{number}"
    if department:
        name += f"（{department}）"
    return name[:60]


def _with_roles(rows):
    """Prefecture rosters are grouped per 担当区分: the file's, or a department named as a 区分.
    There is no confirmation step here (the admin's import suggests and staff confirm), so any
    other blank 区分 refuses the roster."""
    rows = [replace(r, role=r.role or role_of(r.department) or "") for r in rows]
    unknown = sorted({(r.name, r.department) for r in rows if not r.role})
    if unknown:
        shown = "、".join(f"{name}「{department}」" for name, department in unknown[:10])
        raise CommandError(
            f"担当区分が分からない部署が{len(unknown)}件あります（{shown}{'ほか' if len(unknown) > 10 else ''}）。"
            "名簿の担当区分欄に記入してください（管理画面で取り込む場合は、部署名から提案した区分を確認できます）。"
            + NOTHING_WRITTEN
        )
    return rows


class Command(BaseCommand):
    help = (
        "Propose groups for an exchange meeting from a roster file (XLSX or CSV with the header "
        "団体コード,団体名,部署,役職,氏名,メールアドレス,センター設置 in any order, 担当区分 optional) and write them to an XLSX file "
        "(and optionally Zoom's breakout pre-assignment CSV). Nothing is saved in the database."
    )

    def add_arguments(self, parser):
        parser.add_argument("roster", type=Path, help="roster file (.xlsx or .csv)")
        parser.add_argument("--meeting-kind", required=True, choices=("prefecture", "town"))
        parser.add_argument("--out", required=True, type=Path, help="groups workbook to write (.xlsx)")
        parser.add_argument("--zoom-csv", type=Path, help="also write Zoom's breakout pre-assignment CSV")
        parser.add_argument("--min-size", type=int, default=5)
        parser.add_argument("--max-size", type=int, default=7)
        parser.add_argument(
            "--max-population-ratio",
            type=float,
            default=3.0,
            help="flag groups whose largest population exceeds this many times the smallest",
        )
        parser.add_argument("--area", choices=("east", "west"), help="town meetings: refuse towns of the other area")

    def handle(
        self,
        *args,
        roster,
        meeting_kind,
        out,
        zoom_csv=None,
        min_size=5,
        max_size=7,
        max_population_ratio=3.0,
        area=None,
        **options,
    ):
        try:
            data = roster.read_bytes()
        except OSError as exc:
            raise CommandError(f"名簿ファイル {roster} を読めません（{exc.strerror}）。") from None
        for target in (out, zoom_csv):
            if target is not None and not target.parent.is_dir():
                raise CommandError(f"書き出し先のフォルダ {target.parent} がありません。")

        result, _ = service.roster_read(data=data, filename=roster.name, kind=meeting_kind, area=area)
        if not result.ok:
            summary = f"{roster.name}：名簿に問題が {len(result.errors)} 件あります。グループ分けをしていません。"
            raise refusals.command_error(self, Refused(*result.errors), summary + NOTHING_WRITTEN)
        rows = sorted(result.rows, key=roster_file.participant_order)
        prefecture = meeting_kind == "prefecture"
        if prefecture:
            rows = _with_roles(rows)
        numbered = dict(enumerate(rows, start=1))
        population = dict(
            LocalGovernment.objects.filter(code__in={r.code for r in rows}).values_list("code", "population")
        )
        people = [
            grouping.Participant(
                id=number,
                code=r.code,
                name=r.name,
                department=r.role if prefecture else "",
                has_center=None if prefecture else r.has_center,
                population=population.get(r.code),
            )
            for number, r in numbered.items()
        ]
        params = grouping.GroupingParams(
            kind=meeting_kind,
            min_size=min_size,
            max_size=max_size,
            target_size=TARGET_SIZE if min_size <= TARGET_SIZE <= max_size else None,
            max_population_ratio=max_population_ratio,
        )
        try:
            proposal = grouping.propose_groups(people, params)
        except Refused as refused:
            summary = f"{roster.name}：この名簿ではグループ分けができません。"
            raise refusals.command_error(self, refused, summary + NOTHING_WRITTEN) from None

        groups = []
        for report in proposal.reports:
            members = []
            for pid in report.participant_ids:
                r = numbered[pid]
                members.append(
                    exports.ExportMember(
                        number=pid,
                        code=r.code,
                        local_government=r.name,
                        department=r.department,
                        position=r.position,
                        name=r.person_name,
                        email=r.email,
                        has_center=None if prefecture else r.has_center,
                        population=population.get(r.code),
                    )
                )
            groups.append(
                exports.ExportGroup(
                    name=group_name(report.number, report.department if prefecture else ""),
                    members=tuple(members),
                    department=report.department if prefecture else "",
                    mixed=report.mixed,
                    notes=tuple(v.message for v in report.violations) + tuple(report.notes),
                )
            )
        summary = self._summary(proposal, rows, prefecture, params)
        workbook = exports.proposal_workbook(groups, summary + proposal.notes, kind=meeting_kind)
        csv_data = None
        if zoom_csv is not None:
            try:
                csv_data = exports.zoom_csv(groups)
            except Refused as refused:
                raise refusals.command_error(
                    self, refused, "Zoom の割り当て CSV を作れません。" + NOTHING_WRITTEN
                ) from None
        written = self._write([(out, workbook), *([(zoom_csv, csv_data)] if csv_data is not None else [])])
        for line in summary:
            self.stdout.write(line)
        self.stdout.write("書き出しました：" + "、".join(str(p) for p in written))

    def _summary(self, proposal, rows, prefecture, params) -> list[str]:
        lines = [
            f"{len(proposal.reports)}グループに分けました（参加者{len(rows)}人、{len({r.code for r in rows})}団体、"
            f"1グループ{params.min_size}〜{params.max_size}人）。"
        ]
        if prefecture:
            roles = sorted({r.role for r in rows})
            lines.append(f"担当区分ごとに分けています（{len(roles)}区分：" + "、".join(roles) + "）。")
        else:
            state = (
                "この名簿で混在させられる最大数に達しています"
                if proposal.mixed_maximum_proven
                else "最大に達しているかは確認できていません"
            )
            lines.append(
                f"センター設置済と未設置の町村が混在するグループ：{proposal.mixed_groups}／{len(proposal.reports)}"
                f"（混在させられる最大は{proposal.mixed_upper_bound}グループ。{state}）。"
            )
        lines.append(
            f"人口の近さの指標（各グループの最大人口÷最小人口の自然対数の合計。小さいほど近い）：{proposal.objective:.3f}"
        )
        count = len(proposal.violations)
        lines.append(
            f"ルールに合わない点：{count}件"
            + ("（「グループ一覧」の「注意・ルール違反」列を見てください）。" if count else "。")
        )
        return lines

    def _write(self, files):
        """Write every file or none: each goes to a temporary file next to it, then all are renamed."""
        staged = []
        try:
            for path, data in files:
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
                staged.append((tmp, path))
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
            for tmp, path in staged:
                os.replace(tmp, path)
        except OSError as exc:
            for tmp, _ in staged:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            raise CommandError(f"ファイルを書き出せません（{exc.strerror}）。") from None
        return [path for _, path in staged]
