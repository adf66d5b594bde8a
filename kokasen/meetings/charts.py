"""Bar charts with Japanese labels for the implementation report: vector drawings for the PDF
(reportlab.graphics, the embedded TrueType font IPAex Gothic, PDF_FONT) and PNG images for the
Word file (Pillow with a system CJK font, Noto Sans CJK JP from Debian's fonts-noto-cjk).

One layout, two renderers: :func:`layout` turns a :class:`BarChart` into rectangles, lines and
texts in points; :func:`drawing` and :func:`png` only paint them, so the PDF and the Word file
show the same chart. reportlab's own bitmap renderer would need rlPyCairo (cairo), which is not
installed, and its chart widgets place Japanese labels badly; horizontal bars keep long labels
readable without rotating them. Every value is printed beside its bar, so the charts do not rely
on colour. Nothing here is random and nothing depends on the time: the same data gives the same
bytes.

No CJK font for the PNG is an error (:class:`ChartFontMissing`, a Japanese message), never
tofu boxes. The font is looked up in ``KOKASEN_CJK_FONT`` (a path) and then in the usual
Debian paths (docs/decisions/0016-implementation-report.md, docs/operations.md).
"""

from __future__ import annotations

import functools
import glob
import io
import math
import os
from dataclasses import dataclass

# The PDF's Japanese font, embedded (subset) so the report looks the same in every viewer (issue 16,
# item 7): IPAex Gothic, a TrueType font from Debian's fonts-ipaexfont-gothic (IPA Font License v1.0,
# which allows embedding in documents). KOKASEN_PDF_FONT may name another TrueType (.ttf) file.
PDF_FONT = "IPAexGothic"
PDF_FONT_FILE = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
PDF_FONT_MISSING = (
    "PDF に埋め込む日本語フォントが見つかりません。サーバーに IPAex ゴシック（Debian・Ubuntu では "
    "fonts-ipaexfont-gothic パッケージ）をインストールするか、環境変数 KOKASEN_PDF_FONT に TrueType フォント"
    "（.ttf）のパスを指定してください。"
)
WIDTH = 450.0  # points; 15.9 cm, the text width of an A4 page with 2.5 cm margins
DPI = 200
COLORS = ("#1f5aa6", "#e07b00", "#3a8a3a", "#7a4fb0")
TEXT, GRID, AXIS = "#222222", "#d0d0d0", "#666666"
LABEL_SIZE, VALUE_SIZE, TICK_SIZE = 9.0, 8.0, 7.5
BAR, GAP = 11.0, 9.0

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
)
FONT_GLOBS = ("/usr/share/fonts/**/*CJK*JP*", "/usr/share/fonts/**/*CJK*.tt[cf]", "/usr/share/fonts/**/*CJK*.otf")

FONT_MISSING = (
    "グラフの画像に使う日本語フォントが見つかりません。サーバーに日本語フォント（Debian・Ubuntu では "
    "fonts-noto-cjk パッケージ）をインストールするか、環境変数 KOKASEN_CJK_FONT にフォントファイルの"
    "パスを指定してください。"
)


class ChartFontMissing(RuntimeError):
    """No font with Japanese glyphs for the PNG charts."""

    def __init__(self, message: str = FONT_MISSING):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class BarChart:
    """Horizontal grouped bars: one band per category, one bar per series."""

    categories: tuple[str, ...]
    series: tuple[Series, ...]
    unit: str = "人"


def describe(chart: BarChart) -> str:
    """The chart's values as a sentence (alternative text): 「名簿の人数・出席者数（人）：設置済 9・8、未設置 9・8」."""
    names = "・".join(s.name for s in chart.series)
    values = "、".join(
        f"{category.replace(chr(10), '')} {'・'.join(f'{s.values[i]:,}' for s in chart.series)}"
        for i, category in enumerate(chart.categories)
    )
    return f"{names}（{chart.unit}）：{values}"


# --- layout --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rect:
    x: float
    y: float  # top edge; y grows downwards
    w: float
    h: float
    fill: str


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    color: str
    width: float = 0.5


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float
    anchor: str = "start"  # "start", "end" or "middle"
    color: str = TEXT


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    items: tuple[Rect | Line | Text, ...]


