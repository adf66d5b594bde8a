"""Read a meeting's survey (アンケート) export for the implementation report (REQUIREMENTS M3, S2).

Pure Python, no Django: ``services/survey.py`` stores the result, the tests call it directly.
File handling (UTF-8 / BOM / CP932 detection, XLSX, Japanese file-level messages) is
``kokasen.core.tables``'s and the 団体コード rules ``kokasen.localgov.codes``', imported, not copied.

The format (docs/decisions/0016-implementation-report.md)
    * Row 1 holds the headings; one row per respondent below it. CSV (UTF-8, UTF-8 with BOM,
      Shift_JIS/CP932) or Excel (.xlsx, first sheet) — what Microsoft Forms, Google Forms and a
      hand-made sheet all produce.
    * ``団体コード`` and ``団体名`` are optional columns, anywhere; with either, the answer is tied
      to the local government (the report counts the responding local governments only).
    * Every other heading is a question, its cells the answers. A heading ending in
      ``[自由記述]`` is a free-text question, one ending in ``[選択]`` a choice question (the
      marker is removed); without a marker :func:`classify` decides from the answers.

Personal data (S2): the report needs no names, so columns that hold them are never read —
``氏名``, ``名前``, ``メールアドレス``, ``電話番号``, ``役職`` and the like, and the
metadata survey tools add (``ID``, ``開始時刻``, ``完了時刻`` …). They are dropped with a notice,
not refused: refusing would make the operator edit the file by hand for no gain. Inside answers,
e-mail addresses and telephone numbers are replaced by a placeholder (and counted in a notice).
Names written inside free text cannot be recognised here; the report replaces the names of the
meeting's participants it knows, and prints free text only in the Word file, marked for review.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from kokasen.core.refusals import Problem, Refused
from kokasen.core.tables import cell_text, file_error, open_table, squash
from kokasen.localgov.codes import name_matches, resolve_code

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DATA_ROWS = 3_000
MAX_QUESTIONS = 100
MAX_CELL_CHARS = 2_000
MAX_HEADER_CHARS = 300

COL_CODE, COL_NAME = "団体コード", "団体名"

CHOICE, TEXT = "choice", "text"
MARK_TEXT, MARK_CHOICE = "[自由記述]", "[選択]"
# Automatic classification: a question is a choice question when its answers take few values,
# all of them short. Below these limits a chart of counts is meaningful.
CHOICE_MAX_VALUES = 10
CHOICE_MAX_CHARS = 20

EMAIL_PLACEHOLDER = "［メールアドレス削除］"
PHONE_PLACEHOLDER = "［電話番号削除］"
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_PHONE = re.compile(r"(?<![0-9])0[0-9]{1,4}[-(]?[0-9]{1,4}[-)]?[0-9]{3,4}(?![0-9])")

# Headings (NFKC, no spaces, lower case, trailing （…） removed) that are never read.
_PERSONAL = re.compile(
    r"(お?名前|氏名|姓|名|姓名|フリガナ|ふりがな|カナ氏名|氏名カナ|ローマ字氏名"
    r"|(回答|記入|担当|報告|参加)者(名|氏名)?|ご?担当者様?"
    r"|.*メール(アドレス)?|e-?mail(address)?|mail|メアド"
    r"|.*電話(番号)?|tel|fax|携帯(番号)?|連絡先|住所|郵便番号"
    r"|役職|職名|部署|部署名|所属|所属部署|課名|係名|name|responder|respondent)"
)
_METADATA = re.compile(
    r"(id|no|no\.|番号|回答番号|回答id|開始時刻|完了時刻|終了時刻|最終変更時刻|回答日時|回答日|送信日時|記入日"
    r"|タイムスタンプ|timestamp|starttime|completiontime|lastmodifiedtime|submittedat)"
)


@dataclass(frozen=True)
class Ignored:
    column: int  # 1-based column number as a spreadsheet shows it
    heading: str
    reason: str


@dataclass(frozen=True)
class Question:
    text: str
    kind: str | None  # CHOICE or TEXT when the heading says so, None: decided from the answers


@dataclass(frozen=True)
class Response:
    row: int
    code: str | None  # 6-digit 団体コード, when the file names the local government
    answers: tuple[str, ...]  # one per question, "" when blank


@dataclass
class SurveyResult:
    questions: list[Question] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    encoding: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def kinds(self) -> list[str]:
        """CHOICE or TEXT for each question, as the report will treat it."""
        return [q.kind or classify(r.answers[i] for r in self.responses) for i, q in enumerate(self.questions)]


def classify(answers: Iterable[str]) -> str:
    """CHOICE when the non-blank answers take at most CHOICE_MAX_VALUES values of at most
    CHOICE_MAX_CHARS characters each (「満足」「5」), else TEXT. No answers: CHOICE (an empty chart
    says more than an empty list)."""
    values = {a for a in answers if a}
    if len(values) <= CHOICE_MAX_VALUES and all(len(v) <= CHOICE_MAX_CHARS for v in values):
        return CHOICE
    return TEXT


# Likert scales the agency's surveys use, each from the most positive level to the most negative; a
# level lists its usual spellings (compared after NFKC, without spaces). Answers that all belong to
# one scale are reported in the scale's order, not by count (issue 16, item 7), so a chart reads the
# same way every time.
LIKERT_SCALES: tuple[tuple[tuple[str, ...], ...], ...] = (
    (
        ("とても満足", "非常に満足", "大変満足", "たいへん満足"),
        ("満足",),
        ("やや満足", "まあ満足", "まあまあ満足"),
        ("どちらともいえない", "どちらとも言えない", "普通", "ふつう"),
        ("やや不満", "あまり満足していない", "あまり満足しなかった"),
        ("不満", "満足していない", "満足しなかった"),
        ("とても不満", "非常に不満", "大変不満", "たいへん不満"),
    ),
    (
        ("とても参考になった", "非常に参考になった", "大変参考になった"),
        ("参考になった",),
        ("やや参考になった", "まあ参考になった"),
        ("どちらともいえない", "どちらとも言えない", "普通"),
        ("あまり参考にならなかった",),
        ("参考にならなかった",),
        ("まったく参考にならなかった", "全く参考にならなかった"),
    ),
    (
        ("とても役に立った", "非常に役に立った", "大変役に立った", "とても役立った"),
        ("役に立った", "役立った"),
        ("やや役に立った", "まあ役に立った"),
        ("どちらともいえない", "どちらとも言えない", "普通"),
        ("あまり役に立たなかった",),
        ("役に立たなかった",),
        ("まったく役に立たなかった", "全く役に立たなかった"),
    ),
    (
        ("とてもそう思う", "強くそう思う", "非常にそう思う"),
        ("そう思う",),
        ("ややそう思う", "まあそう思う"),
        ("どちらともいえない", "どちらとも言えない"),
        ("あまりそう思わない",),
        ("そう思わない",),
        ("まったくそう思わない", "全くそう思わない"),
    ),
    (
        ("とても良い", "とてもよい", "非常に良い"),
        ("良い", "よい"),
        ("やや良い", "まあ良い", "まあよい"),
        ("普通", "ふつう", "どちらともいえない"),
        ("やや悪い", "あまり良くない", "あまりよくない"),
        ("悪い", "良くない", "よくない"),
        ("とても悪い", "非常に悪い"),
    ),
    (
        ("よく理解できた", "とても理解できた", "十分理解できた"),
        ("理解できた",),
        ("おおむね理解できた", "だいたい理解できた", "やや理解できた"),
        ("あまり理解できなかった",),
        ("理解できなかった", "まったく理解できなかった", "全く理解できなかった"),
    ),
    (
        ("ぜひ参加したい", "とても参加したい"),
        ("参加したい",),
        ("どちらともいえない", "どちらとも言えない", "わからない"),
        ("あまり参加したくない",),
        ("参加したくない",),
    ),
)


def _level_key(text: str) -> str:
    return re.sub(r"[\s。、．.！!]+", "", unicodedata.normalize("NFKC", text))


def likert_levels(values: Iterable[str]) -> dict[str, int] | None:
    """value -> level (0 = the most positive) when every value is a level of one known scale, else None."""
    values = list(values)
    for scale in LIKERT_SCALES:
        level_of = {_level_key(spelling): i for i, level in enumerate(scale) for spelling in level}
        found = {v: level_of.get(_level_key(v)) for v in values}
        if values and all(level is not None for level in found.values()):
            return found
    return None


def count_choices(answers: Iterable[str]) -> list[tuple[str, int]]:
    """(answer, count) for the non-blank answers: numbers in ascending order (a 1–5 scale), the
    levels of a known Likert scale in the scale's order (:data:`LIKERT_SCALES`, most positive
    first), anything else by count, most frequent first; ties in order of first appearance."""
    counts = Counter(a for a in answers if a)
    values = list(counts)  # Counter keeps first-appearance order
    numeric = [_number(v) for v in values]
    levels = likert_levels(values)
    if values and all(n is not None for n in numeric):
        order = sorted(range(len(values)), key=lambda i: (numeric[i], i))
    elif levels is not None:
        order = sorted(range(len(values)), key=lambda i: (levels[values[i]], i))
    else:
        order = sorted(range(len(values)), key=lambda i: (-counts[values[i]], i))
    return [(values[i], counts[values[i]]) for i in order]


def _number(text: str) -> float | None:
    normal = unicodedata.normalize("NFKC", text).strip()
    return float(normal) if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", normal) else None


def scrub(text: str) -> tuple[str, int]:
    """Replace e-mail addresses and telephone numbers; return the text and how many were replaced."""
    normal = unicodedata.normalize("NFKC", text)
    if normal != text and (_EMAIL.search(normal) or _PHONE.search(normal)):
        text = normal  # ｔａｒｏ＠… typed in full width is an address too
    text, emails = _EMAIL.subn(EMAIL_PLACEHOLDER, text)
    text, phones = _PHONE.subn(PHONE_PLACEHOLDER, text)
    return text, emails + phones


def parse_survey(data: bytes, filename: str, *, known: dict[str, str], prefecture_of: dict[str, str]) -> SurveyResult:
    """Read and check the whole file; ``known`` maps 団体コード → name, ``prefecture_of`` code →
    prefecture name (as for the address list). Any error leaves ``responses`` empty."""
    encoding = ""
    try:
        if not data:
            raise file_error("ファイルが空です。")
        if len(data) > MAX_FILE_BYTES:
            raise file_error(
                f"ファイルが大きすぎます（{len(data) / 1024 / 1024:.1f} MB）。"
                f"{MAX_FILE_BYTES // 1024 // 1024} MB 以下にしてください。"
            )
        encoding, rows = open_table(data, filename)
        result = _read(rows, known, prefecture_of)
        result.encoding = encoding
        return result
    except Refused as exc:  # the whole file
        return SurveyResult(errors=exc.problems, encoding=encoding)


def _heading_key(text: str) -> str:
    key = squash(text).lower()
    return re.sub(r"\(.*\)$", "", key) or key  # 「氏名（漢字）」→ 氏名


def _ignore_reason(heading: str) -> str | None:
    key = _heading_key(heading)
    if _PERSONAL.fullmatch(key):
        return "氏名・連絡先など個人に関する列のため、取り込みません。"
    if _METADATA.fullmatch(key):
        return "アンケートの管理用の列（番号・日時）のため、取り込みません。"
    return None


def _read(rows: Iterable[tuple], known: dict[str, str], prefecture_of: dict[str, str]) -> SurveyResult:
    rows = iter(rows)
    header_row = next(rows, None)
    if header_row is None:
        raise file_error("ファイルが空です。")
    headings = [cell_text(v) for v in header_row]
    result = SurveyResult()
    columns = _read_headings(headings, result)
    scrubbed = _read_answers(rows, headings, columns, known, prefecture_of, result)
    if result.errors:
        result.responses = []
        return result
    for ignored in result.ignored:
        result.notices.append(f"{ignored.column}列目「{ignored.heading}」：{ignored.reason}")
    if scrubbed:
        result.notices.append(f"回答の中のメールアドレス・電話番号 {scrubbed} 件を「削除」の表示に置き換えました。")
    return result


@dataclass
class _Columns:
    """Where the file keeps the local government (0-based column numbers) and the questions."""

    code: int | None = None
    name: int | None = None
    questions: list[int] = field(default_factory=list)


def _read_headings(headings: list[str], result: SurveyResult) -> _Columns:
    """Sort the heading row into 団体コード / 団体名, ignored columns (``result.ignored``) and
    questions (``result.questions``). Raises Refused for a heading row that cannot be used."""
    columns = _Columns()
    seen: dict[str, int] = {}
    for i, heading in enumerate(headings):
        if not heading:
            continue
        if len(heading) > MAX_HEADER_CHARS:
            raise file_error(f"1行目の{i + 1}列目の見出しが長すぎます。{MAX_HEADER_CHARS} 文字以内にしてください。")
        key = squash(heading)
        if key in (COL_CODE, COL_NAME):
            if (columns.code if key == COL_CODE else columns.name) is not None:
                raise file_error(f"列「{key}」が2つ以上あります。1つにまとめてください。", key)
            if key == COL_CODE:
                columns.code = i
            else:
                columns.name = i
            continue
        reason = _ignore_reason(heading)
        if reason:
            result.ignored.append(Ignored(i + 1, heading, reason))
            continue
        question = question_of(heading)
        if squash(question.text) in seen:
            raise file_error(
                f"1行目の{seen[squash(question.text)] + 1}列目と{i + 1}列目に同じ質問「{question.text}」があります。"
                "見出しを区別できるように直してください。"
            )
        seen[squash(question.text)] = i
        columns.questions.append(i)
        result.questions.append(question)
    if not result.questions:
        raise file_error(
            "質問の列がありません。1行目に質問の見出し、2行目以降に1人1行で回答を入れてください"
            "（氏名・メールアドレスなどの列は取り込みません）。"
        )
    if len(result.questions) > MAX_QUESTIONS:
        raise file_error(f"質問の列が {MAX_QUESTIONS} を超えています。報告書に使う質問だけにしてください。")
    return columns


def _read_answers(
    rows: Iterator[tuple],
    headings: list[str],
    columns: _Columns,
    known: dict[str, str],
    prefecture_of: dict[str, str],
    result: SurveyResult,
) -> int:
    """Read every respondent's row into ``result.responses``, or its problems into ``result.errors``.
    Returns how many addresses and telephone numbers were replaced."""
    names = _NameIndex(known, prefecture_of) if columns.name is not None else None
    scrubbed = 0
    count = 0
    for row, values in enumerate(rows, start=2):
        texts = [cell_text(v) for v in values]
        if not any(texts):
            continue
        count += 1
        if count > MAX_DATA_ROWS:
            raise file_error(f"回答が {MAX_DATA_ROWS:,} 行を超えています。ファイルを分けてください。")
        problems = _cell_problems(row, texts, headings)
        code = _local_government(row, texts, values, columns.code, columns.name, known, prefecture_of, names, problems)
        answers = []
        for i in columns.questions:
            text, replaced = scrub(texts[i]) if i < len(texts) and len(texts[i]) <= MAX_CELL_CHARS else ("", 0)
            scrubbed += replaced
            answers.append(text)
        result.errors.extend(problems)
        if not problems:
            result.responses.append(Response(row, code, tuple(answers)))
    if count == 0 and not result.errors:
        raise file_error("2行目以降に回答がありません。")
    return scrubbed


def _cell_problems(row: int, texts: list[str], headings: list[str]) -> list[Problem]:
    """A value under no heading, and answers that are too long."""
    problems: list[Problem] = []
    for i, text in enumerate(texts):
        label = headings[i] if i < len(headings) and headings[i] else f"{i + 1}列目"
        if text and (i >= len(headings) or not headings[i]):
            problems.append(Problem(row, label, "見出しのない列に値があります。見出しを付けるか、値を消してください。"))
        elif len(text) > MAX_CELL_CHARS:
            problems.append(
                Problem(
                    row, label, f"回答が長すぎます（{len(text):,} 文字）。{MAX_CELL_CHARS:,} 文字以内にしてください。"
                )
            )
    return problems


_MARK = re.compile(r"\s*[\[［](自由記述|選択)[\]］]\s*$")


def question_of(heading: str) -> Question:
    """The question a heading asks, without its [自由記述] / [選択] marker."""
    match = _MARK.search(heading)
    if not match:
        return Question(heading, None)
    return Question(heading[: match.start()] or heading, TEXT if match.group(1) == "自由記述" else CHOICE)


def _local_government(
    row: int,
    texts: Sequence[str],
    values: Sequence[object],
    code_col: int | None,
    name_col: int | None,
    known: dict[str, str],
    prefecture_of: dict[str, str],
    names: _NameIndex | None,
    problems: list[Problem],
) -> str | None:
    code_text = texts[code_col] if code_col is not None and code_col < len(texts) else ""
    name = texts[name_col] if name_col is not None and name_col < len(texts) else ""
    if code_text:
        code, message = resolve_code(values[code_col], name, known, prefecture_of)
        if message:
            problems.append(Problem(row, COL_CODE, message))
            return None
        if name and not name_matches(name, code, known, prefecture_of):
            problems.append(
                Problem(
                    row, COL_NAME, f"団体コード {code} は「{known[code]}」ですが、団体名が「{name}」になっています。"
                )
            )
            return None
        return code
    if name and names is not None:
        matches = names.codes(name)
        if len(matches) == 1:
            return matches[0]
        message = (
            f"団体名「{name}」は全国地方公共団体コードにありません。"
            if not matches
            else f"団体名「{name}」の団体が複数あります（{len(matches)}団体）。都道府県名から書くか、団体コードを入れてください。"
        )
        problems.append(Problem(row, COL_NAME, message))
    return None


class _NameIndex:
    """団体名 → codes: 「豊中市」 and 「大阪府豊中市」 (NFKC, no spaces); a prefecture is its own name."""

    def __init__(self, known: dict[str, str], prefecture_of: dict[str, str]):
        self._short: dict[str, list[str]] = {}
        self._full: dict[str, list[str]] = {}
        for code, name in sorted(known.items()):
            self._short.setdefault(squash(name), []).append(code)
            prefecture = prefecture_of.get(code, "")
            if prefecture and prefecture != name:
                self._full.setdefault(squash(prefecture + name), []).append(code)

    def codes(self, name: str) -> list[str]:
        key = squash(name)
        return self._full.get(key) or self._short.get(key, [])
