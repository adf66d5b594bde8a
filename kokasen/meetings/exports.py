"""Files for the exchange meetings: the roster template, the Zoom and Webex breakout pre-assignment
CSVs, the group lists per room, the facilitator sheets, the second-half progress sheet and the
workbook of a proposed grouping (issue 5, items 2, 6, 7).

This module is the Django-free writer: pure functions over the small dataclasses below
(:class:`ExportMember`, :class:`ExportGroup`, :class:`ExportRoom`, :class:`GoalText`), so that the
``propose_groups`` command (a roster file, no meeting in the database) and the admin screens (a
saved meeting) write the same files. The rows of a saved meeting are read by
:mod:`kokasen.meetings.downloads`, the database adapter, which then calls these functions:

- ``roster_template(kind=None) -> bytes`` (XLSX)
- ``zoom_csv(groups) -> bytes``, ``webex_csv(groups) -> bytes``
- ``proposal_workbook(groups, notes, kind=) -> bytes`` (XLSX)
- ``rooms_workbook(rooms, title=, kind=) -> bytes`` (XLSX, one sheet per room)
- ``facilitator_workbook(room, goals, title=, kind=) -> bytes`` (XLSX)
- ``second_half_workbook(rooms, goals, title=, kind=) -> bytes`` (XLSX)

The CSV functions raise :class:`~kokasen.core.refusals.Refused` (Japanese reasons) instead of
writing a file the meeting tool would refuse or that would put somebody in two rooms: an address
twice, too many rooms or people.

Files
    Every cell goes through :mod:`kokasen.core.spreadsheets` (decision 0024): in the workbooks,
    text that a spreadsheet could take for a formula (= + - @ in half or full width, tab, CR, LF
    …) is a typed text cell with Excel's quote prefix, shown as typed; in the CSVs it gets a
    leading apostrophe (OWASP's CSV-injection advice), except e-mail addresses, which must stay
    valid (the roster refuses addresses starting with = + -, and :func:`zoom_csv` refuses any
    other). Workbooks: Japanese headers, column widths, the header row frozen, no formulas.

    CSVs are UTF-8 without BOM (Japanese room names need UTF-8; a BOM could become part of the first
    header name), CRLF line ends. Zoom: header exactly ``Pre-assign Room Name,Email Address``
    (Zoom support, "Pre-assigning meeting participants to breakout rooms", KB0061353: at most 100
    rooms and 1,000 participants). Webex: see :data:`WEBEX_HEADER` and
    docs/decisions/0013-meeting-rosters-and-exports.md for what could and could not be confirmed.
    One CSV is one meeting URL: with several rooms (URLs), export one per room.

Personal data (S2): e-mail addresses appear only in the tool CSVs, the proposal workbook and the
staff's group lists; facilitator sheets and the second-half sheet carry no addresses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kokasen.core import spreadsheets
from kokasen.core.refusals import Refused

from .centers import CENTER_NO, CENTER_YES, center_label
from .roles import ROLES
from .roster_file import PREFECTURE_ROSTER_HEADER, ROSTER_HEADER

ZOOM_HEADER = ("Pre-assign Room Name", "Email Address")
# Webex's own template could not be read (see the decision file): two columns, session name then
# address, as Webex's help describes the file. Kept in one place so it is a one-line change.
WEBEX_HEADER = ("Breakout Session Name", "Email Address")
ZOOM_MAX_ROOMS = 100
ZOOM_MAX_PARTICIPANTS = 1_000
WEBEX_MAX_SESSIONS = 100
TEMPLATE_ROWS = 1_000  # rows of the template prepared with formats and the drop-down list


@dataclass(frozen=True)
class ExportMember:
    number: int | None  # participant number (報告書では氏名の代わりにこの番号)
    code: str
    local_government: str  # 北海道札幌市
    department: str
    position: str
    name: str
    email: str
    has_center: bool | None = None
    population: int | None = None


@dataclass(frozen=True)
class ExportGroup:
    name: str  # what the meeting tool shows as the breakout room's name
    members: tuple[ExportMember, ...]
    department: str = ""
    mixed: bool | None = None  # town meetings: a town with a center and one without
    notes: tuple[str, ...] = ()  # rule violations and explanations, Japanese


UNASSIGNED_ROOM = "未割り当て"  # the room label of groups not (yet) in a room, as on the grouping screen


@dataclass(frozen=True)
class ExportRoom:
    """One meeting URL with its facilitator and groups. Groups without a room come as one
    ExportRoom named :data:`UNASSIGNED_ROOM`, with ``sheet_name`` for its sheet in the group lists."""

    name: str
    groups: tuple[ExportGroup, ...]
    url: str = ""
    facilitator_name: str = ""
    facilitator_email: str = ""
    sheet_name: str = ""  # the worksheet's name when it is not ``name``


@dataclass(frozen=True)
class GoalText:
    goal: str = ""  # 上半期
    progress: str = ""  # 下半期


# Goals are looked up by (団体コード, 部署): the department is "" at town meetings (one goal per
# town) and the member's department at prefecture meetings (each department sets its own).
GoalKey = tuple[str, str]


def _goal(goals: Mapping[GoalKey, GoalText], member: ExportMember, town: bool) -> GoalText:
    return goals.get((member.code, "" if town else member.department.strip()), GoalText())


# --- cells (kokasen.core.spreadsheets) ------------------------------------------------------------


def _table(ws, top: int, headers: Sequence[str], rows: Iterable[Sequence], widths: Sequence[int], wrap=()) -> int:
    """Write a header row at ``top`` and the rows under it; freeze the header; return the next row."""
    return spreadsheets.write_table(ws, top, headers, rows, widths=widths, wrap=wrap, thousands=True)


_preface = spreadsheets.write_preface
_save = spreadsheets.xlsx_bytes


_center_text = center_label


def _population_text(value: int | None) -> str:
    return "不明" if value is None else f"{value:,}"


# --- the roster template -------------------------------------------------------------------------


def roster_template(kind: str | None = None) -> bytes:
    """The XLSX the operator sends out: sheet 「名簿」 (first, with :data:`ROSTER_HEADER`, 団体コード
    formatted as text, a 設置済/未設置 drop-down on センター設置) and sheet 「記入方法」.
    ``kind="prefecture"`` adds 担当区分 beside the free 部署 (:data:`PREFECTURE_ROSTER_HEADER`), with
    the spec's 区分 as a drop-down list that refuses other values (prefecture meetings are grouped
    per 区分; a blank 区分 is suggested from the department's name and confirmed by staff)."""
    wb = spreadsheets.new_workbook()
    ws = wb.active
    ws.title = "名簿"
    last = TEMPLATE_ROWS + 1
    header = PREFECTURE_ROSTER_HEADER if kind == "prefecture" else ROSTER_HEADER
    widths = {"担当区分": 40, "部署": 28, "メールアドレス": 34}
    _table(ws, 1, header, [], tuple(widths.get(h, 12 if h == "団体コード" else 16) for h in header))
    for r in range(2, last + 1):
        ws.cell(row=r, column=1).number_format = "@"  # Excel keeps 011002 as typed
    ws.column_dimensions["A"].number_format = "@"

    # openpyxl is imported on first use (decision 0063: it stays out of the web workers).
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    def column(name: str) -> str:
        return get_column_letter(header.index(name) + 1)

    centers = DataValidation(
        type="list",
        formula1=f'"{CENTER_YES},{CENTER_NO}"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="センター設置",
        error=f"「{CENTER_YES}」か「{CENTER_NO}」を選んでください（わからない場合は空欄）。",
        showInputMessage=True,
        promptTitle="センター設置",
        prompt=f"「{CENTER_YES}」か「{CENTER_NO}」を選びます。",
    )
    centers.add(f"{column('センター設置')}2:{column('センター設置')}{last}")
    ws.add_data_validation(centers)
    codes = DataValidation(
        type="textLength",
        operator="equal",
        formula1="6",
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle="団体コード",
        error="団体コードは6桁です（例：011002）。このまま入力しますか？",
    )
    codes.add(f"A2:A{last}")
    ws.add_data_validation(codes)
    if kind == "prefecture":
        roles = DataValidation(
            type="list",
            formula1='"' + ",".join(ROLES) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="担当区分",
            error="担当区分は一覧から選んでください。どれにも当たらない場合は「その他」を選びます。",
            showInputMessage=True,
            promptTitle="担当区分",
            prompt="グループはこの区分ごとに作ります。一覧から選んでください。",
        )
        roles.add(f"{column('担当区分')}2:{column('担当区分')}{last}")
        ws.add_data_validation(roles)

    notes = wb.create_sheet("記入方法")
    lines = [
        ("この名簿について", "情報交換会に参加される方を、1人1行で「名簿」シートに記入してください。"),
        ("", "1行目の見出しは変えないでください（列の順番は入れ替えても読み取れます）。"),
        ("", "CSV で保存する場合は「CSV UTF-8」か「CSV（コンマ区切り）」のどちらでもかまいません。"),
        (
            "団体コード",
            "全国地方公共団体コード（6桁）。例：011002（北海道札幌市）。文字列の書式にしてあるので、先頭の 0 も消えません。",
        ),
        (
            "",
            "団体名で団体が1つに決まる場合は空欄でもかまいません。同じ名前の団体がある場合（例：府中市）は必ず入力してください。",
        ),
        (
            "団体名",
            "例：神奈川県横浜市、横浜市、東京都。団体コードを入力した場合は空欄でもかまいませんが、入力する場合は団体コードと合わせてください。",
        ),
        ("部署", "例：こども家庭課。都道府県の情報交換会では部署ごとにグループを作るため、必ず記入してください。"),
        ("役職", "例：課長、統括支援員。空欄でもかまいません。"),
        ("氏名", "必須です。"),
        (
            "メールアドレス",
            "必須です。1人につき1つ。ほかの方と同じアドレスは使えません。会議ツールの割り当てに使います。",
        ),
        ("センター設置", f"こども家庭センターの設置状況。「{CENTER_YES}」か「{CENTER_NO}」を選んでください。"),
        ("", "空欄の場合は、こども家庭庁のセンター設置状況の一覧の値を使います。同じ団体の方は同じ値にしてください。"),
        (
            "個人情報",
            "名簿は情報交換会の運営（グループ分け・ご案内）にだけ使い、報告書では氏名の代わりに番号を使います。",
        ),
    ]
    if kind == "prefecture":
        lines.insert(
            7,
            (
                "担当区分",
                "一覧から選んでください（" + "、".join(ROLES) + "）。グループは部署名ではなく、この区分ごとに作ります。"
                "空欄の場合は部署名から事務局が判断します。",
            ),
        )
    _table(notes, 1, ("項目", "説明"), lines, (16, 100), wrap=(1,))
    wb.active = 0
    return _save(wb)