def text_width(text: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    _register_pdf_font()
    return stringWidth(text, PDF_FONT, size)


def _wrap(text: str, width: float, size: float, lines: int = 2) -> list[str]:
    """Break ``text`` at its line breaks and then character by character (Japanese has no
    spaces) into at most ``lines`` lines of ``width``; an ellipsis marks a cut."""
    if "\n" in text:
        out: list[str] = []
        pieces = text.split("\n")
        for i, piece in enumerate(pieces):
            if len(out) >= lines:
                out[-1] = _ellipsis(out[-1], width, size)
                break
            room = max(1, lines - len(out) - (len(pieces) - i - 1))  # keep a line for each later piece
            out += _wrap(piece, width, size, room)
        return out
    out, current = [], ""
    for char in text:
        if current and text_width(current + char, size) > width + 0.01:
            out.append(current)
            current = ""
            if len(out) == lines:
                out[-1] = _ellipsis(out[-1], width, size)
                return out
        current += char
    return [*out, current] if current else out or [""]


def _ellipsis(line: str, width: float, size: float) -> str:
    line = line.rstrip("…")
    while line and text_width(line + "…", size) > width:
        line = line[:-1]
    return line + "…"


def _nice_step(maximum: float) -> float:
    """A tick step of 1, 2 or 5 × 10^k giving 4–8 ticks up to ``maximum``."""
    if maximum <= 5:
        return 1
    raw = maximum / 5
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def layout(chart: BarChart, width: float = WIDTH) -> Layout:
    items: list[Rect | Line | Text] = []
    y = 4.0
    if len(chart.series) > 1:  # legend
        x = 0.0
        for i, series in enumerate(chart.series):
            items.append(Rect(x, y, 9, 9, COLORS[i % len(COLORS)]))
            items.append(Text(x + 12, y + 8, series.name, LABEL_SIZE))
            x += 12 + text_width(series.name, LABEL_SIZE) + 18
        y += 20
    label_width = min(
        max([text_width(line, LABEL_SIZE) for c in chart.categories for line in c.split("\n")] + [40]) + 6,
        width * 0.4,
    )
    x0, x1 = label_width + 4, width - 34
    maximum = max([v for s in chart.series for v in s.values] + [0])
    step = _nice_step(maximum)
    top = max(step, math.ceil(maximum / step) * step)
    scale = (x1 - x0) / top
    band = len(chart.series) * BAR + GAP
    plot_top = y
    plot_height = max(band * len(chart.categories), band)
    ticks = [k * step for k in range(int(round(top / step)) + 1)]
    for tick in ticks:  # grid first, bars over it
        tx = x0 + tick * scale
        items.append(Line(tx, plot_top, tx, plot_top + plot_height, GRID))
    for c, category in enumerate(chart.categories):
        band_top = plot_top + c * band + GAP / 2
        lines = _wrap(category, label_width - 6, LABEL_SIZE, max(1, min(3, int(band // (LABEL_SIZE + 1)))))
        middle = band_top + len(chart.series) * BAR / 2
        first = middle - (len(lines) - 1) * (LABEL_SIZE + 1) / 2 + LABEL_SIZE * 0.35
        for n, line in enumerate(lines):
            items.append(Text(label_width, first + n * (LABEL_SIZE + 1), line, LABEL_SIZE, "end"))
        for s, series in enumerate(chart.series):
            value = series.values[c]
            bar_top = band_top + s * BAR
            length = value * scale
            if length > 0:
                items.append(Rect(x0, bar_top + 1, length, BAR - 2, COLORS[s % len(COLORS)]))
            items.append(Text(x0 + length + 3, bar_top + BAR / 2 + VALUE_SIZE * 0.35, f"{value:,}", VALUE_SIZE))
    axis_y = plot_top + plot_height
    items.append(Line(x0, plot_top, x0, axis_y, AXIS, 0.8))
    items.append(Line(x0, axis_y, x1, axis_y, AXIS, 0.8))
    for tick in ticks:
        label = f"{int(tick):,}" if float(tick).is_integer() else f"{tick:g}"
        items.append(Text(x0 + tick * scale, axis_y + 10, label, TICK_SIZE, "middle", AXIS))
    items.append(Text(x1 + 12, axis_y + 10, f"（{chart.unit}）", TICK_SIZE, "start", AXIS))
    return Layout(width, axis_y + 16, tuple(items))


# --- PDF: reportlab vector drawing ------------------------------------------------------------


@functools.cache
def _register_pdf_font() -> None:
    """Register the embedded TrueType font once per process; ChartFontMissing when it is not installed
    (the report screen shows the message, as for the Word file's chart font)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    if PDF_FONT in pdfmetrics.getRegisteredFontNames():
        return
    path = os.environ.get("KOKASEN_PDF_FONT") or PDF_FONT_FILE
    try:
        pdfmetrics.registerFont(TTFont(PDF_FONT, path))  # TrueType: reportlab embeds a subset
    except (OSError, TTFError) as error:
        raise ChartFontMissing(PDF_FONT_MISSING) from error


def drawing(chart: BarChart, width: float = WIDTH):
    """A reportlab Drawing (a platypus flowable) of ``chart``."""
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.graphics.shapes import Line as RLine
    from reportlab.graphics.shapes import Rect as RRect
    from reportlab.lib.colors import HexColor

    _register_pdf_font()
    plan = layout(chart, width)
    out = Drawing(plan.width, plan.height)
    out.initialFontName = PDF_FONT  # the renderer's starting font; else the PDF lists Helvetica, unembedded
    flip = plan.height
    for item in plan.items:
        if isinstance(item, Rect):
            out.add(
                RRect(item.x, flip - item.y - item.h, item.w, item.h, fillColor=HexColor(item.fill), strokeColor=None)
            )
        elif isinstance(item, Line):
            out.add(
                RLine(
                    item.x1,
                    flip - item.y1,
                    item.x2,
                    flip - item.y2,
                    strokeColor=HexColor(item.color),
                    strokeWidth=item.width,
                )
            )
        else:
            out.add(
                String(
                    item.x,
                    flip - item.y,
                    item.text,
                    fontName=PDF_FONT,
                    fontSize=item.size,
                    fillColor=HexColor(item.color),
                    textAnchor=item.anchor,
                )
            )
    return out


# --- PNG: Pillow -------------------------------------------------------------------------------


def _japanese_face(path: str):
    """(path, face index) of a face in ``path`` that draws Japanese, or None."""
    from PIL import ImageFont

    faces = []
    for index in range(16):
        try:
            font = ImageFont.truetype(path, 20, index=index)
        except OSError:
            break
        faces.append((index, font))
        if not path.lower().endswith((".ttc", ".otc")):
            break
    faces.sort(key=lambda f: (" JP" not in " ".join(f[1].getname()) or "Mono" in f[1].getname()[0], f[0]))
    for index, font in faces:
        # A font without Japanese draws its "missing glyph" box for 情 just as for a private-use point.
        if _ink(font, "情報") != _ink(font, "\ue000\ue001"):
            return path, index
    return None


def _ink(font, text: str) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("L", (60, 30))
    ImageDraw.Draw(image).text((0, 0), text, font=font, fill=255)
    return image.tobytes()


@functools.cache
def cjk_font() -> tuple[str, int]:
    """(path, face index) of the font for PNG charts; :class:`ChartFontMissing` if none."""
    configured = os.environ.get("KOKASEN_CJK_FONT", "").strip()
    if configured:
        if not os.path.isfile(configured):
            raise ChartFontMissing(f"環境変数 KOKASEN_CJK_FONT のフォントファイル {configured} がありません。")
        found = _japanese_face(configured)
        if not found:
            raise ChartFontMissing(f"環境変数 KOKASEN_CJK_FONT のフォント {configured} には日本語の文字がありません。")
        return found
    paths = [p for p in FONT_CANDIDATES if os.path.isfile(p)]
    for pattern in FONT_GLOBS:
        paths += sorted(glob.glob(pattern, recursive=True))
    for path in dict.fromkeys(paths):
        try:
            found = _japanese_face(path)
        except OSError:
            continue
        if found:
            return found
    raise ChartFontMissing()


@functools.cache
def _font(size_px: int):
    from PIL import ImageFont

    path, index = cjk_font()
    return ImageFont.truetype(path, size_px, index=index)


def png(chart: BarChart, width: float = WIDTH, dpi: int = DPI) -> bytes:
    """The chart as a PNG of ``width`` points at ``dpi`` (the image carries the dpi, so Word
    shows it at that size)."""
    from PIL import Image, ImageColor, ImageDraw

    plan = layout(chart, width)
    k = dpi / 72
    image = Image.new("RGB", (round(plan.width * k), round(plan.height * k)), "white")
    draw = ImageDraw.Draw(image)
    anchors = {"start": "ls", "end": "rs", "middle": "ms"}
    for item in plan.items:
        if isinstance(item, Rect):
            draw.rectangle(
                [
                    round(item.x * k),
                    round(item.y * k),
                    round((item.x + item.w) * k) - 1,
                    round((item.y + item.h) * k) - 1,
                ],
                fill=ImageColor.getrgb(item.fill),
            )
        elif isinstance(item, Line):
            draw.line(
                [(round(item.x1 * k), round(item.y1 * k)), (round(item.x2 * k), round(item.y2 * k))],
                fill=ImageColor.getrgb(item.color),
                width=max(1, round(item.width * k)),
            )
        else:
            draw.text(
                (item.x * k, item.y * k),
                item.text,
                font=_font(round(item.size * k)),
                fill=ImageColor.getrgb(item.color),
                anchor=anchors[item.anchor],
            )
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), optimize=False)
    return out.getvalue()


# --- the report's charts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    caption: str
    chart: BarChart


def attendance_figure(caption: str, rows) -> Figure | None:
    """Roster and attendance per row (anything with ``.label`` or a label and a Count)."""
    rows = list(rows)
    if not rows:
        return None
    labels = tuple(label for label, _ in rows)
    return Figure(
        caption,
        BarChart(
            labels,
            (
                Series("名簿の人数", tuple(c.invited for _, c in rows)),
                Series("出席者数", tuple(c.attended for _, c in rows)),
            ),
        ),
    )


def survey_figure(caption: str, question) -> Figure | None:
    if not question.counts:
        return None
    return Figure(
        caption,
        BarChart(
            tuple(c.answer for c in question.counts),
            (Series("回答数", tuple(c.count for c in question.counts)),),
            unit="件",
        ),
    )
