"""Checks on uploaded documents and safe file names (Django-free; used by forms.py).

- ``check_upload(name, size, head, stream)`` returns a list of Japanese problems: the
  extension must be on the allowlist, the sniffed content (``filetype``) must match it, text
  formats must be text (UTF-8 or CP932, no NUL byte, not HTML/SVG/XML markup), and the
  size must be within the limit of its kind.
- ``safe_storage_name(name)`` gives the name the file is stored under: ASCII letters,
  digits, ``-``, ``_`` and one ``.`` before the extension, no path, no leading dot, at most
  60 characters, with a random part so that two uploads never collide and a file's
  address cannot be guessed from its title.
- ``download_name(title, extension)`` is the name offered to the browser: the Japanese
  title (NFC), without control, bidi or path characters.
"""

from __future__ import annotations

import codecs
import re
import secrets
import unicodedata
from dataclasses import dataclass

import filetype

VIDEO_EXTENSIONS = frozenset({"mp4", "webm"})
CAPTION_EXTENSIONS = frozenset({"vtt"})
TEXT_EXTENSIONS = frozenset({"csv", "txt"})
# A caption track is text: an hour of dense Japanese captions is about 150 KB.
CAPTION_MAX_SIZE = 2 * 1024 * 1024
# WebVTT (W3C): an optional BOM, "WEBVTT", then a space, a tab or a line end (or nothing).
WEBVTT_SIGNATURE = re.compile(rb"^(?:\xef\xbb\xbf)?WEBVTT(?:[ \t\r\n]|$)")
# extension -> what filetype may call its content (None: no binary signature, i.e. text)
SIGNATURES: dict[str, frozenset] = {
    "pdf": frozenset({"pdf"}),
    "docx": frozenset({"docx"}),
    "xlsx": frozenset({"xlsx"}),
    "pptx": frozenset({"pptx"}),
    # A ZIP of Office files is still a ZIP; filetype looks inside and may name the first member.
    "zip": frozenset({"zip", "docx", "xlsx", "pptx", "epub", "odt", "ods", "odp"}),
    "mp4": frozenset({"mp4", "m4v"}),
    "webm": frozenset({"webm"}),
    "csv": frozenset({None}),
    "txt": frozenset({None}),
    "vtt": frozenset({None}),
}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "zip": "application/zip",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "csv": "text/csv",
    "txt": "text/plain",
    "vtt": "text/vtt; charset=utf-8",
}
KIND_LABELS = {
    "pdf": "PDF",
    "docx": "Word",
    "xlsx": "Excel",
    "pptx": "PowerPoint",
    "zip": "ZIP",
    "mp4": "MP4 動画",
    "webm": "WebM 動画",
    "csv": "CSV",
    "txt": "テキスト",
    "vtt": "WebVTT 字幕",
}
HEAD_BYTES = 8192
MARKUP = re.compile(rb"^\s*<(?:!doctype|html|head|body|script|svg|\?xml|iframe|object)", re.IGNORECASE)
_SAFE_RUN = re.compile(r"[^A-Za-z0-9_-]+")
MAX_STEM = 40


@dataclass(frozen=True)
class Limits:
    document: int
    video: int


def extension_of(name: str) -> str:
    base = re.split(r"[/\\]", name or "")[-1]
    stem, dot, ext = base.rpartition(".")
    return ext.lower() if dot and stem.strip(". ") else ""


def megabytes(size: int) -> str:
    if size >= 1024**3 and size % 1024**3 == 0:
        return f"{size // 1024**3} GB"
    return f"{size / 1024**2:,.0f} MB" if size % 1024**2 == 0 else f"{size / 1024**2:,.1f} MB"


def _is_text(stream, head: bytes, encodings=("utf-8-sig", "cp932")) -> bool:
    """No NUL byte, and decodable as UTF-8 (BOM allowed) or, failing that, as CP932 (the
    encoding Excel in Japan writes CSV in)."""
    if b"\x00" in head:
        return False
    for encoding in encodings:
        decoder = codecs.getincrementaldecoder(encoding)()
        stream.seek(0)
        try:
            while chunk := stream.read(1024 * 1024):
                if b"\x00" in chunk:
                    return False
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return True
        except UnicodeDecodeError:
            continue
    return False