# --- meeting tool CSVs ---------------------------------------------------------------------------


def _tool_csv(
    groups: Sequence[ExportGroup], header: tuple[str, str], tool: str, max_rooms: int, max_people: int | None
) -> bytes:
    reasons = []
    seen: dict[str, str] = {}
    rows = []
    named = [g for g in groups if g.members]
    if len(named) > max_rooms:
        reasons.append(
            f"グループが{len(named)}あり、{tool}で事前に割り当てられる{max_rooms}を超えています。"
            "会議室（URL）を分けて、会議室ごとに書き出してください。"
        )
    for group in named:
        if not group.name.strip():
            reasons.append("名前のないグループがあります。グループ名を付けてください。")
        for m in group.members:
            email = m.email.strip()
            key = email.lower()
            who = f"参加者{m.number}" if m.number is not None else email
            if not email:
                reasons.append(f"{who}（{m.local_government}）のメールアドレスがありません。")
                continue
            if spreadsheets.is_formula_like(email):
                reasons.append(f"{who}のメールアドレス「{email}」は先頭の文字のため書き出せません。直してください。")
                continue
            if key in seen:
                reasons.append(
                    f"メールアドレス「{email}」が「{seen[key]}」と「{group.name}」の両方にあります。1人は1つのグループにだけ入れてください。"
                    if seen[key] != group.name
                    else f"メールアドレス「{email}」が「{group.name}」に2回あります。"
                )
                continue
            seen[key] = group.name
            rows.append((group.name, email))
    if max_people is not None and len(rows) > max_people:
        reasons.append(
            f"参加者が{len(rows)}人いて、{tool}で事前に割り当てられる{max_people:,}人を超えています。"
            "会議室（URL）を分けて、会議室ごとに書き出してください。"
        )
    if not rows and not reasons:
        reasons.append("グループに入っている参加者がいません。先にグループ分けをしてください。")
    if reasons:
        raise Refused(*reasons)
    return spreadsheets.csv_bytes(header, rows, bom=False)  # no BOM: see the module's docstring


