"""Read and validate a meeting roster (参加者名簿) and the agency's center list (センター設置状況).

Pure Python, no Django, like ``kokasen/accounts/address_list.py``, whose reading helpers it reuses
(file size, XLSX or CSV in UTF-8 / UTF-8 with BOM / CP932 detected, zip-bomb guard, the check digit
and the 5-digit / dropped-leading-zero readings of 団体コード, e-mail syntax). The callers
(``services/roster.py``, the ``propose_groups`` command, the admin screens through the service)
pass the master data in as a mapping ``code -> KnownGovernment`` and decide what to do with the
result; nothing here touches the database.

Roster (:func:`parse_roster`)
    Columns are found by their header names in any order (issue 16): ``団体コード,団体名,部署,役職,
    氏名,メールアドレス,センター設置`` (:data:`ROSTER_HEADER`) are required, ``担当区分`` optional
    (spaces and full-width/half-width differences are ignored; 部署名 and 所属 are read as 部署,
    :data:`HEADER_ALIASES`). A missing required column or a column named twice refuses the file,
    naming it; a column the roster does not use is a notice (``RosterResult.notices``) and is not
    read; a value under a blank header is refused. One row per person, as :class:`RosterRow`.
    担当区分 (prefecture meetings): one of ``roles.ROLES`` or blank; blank is suggested from the
    department's name and confirmed by staff (services/roles.py).

    * 団体コード may be blank when 団体名 names exactly one local government: 「横浜市」 and
      「神奈川県横浜市」 both give 141003; 「府中市」 (東京都 and 広島県) is refused and asks for the
      code or the prefecture. With a code, 団体名 may be blank; if given it must match.
    * センター設置 is 設置済 (設置済み is accepted too) or 未設置; blank leaves ``has_center`` None
      (the service fills it from the agency's list, :func:`fill_centers`). Two rows of one local
      government with different answers are refused.
    * One e-mail address per person; every address at most once in the file (compared without
      regard to case: Zoom and Webex match addresses that way). Addresses starting with = + - are
      refused, so that the address column of the Zoom/Webex CSVs can be written as it is.
    * ``kind="town"``: only towns and villages (the spec, 第３-４, speaks of 町村 staff only; cities
      are refused with the reason). ``kind="prefecture"``: only prefectures, and 部署 is required
      (groups are formed per department). ``area``: town meetings are per area (東日本 / 西日本).
    * 部署 is NFKC-normalised and its spaces removed, because it is what prefecture groups are
      formed by (「母子保健 担当」 and 「母子保健担当」 are one department). Names are kept as typed.

Center list (:func:`parse_center_list`)
    Columns ``団体コード,団体名,センター設置`` (:data:`CENTER_LIST_HEADER`) by name, in any order, one row per
    municipality (市区町村; prefectures are refused), センター設置 required (設置済 / 未設置); the
    same code / name rules as the roster. A municipality not in the list has no known status.

Every problem is a :class:`~kokasen.core.refusals.Problem` with the row number a
spreadsheet shows (the header is row 1) and a Japanese message. File problems (size, encoding,
unreadable, header, too many rows, no data) stop the reading; row problems are all collected.
A result with any error has no rows: importing is all or nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from kokasen.core.addresses import address_problem, split_addresses
from kokasen.core.refusals import Problem, Refused
from kokasen.core.tables import MAX_FILE_BYTES, cell_text, file_error, open_table, squash
from kokasen.localgov.codes import name_matches, resolve_code

from .centers import CENTER_NO, CENTER_YES  # one spelling (centers.py); roster_file re-exports them
from .roles import ROLES, role_of

ROSTER_HEADER = ("団体コード", "団体名", "部署", "役職", "氏名", "メールアドレス", "センター設置")
CENTER_LIST_HEADER = ("団体コード", "団体名", "センター設置")
COL_CODE, COL_NAME, COL_DEPARTMENT, COL_POSITION, COL_PERSON, COL_EMAIL, COL_CENTER = ROSTER_HEADER
COL_ROLE = "担当区分"  # optional; prefecture meetings group per 区分 (roles.py)
ROSTER_OPTIONAL = (COL_ROLE,)
# The prefecture template's columns: 担当区分 beside the free 部署.
PREFECTURE_ROSTER_HEADER = ROSTER_HEADER[:3] + (COL_ROLE,) + ROSTER_HEADER[3:]

_CENTER_VALUES = {"設置済": True, "設置済み": True, "未設置": False}

MAX_ROSTER_ROWS = 5_000  # every town and village of Japan (926) × 4 people is about 3,700
MAX_CENTER_ROWS = 3_000  # 1,741 municipalities
MAX_TEXT = 100  # 部署, 役職, 氏名: the model fields' length
MAX_CELL_CHARS = 1_000

KIND_PREFECTURE, KIND_TOWN = "prefecture", "town"
_KIND_LABELS = {
    "prefecture": "都道府県",
    "designated_city": "政令指定都市",
    "city": "市",
    "special_ward": "特別区",
    "town": "町",
    "village": "村",
}
_AREA_LABELS = {"east": "東日本", "west": "西日本"}
_FORMULA_START = ("=", "+", "-")


@dataclass(frozen=True)
class KnownGovernment:
    """One local government of the master data, as the caller passes it in."""

    code: str
    name: str  # 札幌市; a prefecture's name is the prefecture (北海道)
    prefecture: str
    kind: str  # prefecture | designated_city | city | special_ward | town | village
    area: str = ""  # east | west
    population: int | None = None

    @property
    def label(self) -> str:
        """「北海道札幌市」, 「東京都」: unambiguous, as LocalGovernment.__str__ writes it."""
        return self.name if self.kind == "prefecture" else f"{self.prefecture}{self.name}"


@dataclass(frozen=True)
class RosterRow:
    row_number: int  # spreadsheet row (the header is row 1)
    code: str  # 6-digit 全国地方公共団体コード
    name: str  # the local government's label from the master data (神奈川県横浜市), not the cell
    department: str
    position: str
    person_name: str
    email: str  # the domain lower-cased
    has_center: bool | None  # None: blank in the file
    role: str = ""  # 担当区分 (roles.ROLES) as the file gives it; "" when blank or not a prefecture meeting


@dataclass
class RosterResult:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)  # columns not read (the import goes on)
    encoding: str = ""  # "utf-8", "utf-8-sig", "cp932", "xlsx"

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class CenterEntry:
    row_number: int
    code: str
    name: str
    has_center: bool


@dataclass
class CenterListResult:
    entries: list[CenterEntry] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)
    encoding: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


Governments = Mapping[str, KnownGovernment]


# --- reading the table ---------------------------------------------------------------------------

# Header spellings taken for a column (compared after ``squash``): people rename columns too.
HEADER_ALIASES = {"部署名": "部署", "所属": "部署", "メール": "メールアドレス", "区分": "担当区分"}


@dataclass
class _Table:
    """A file's columns found by their header names (0-based index per column name), the problems
    of unnamed columns that hold values, and notices for columns the reader does not use."""

    encoding: str
    columns: dict[str, int]
    notices: list[Problem]
    unnamed: list[int]  # columns with a blank header (their values are refused)
    width: int  # header cells up to the last non-blank one (values further right are refused)
    rows: Iterator[tuple[int, dict[str, str], dict[str, object], list[str]]]


def _read_table(
    data: bytes,
    filename: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    max_rows: int,
    what: str,
) -> _Table:
    """Check size and header; the columns are found by their header names in any order. A missing
    required column or a name used twice refuses the file; a column the reader does not know is a
    notice. Rows come back as (row number, texts by column name, raw values by column name, the
    row's texts). Raises Refused for the whole file."""
    if len(data) > MAX_FILE_BYTES:
        raise file_error(
            f"ファイルが大きすぎます（{len(data) / 1024 / 1024:.1f} MB）。"
            f"{MAX_FILE_BYTES // 1024 // 1024} MB 以下にしてください。"
        )
    if not data.strip():
        raise file_error("ファイルが空です。")
    encoding, rows = open_table(data, filename)
    rows = iter(rows)
    header_row = next(rows, None)
    if header_row is None:
        raise file_error("ファイルが空です。")
    header = [cell_text(v) for v in header_row]
    while header and not header[-1]:
        header.pop()  # trailing empty header cells (formatted but empty columns)
    columns, notices, unnamed = _header_columns(header, required, optional, what)
    names = list(required) + list(optional)

    def data_rows():
        count = 0
        for row, values in enumerate(rows, start=2):
            texts = [cell_text(v) for v in values]
            if not any(texts):
                continue  # blank rows, Excel's trailing ones included
            count += 1
            if count > max_rows:
                raise file_error(f"データが {max_rows:,} 行を超えています。ファイルを分けてください。")
            cells = {c: (texts[columns[c]] if c in columns and columns[c] < len(texts) else "") for c in names}
            raw = {c: (values[columns[c]] if c in columns and columns[c] < len(values) else None) for c in names}
            yield row, cells, raw, texts
        if count == 0:
            raise file_error("2行目以降にデータがありません。")

    return _Table(encoding, columns, notices, unnamed, len(header), data_rows())


def _header_columns(
    found: list[str], required: tuple[str, ...], optional: tuple[str, ...], what: str
) -> tuple[dict[str, int], list[Problem], list[int]]:
    """(column name -> index, notices for unknown columns, indexes of blank headers) or Refused."""
    known = set(required) | set(optional)
    columns: dict[str, int] = {}
    problems, notices, unnamed = [], [], []
    for i, text in enumerate(found):
        key = squash(text)
        key = HEADER_ALIASES.get(key, key) if key not in known else key
        if not key:
            unnamed.append(i)
        elif key in known:
            if key in columns:
                problems.append(
                    Problem(
                        1,
                        None,
                        f"列「{key}」が{columns[key] + 1}列目と{i + 1}列目の2つあります。1つにしてください。",
                    )
                )
            else:
                columns[key] = i
        else:
            notices.append(
                Problem(1, f"{i + 1}列目", f"「{text}」は{what}の様式にない列のため、読み込みませんでした。")
            )
    missing = [c for c in required if c not in columns]
    if missing:
        problems.append(
            Problem(
                1,
                None,
                "必要な列がありません："
                + "、".join(f"「{c}」" for c in missing)
                + f"。1行目の見出しに入れてください（{what}の様式のファイルを使うと確実です。列の順番は自由です）。",
            )
        )
    if problems:
        raise Refused(*problems)
    return columns, notices, unnamed


# --- local governments ---------------------------------------------------------------------------


class _Directory:
    """Name and code look-ups over the caller's master data."""

    def __init__(self, governments: Governments):
        self.governments = governments
        self.known = {code: g.name for code, g in governments.items()}
        self.prefecture_of = {code: g.prefecture for code, g in governments.items()}
        self.by_name: dict[str, list[str]] = {}
        for code, g in sorted(governments.items()):
            keys = {squash(g.name), squash(g.label), squash(g.prefecture + g.name)}
            for key in keys:
                self.by_name.setdefault(key, []).append(code)

    def resolve(self, code_value: object, name: str) -> tuple[str | None, Problem | None]:
        """(code, None) or (None, problem) for one row's 団体コード and 団体名 cells (row unset)."""
        code_text = unicodedata.normalize("NFKC", cell_text(code_value))
        if not code_text:
            if not name:
                return None, Problem(0, COL_CODE, "団体コードと団体名がどちらもありません。")
            hits = self.by_name.get(squash(name), [])
            if len(hits) == 1:
                return hits[0], None
            if not hits:
                return None, Problem(
                    0,
                    COL_NAME,
                    f"団体名「{name}」に当たる地方公共団体が見つかりません。"
                    "正式な名称（例：神奈川県横浜市）で入力するか、団体コードを入力してください。",
                )
            candidates = "、".join(f"団体コード {c} の{self.governments[c].label}" for c in hits)
            example = self.governments[hits[0]].label
            return None, Problem(
                0,
                COL_NAME,
                f"団体名「{name}」に当たる団体が複数あります（{candidates}）。"
                f"団体コードを入力するか、都道府県名から入力してください（例：{example}）。",
            )
        code, message = resolve_code(code_value, name, self.known, self.prefecture_of)
        if message:
            return None, Problem(0, COL_CODE, message)
        if name and not name_matches(name, code, self.known, self.prefecture_of):
            return None, Problem(
                0,
                COL_NAME,
                f"団体コード {code} は「{self.governments[code].label}」ですが、団体名が「{name}」になっています。"
                "どちらかを直してください。",
            )
        return code, None


def _center(text: str) -> tuple[bool | None, str | None]:
    if not text:
        return None, None
    value = _CENTER_VALUES.get(squash(text))
    if value is None:
        return None, f"センター設置は「{CENTER_YES}」か「{CENTER_NO}」で入力してください（「{text}」になっています）。"
    return value, None


def _center_label(value: bool | None) -> str:
    return "空欄" if value is None else CENTER_YES if value else CENTER_NO


def _department(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _email(text: str) -> tuple[str | None, str | None]:
    """(normalised address, None) or (None, Japanese reason)."""
    tokens = split_addresses(text)
    if not tokens:
        return None, "メールアドレスがありません。"
    if len(tokens) > 1:
        return (
            None,
            "メールアドレスは1人につき1つだけ入力してください。複数の方が参加する場合は、1人1行にしてください。",
        )
    address = tokens[0]
    reason = address_problem(address)
    if reason:
        return None, f"メールアドレス「{address}」の形式が正しくありません。{reason}"
    if address.startswith(_FORMULA_START):
        return None, f"メールアドレス「{address}」の先頭に「=」「+」「-」は使えません。"
    local, domain = address.split("@")
    return f"{local}@{domain.lower()}", None


# --- the roster ----------------------------------------------------------------------------------


def parse_roster(
    data: bytes,
    filename: str,
    *,
    governments: Governments,
    kind: str | None = None,
    area: str | None = None,
) -> RosterResult:
    """Read a roster file; ``kind`` ("town" / "prefecture") and ``area`` ("east" / "west") add the
    meeting's rules (see the module docstring). Nothing is returned in ``rows`` if anything is wrong."""
    encoding = ""
    try:
        table = _read_table(data, filename, ROSTER_HEADER, ROSTER_OPTIONAL, MAX_ROSTER_ROWS, "名簿")
        encoding = table.encoding
        directory = _Directory(governments)
        result = RosterResult(encoding=encoding, notices=list(table.notices))
        if COL_ROLE in table.columns and kind == KIND_TOWN:
            result.notices.append(
                Problem(
                    1,
                    COL_ROLE,
                    "町村職員の情報交換会では担当区分を使わないため、「担当区分」の列は読み込みませんでした。",
                )
            )
        email_rows: dict[str, int] = {}
        center_rows: dict[str, tuple[bool, int]] = {}
        for row, cells, raw, texts in table.rows:
            found, parsed = _check_roster_row(
                row, cells, raw, _unnamed_values(row, texts, table), directory, kind, area, email_rows, center_rows
            )
            result.errors.extend(found)
            if parsed is not None:
                result.rows.append(parsed)
        if result.errors:
            result.rows = []
        return result
    except Refused as exc:  # the whole file
        return RosterResult(errors=exc.problems, encoding=encoding)


def _at(row: int, problem: Problem) -> Problem:
    return Problem(row, problem.column, problem.message)


def _check_roster_row(row, cells, raw, unnamed, directory, kind, area, email_rows, center_rows):
    """(problems, None) or ([], the RosterRow) for one data row; ``email_rows`` and ``center_rows``
    remember earlier rows' addresses and center answers."""
    problems = list(unnamed)
    too_long, found = _too_long(row, cells)
    problems += found
    code = government = None
    if not too_long & {COL_CODE, COL_NAME}:
        code, government, found = _row_government(row, cells, raw[COL_CODE], directory, kind, area)
        problems += found
    role = ""
    if kind != KIND_TOWN and cells[COL_ROLE] and COL_ROLE not in too_long:
        role = role_of(cells[COL_ROLE]) or ""
        if not role:
            problems.append(
                Problem(
                    row,
                    COL_ROLE,
                    f"担当区分「{cells[COL_ROLE]}」は選べる区分にありません。"
                    + "「"
                    + "」「".join(ROLES)
                    + "」のどれかを選ぶか、空欄にしてください（空欄の場合は部署名から区分を提案し、事務局が確認します）。",
                )
            )
    department = _department(cells[COL_DEPARTMENT])
    if COL_DEPARTMENT not in too_long:
        problems += _department_problems(row, department, kind)
    if not cells[COL_PERSON]:
        problems.append(Problem(row, COL_PERSON, "氏名がありません。"))
    email = has_center = None
    if COL_EMAIL not in too_long:
        email, found = _row_email(row, cells[COL_EMAIL], email_rows)
        problems += found
    if COL_CENTER not in too_long:
        has_center, found = _row_center(row, cells[COL_CENTER], code, government, center_rows)
        problems += found
    if problems:
        return problems, None
    return [], RosterRow(
        row_number=row,
        code=code,
        name=government.label,
        department=department,
        position=cells[COL_POSITION],
        person_name=cells[COL_PERSON],
        email=email,
        has_center=has_center,
        role=role,
    )


def _unnamed_values(row: int, texts: list[str], table: _Table) -> list[Problem]:
    """A problem for each value in a column without a header (blank, or right of the header)."""
    return [
        Problem(row, f"{i + 1}列目", "見出しのない列に値があります。値を消すか、列を削除してください。")
        for i, text in enumerate(texts)
        if text and (i >= table.width or i in table.unnamed)
    ]


def _too_long(row: int, cells: dict[str, str]) -> tuple[set[str], list[Problem]]:
    """The roster columns whose text is too long, and a problem for each."""
    too_long, problems = set(), []
    for column, text in cells.items():
        limit = MAX_TEXT if column in (COL_DEPARTMENT, COL_POSITION, COL_PERSON) else MAX_CELL_CHARS
        if len(text) > limit:
            too_long.add(column)
            problems.append(
                Problem(row, column, f"文字数が多すぎます（{len(text):,} 文字）。{limit:,} 文字以内にしてください。")
            )
    return too_long, problems


def _row_government(
    row: int, cells: dict[str, str], code_value: object, directory: _Directory, kind: str | None, area: str | None
) -> tuple[str | None, KnownGovernment | None, list[Problem]]:
    """(code, KnownGovernment, []) for the row's 団体コード and 団体名, or (None, None, problems)
    when they name none; a government the meeting does not take also has problems."""
    code, problem = directory.resolve(code_value if cells[COL_CODE] else "", cells[COL_NAME])
    if problem:
        return None, None, [_at(row, problem)]
    government = directory.governments[code]
    return code, government, _kind_problems(row, government, kind, area)


def _department_problems(row: int, department: str, kind: str | None) -> list[Problem]:
    """The normalised 部署 too long (NFKC can lengthen it: ㍿ → 株式会社), or missing at a meeting
    that forms groups per department."""
    problems = []
    if len(department) > MAX_TEXT:
        problems.append(Problem(row, COL_DEPARTMENT, f"文字数が多すぎます。{MAX_TEXT:,} 文字以内にしてください。"))
    if kind == KIND_PREFECTURE and not department:
        problems.append(
            Problem(
                row,
                COL_DEPARTMENT,
                "部署がありません。都道府県の情報交換会は部署ごとにグループを作るため、部署が必要です。",
            )
        )
    return problems


def _row_email(row: int, text: str, email_rows: dict[str, int]) -> tuple[str | None, list[Problem]]:
    """The row's normalised address (None if unusable) and its problems, the repeat of an earlier
    row's address included."""
    email, reason = _email(text)
    if reason:
        return None, [Problem(row, COL_EMAIL, reason)]
    first = email_rows.setdefault(email.lower(), row)
    if first != row:
        return email, [
            Problem(
                row,
                COL_EMAIL,
                f"メールアドレス「{email}」は{first}行目と同じです。1人につき別々のアドレスにしてください。",
            )
        ]
    return email, []


def _row_center(
    row: int, text: str, code: str | None, government: KnownGovernment | None, center_rows: dict[str, tuple[bool, int]]
) -> tuple[bool | None, list[Problem]]:
    """The row's センター設置 (None if blank or unusable) and its problems, an answer other than an
    earlier row's for the same local government included."""
    has_center, reason = _center(text)
    if reason:
        return has_center, [Problem(row, COL_CENTER, reason)]
    if has_center is None or government is None:
        return has_center, []
    value, first = center_rows.setdefault(code, (has_center, row))
    if value == has_center:
        return has_center, []
    return has_center, [
        Problem(
            row,
            COL_CENTER,
            f"同じ団体（{government.label}）の{first}行目では「{_center_label(value)}」になっています。"
            "センター設置は団体ごとに同じ値にしてください。",
        )
    ]


def _kind_problems(row: int, government: KnownGovernment, kind: str | None, area: str | None) -> list[Problem]:
    problems = []
    kind_label = _KIND_LABELS.get(government.kind, government.kind)
    if kind == KIND_TOWN and government.kind not in ("town", "village"):
        problems.append(
            Problem(
                row,
                COL_CODE,
                f"{government.label}は{kind_label}です。町村職員の情報交換会の名簿には、町と村だけを入れられます。",
            )
        )
    elif kind == KIND_PREFECTURE and government.kind != "prefecture":
        problems.append(
            Problem(
                row,
                COL_CODE,
                f"{government.label}は都道府県ではありません（{kind_label}）。"
                "都道府県職員の情報交換会の名簿には、都道府県だけを入れられます。",
            )
        )
    elif kind == KIND_TOWN and area and government.area and government.area != area:
        problems.append(
            Problem(
                row,
                COL_CODE,
                f"{government.label}は{_AREA_LABELS.get(government.area, government.area)}エリアの町村です。"
                f"この情報交換会は{_AREA_LABELS.get(area, area)}エリアが対象です。",
            )
        )
    return problems


def fill_centers(
    rows: Iterable[RosterRow], known_centers: Mapping[str, bool] | Callable[[str], bool | None]
) -> tuple[list[RosterRow], int]:
    """Rows whose センター設置 was blank take their local government's answer elsewhere in the file,
    else the agency's list (``known_centers``: code -> has_center, or a callable), else stay None.
    Returns (rows, how many rows were filled)."""
    rows = list(rows)
    look_up = known_centers if callable(known_centers) else known_centers.get
    in_file = {r.code: r.has_center for r in rows if r.has_center is not None}
    out, filled = [], 0
    for r in rows:
        if r.has_center is None:
            value = in_file[r.code] if r.code in in_file else look_up(r.code)
            if value is not None:
                r = replace(r, has_center=bool(value))
                filled += 1
        out.append(r)
    return out, filled


def participant_order(row: RosterRow) -> tuple:
    """Participants are numbered 1..N in this order: local government code, department, file row."""
    return (row.code, row.department, row.row_number)


# --- the agency's center list --------------------------------------------------------------------


def parse_center_list(data: bytes, filename: str, *, governments: Governments) -> CenterListResult:
    """Read the agency's list of municipalities with their center status (see the module docstring)."""
    encoding = ""
    try:
        table = _read_table(data, filename, CENTER_LIST_HEADER, (), MAX_CENTER_ROWS, "センター設置状況の一覧")
        encoding = table.encoding
        directory = _Directory(governments)
        result = CenterListResult(encoding=encoding, notices=list(table.notices))
        seen: dict[str, int] = {}
        for row, cells, raw, texts in table.rows:
            problems, entry = _check_center_row(row, cells, raw, _unnamed_values(row, texts, table), directory, seen)
            result.errors.extend(problems)
            if entry is not None:
                result.entries.append(entry)
        if result.errors:
            result.entries = []
        return result
    except Refused as exc:  # the whole file
        return CenterListResult(errors=exc.problems, encoding=encoding)


def _check_center_row(row, cells, raw, unnamed, directory, seen) -> tuple[list[Problem], CenterEntry | None]:
    """(problems, None) or ([], the CenterEntry) for one row of the center list; ``seen`` remembers
    the row of each code."""
    problems = list(unnamed)
    code_text, name, center_text = cells[COL_CODE], cells[COL_NAME], cells[COL_CENTER]
    values = (raw[COL_CODE],)
    code = None
    if len(code_text) > MAX_CELL_CHARS or len(name) > MAX_CELL_CHARS:
        problems.append(Problem(row, None, "文字数が多すぎるセルがあります。"))
    else:
        code, problem = directory.resolve(values[0] if code_text else "", name)
        if problem:
            problems.append(_at(row, problem))
    if code is not None:
        problems += _listed_government_problems(row, code, directory.governments[code], seen)
    has_center, reason = _center(center_text)
    if reason:
        problems.append(Problem(row, COL_CENTER, reason))
    elif has_center is None:
        problems.append(
            Problem(row, COL_CENTER, f"センター設置がありません。「{CENTER_YES}」か「{CENTER_NO}」を入力してください。")
        )
    if problems:
        return problems, None
    return [], CenterEntry(row, code, directory.governments[code].label, has_center)


def _listed_government_problems(
    row: int, code: str, government: KnownGovernment, seen: dict[str, int]
) -> list[Problem]:
    """A prefecture in the center list, or a municipality listed twice."""
    problems = []
    if government.kind == "prefecture":
        problems.append(
            Problem(row, COL_CODE, f"{government.label}は都道府県です。一覧には市区町村だけを入れてください。")
        )
    first = seen.setdefault(code, row)
    if first != row:
        problems.append(
            Problem(row, COL_CODE, f"{government.label}は{first}行目にもあります。1団体1行にしてください。")
        )
    return problems