def check_upload(name: str, size: int, stream, limits: Limits, allowed: set[str] | frozenset[str]) -> list[str]:
    """Problems with an upload (empty list: accepted). ``stream`` is a binary file object;
    it is read from the start and left at position 0."""
    ext = extension_of(name)
    if not ext or ext not in allowed or ext not in SIGNATURES:
        names = "、".join(sorted(e for e in allowed if e in SIGNATURES))
        return [f"この形式のファイルは登録できません。登録できる形式: {names}"]
    if size == 0:
        return ["ファイルが空です（0 バイト）。"]
    if ext in CAPTION_EXTENSIONS:
        return check_webvtt(size, stream)
    limit = limits.video if ext in VIDEO_EXTENSIONS else limits.document
    if size > limit:
        kind = "動画" if ext in VIDEO_EXTENSIONS else "動画以外のファイル"
        return [f"ファイルが大きすぎます（{megabytes(size)}）。{kind}は {megabytes(limit)} までです。"]
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    guessed = filetype.guess_extension(head)
    problems = []
    if guessed not in SIGNATURES[ext]:
        found = f"中身は「{guessed}」形式です" if guessed else "中身がこの形式ではありません"
        problems.append(f"ファイル名は「.{ext}」ですが、{found}。{KIND_LABELS[ext]}のファイルを選んでください。")
    elif ext in TEXT_EXTENSIONS:
        if MARKUP.match(head):
            problems.append(f"「.{ext}」のファイルに HTML や SVG などの記述が含まれています。登録できません。")
        elif not _is_text(stream, head):
            problems.append(f"「.{ext}」のファイルが文字データ（UTF-8 または Shift_JIS）ではありません。")
        stream.seek(0)
    return problems


def check_webvtt(size: int, stream) -> list[str]:
    """A caption track (WebVTT, the only caption format browsers read in ``<track>``): at most
    CAPTION_MAX_SIZE, UTF-8 text (the format allows no other encoding), starting with the
    ``WEBVTT`` signature line. The stream is left at position 0."""
    if size > CAPTION_MAX_SIZE:
        return [f"字幕ファイルが大きすぎます（{megabytes(size)}）。{megabytes(CAPTION_MAX_SIZE)} までです。"]
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    problems = []
    if not WEBVTT_SIGNATURE.match(head):
        problems.append(
            "字幕ファイルは WebVTT 形式（1 行目が「WEBVTT」で始まるテキスト）にしてください。"
            "SRT などほかの形式の字幕は、字幕編集ソフトで WebVTT（.vtt）に書き出してから登録してください。"
        )
    elif not _is_text(stream, head, encodings=("utf-8-sig",)):
        problems.append("字幕ファイルの文字コードを UTF-8 にしてください（Shift_JIS などは再生時に文字化けします）。")
    stream.seek(0)
    return problems


def _clean_text(value: str, form: str = "NFKC") -> str:
    value = unicodedata.normalize(form, value)
    # Control (Cc), format incl. bidi overrides and zero-width (Cf), unassigned (Cn) and
    # private-use (Co) characters are dropped; separators become spaces.
    kept = []
    for char in value:
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Cn", "Co", "Cs"):
            continue
        kept.append(" " if category.startswith("Z") else char)
    return re.sub(r"\s+", " ", "".join(kept)).strip()


def safe_storage_name(name: str, *, token: str | None = None) -> str:
    """e.g. "../../第1回 配布資料\u202e.pdf" -> "1-3f9a2c1b.pdf", "Support Plan.xlsx" ->
    "Support-Plan-3f9a2c1b.xlsx"."""
    ext = extension_of(name)
    base = re.split(r"[/\\]", name or "")[-1]
    stem = base[: -(len(ext) + 1)] if ext else base
    ascii_stem = _SAFE_RUN.sub("-", _clean_text(stem)).strip("-_.")[:MAX_STEM].strip("-_.")
    token = token or secrets.token_hex(4)
    stem = f"{ascii_stem}-{token}" if sum(c.isalnum() for c in ascii_stem) >= 3 else f"file-{token}"
    return f"{stem}.{ext}" if ext else stem


def download_name(title: str, extension: str, *, max_length: int = 120) -> str:
    """The file name shown in the browser's download, from the document's title."""
    text = _clean_text(title, "NFC")  # NFC keeps full-width forms such as （） as written
    text = re.sub(r'[\\/:*?"<>|]+', " ", text)
    text = re.sub(r"\s+", " ", text).strip(" .")[:max_length].strip(" .") or "file"
    ext = extension.lower()
    if ext and not text.lower().endswith(f".{ext}"):
        text = f"{text}.{ext}"
    return text