def zoom_csv(groups: Sequence[ExportGroup]) -> bytes:
    """Zoom's breakout-room pre-assignment CSV: ``Pre-assign Room Name,Email Address``, one row per
    participant, room name = group name. For a saved meeting: :func:`kokasen.meetings.downloads.zoom_csv`."""
    return _tool_csv(groups, ZOOM_HEADER, "Zoom", ZOOM_MAX_ROOMS, ZOOM_MAX_PARTICIPANTS)


def webex_csv(groups: Sequence[ExportGroup]) -> bytes:
    """Webex's breakout-session pre-assignment CSV (:data:`WEBEX_HEADER`), like :func:`zoom_csv`."""
    return _tool_csv(groups, WEBEX_HEADER, "Webex", WEBEX_MAX_SESSIONS, None)


# --- workbooks -----------------------------------------------------------------------------------

_MEMBER_HEADERS = (
    "グループ",
    "参加者番号",
    "団体コード",
    "団体名",
    "部署",
    "役職",
    "氏名",
    "メールアドレス",
    "人口",
    "センター設置",
)
_MEMBER_WIDTHS = (24, 11, 11, 20, 24, 16, 16, 32, 12, 12)


def _member_rows(groups: Iterable[ExportGroup], *, town: bool = True):
    """One row per person; the センター設置 column only for town meetings (prefectures have none)."""
    for g in groups:
        for m in g.members:
            row = (
                g.name,
                m.number,
                m.code,
                m.local_government,
                m.department,
                m.position,
                m.name,
                m.email,
                m.population if m.population is not None else "不明",
            )
            yield row + (_center_text(m.has_center),) if town else row


def _member_table(ws, top: int, groups: Iterable[ExportGroup], *, town: bool) -> int:
    width = len(_MEMBER_HEADERS) - (0 if town else 1)
    return _table(ws, top, _MEMBER_HEADERS[:width], _member_rows(groups, town=town), _MEMBER_WIDTHS[:width])


def _units(group: ExportGroup, *, by_department: bool | None = None) -> list[tuple[ExportMember, int]]:
    """(first member, people) per local government (and department: ``by_department``, by
    default when the group has one) in the group, in order."""
    if by_department is None:
        by_department = bool(group.department)
    units: dict[tuple[str, str], list] = {}
    for m in group.members:
        entry = units.setdefault((m.code, m.department.strip() if by_department else ""), [m, 0])
        entry[1] += 1
    return [(m, n) for m, n in units.values()]


def proposal_workbook(groups: Sequence[ExportGroup], notes: Sequence[str], *, kind: str = "town") -> bytes:
    """A proposed grouping: 「グループ一覧」 (one row per group: people, local governments,
    population, centers, mixing, rule violations and notes), 「メンバー」 (one row per person) and
    「全体の説明」 (``notes``: the summary and the engine's notes for the whole grouping)."""
    town = kind == "town"
    wb = spreadsheets.new_workbook()
    ws = wb.active
    ws.title = "グループ一覧"
    headers = ["グループ", "部署", "人数", "団体数", "団体（人口の少ない順）", "人口（最小〜最大）", "人口の差（倍）"]
    widths = [24, 24, 7, 7, 44, 22, 10]
    if town:
        headers += ["設置済の団体", "未設置の団体", "混在"]
        widths += [30, 30, 7]
    headers.append("注意・ルール違反")
    widths.append(70)
    rows = []
    for g in groups:
        units = _units(g)
        pops = [m.population for m, _ in units if m.population]
        names = "、".join(f"{m.local_government}（{n}人）" for m, n in units)
        spread = f"{_population_text(min(pops))}〜{_population_text(max(pops))}" if pops else "不明"
        ratio = round(max(pops) / min(pops), 1) if len(pops) > 1 else "—"
        row = [g.name, g.department or "—", len(g.members), len({m.code for m, _ in units}), names, spread, ratio]
        if town:
            row += [
                "、".join(m.local_government for m, _ in units if m.has_center is True) or "なし",
                "、".join(m.local_government for m, _ in units if m.has_center is False) or "なし",
                "○" if g.mixed else "×" if g.mixed is False else "—",
            ]
        row.append("\n".join(g.notes) or "なし")
        rows.append(row)
    wrap = {4, len(headers) - 1} | ({7, 8} if town else set())
    _table(ws, 1, headers, rows, widths, wrap=wrap)
    _member_table(wb.create_sheet("メンバー"), 1, groups, town=town)
    _table(wb.create_sheet("全体の説明"), 1, ("内容",), [(n,) for n in notes], (120,), wrap={0})
    return _save(wb)


def rooms_workbook(rooms: Sequence[ExportRoom], *, title: str = "", kind: str = "town") -> bytes:
    """Group lists per room (URL): one sheet per room, with the URL and the facilitator on top,
    then every group's members (staff use: addresses included; センター設置 for town meetings)."""
    wb = spreadsheets.new_workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for room in rooms or [ExportRoom(UNASSIGNED_ROOM, (), sheet_name="グループ一覧")]:
        ws = wb.create_sheet(spreadsheets.sheet_title(room.sheet_name or room.name, used))
        facilitator = room.facilitator_name + (f"（{room.facilitator_email}）" if room.facilitator_email else "")
        top = _preface(
            ws,
            [
                ("情報交換会", title),
                ("会議室", room.name),
                ("会議URL", room.url or "未設定"),
                ("ファシリテーター", facilitator or "未設定"),
                ("グループ数・人数", f"{len(room.groups)}グループ、{sum(len(g.members) for g in room.groups)}人"),
            ],
        )
        _member_table(ws, top, room.groups, town=kind == "town")
    return _save(wb)


def facilitator_workbook(
    room: ExportRoom, goals: Mapping[GoalKey, GoalText], *, title: str = "", kind: str = "town"
) -> bytes:
    """One facilitator's sheet: 「メンバー」 (their groups' people: local government, population,
    center (town meetings); no addresses) and 「上半期の目標」 (each local government's goal per
    group; at prefecture meetings one row and goal per prefecture and department)."""
    town = kind == "town"
    wb = spreadsheets.new_workbook()
    ws = wb.active
    ws.title = "メンバー"
    lines = [
        ("情報交換会", title),
        ("会議室", room.name),
        ("会議URL", room.url or "未設定"),
        ("ファシリテーター", room.facilitator_name or "未設定"),
    ]
    top = _preface(ws, lines)
    members = (
        (
            g.name,
            m.number,
            m.local_government,
            m.population if m.population is not None else "不明",
            *((_center_text(m.has_center),) if town else ()),
            m.department,
            m.position,
            m.name,
        )
        for g in room.groups
        for m in g.members
    )
    _table(
        ws,
        top,
        ("グループ", "参加者番号", "団体名", "人口", *(("センター設置",) if town else ()), "部署", "役職", "氏名"),
        members,
        (24, 11, 20, 12, *((12,) if town else ()), 24, 16, 16),
    )
    ws2 = wb.create_sheet("上半期の目標")
    top = _preface(ws2, lines[:2])
    rows = (
        (
            g.name,
            m.local_government,
            n,
            m.population if m.population is not None else "不明",
            _center_text(m.has_center) if town else m.department,
            _goal(goals, m, town).goal or "（未記入）",
        )
        for g in room.groups
        for m, n in _units(g, by_department=not town)
    )
    _table(
        ws2,
        top,
        ("グループ", "団体名", "人数", "人口", "センター設置" if town else "部署", "上半期の目標"),
        rows,
        (24, 20, 7, 12, 12 if town else 24, 80),
        wrap={5},
    )
    return _save(wb)


def second_half_workbook(
    rooms: Sequence[ExportRoom], goals: Mapping[GoalKey, GoalText], *, title: str = "", kind: str = "town"
) -> bytes:
    """下半期: per group, each local government's 上半期 goal beside its progress (empty until
    recorded), for the second-half discussion. The fifth column is センター設置 at town meetings,
    部署 at prefecture meetings, where each prefecture and department has its own row and goal."""
    town = kind == "town"
    wb = spreadsheets.new_workbook()
    ws = wb.active
    ws.title = "下半期の進捗確認"
    top = _preface(ws, [("情報交換会", title), ("使い方", "上半期に立てた目標の横に、下半期までの進捗を記入します。")])
    rows = (
        (
            room.name,
            g.name,
            m.local_government,
            m.population if m.population is not None else "不明",
            _center_text(m.has_center) if town else m.department,
            _goal(goals, m, town).goal or "（未記入）",
            _goal(goals, m, town).progress,
        )
        for room in rooms
        for g in room.groups
        for m, _ in _units(g, by_department=not town)
    )
    _table(
        ws,
        top,
        ("会議室", "グループ", "団体名", "人口", "センター設置" if town else "部署", "上半期の目標", "進捗（下半期）"),
        rows,
        (14, 24, 20, 12, 12 if town else 24, 60, 60),
        wrap={5, 6},
    )
    return _save(wb)
