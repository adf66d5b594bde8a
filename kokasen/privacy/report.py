"""別紙様式1 「…データ等の利用後の廃棄について」 as Word and PDF, and its evidence annex.

The form's wording and layout are the spec's (procurement-spec.ja.txt, 別紙様式１). The server's
data does not fit the printed media rows, so, as the form's note says, it is written under
その他 with what was done; ① and ② of that row are marked with ○. The annex (evidence.json) is
the record of the disposal; its SHA-256 is printed on the form, so that the paper and the file
can be matched.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import asdict

from django.utils import timezone

from kokasen.meetings import charts
from kokasen.meetings.report_docx import _set_fonts

from . import backups
from .disposal import Evidence
from .wareki import reiwa_date

TITLE = "こども家庭センター設置･機能強化促進（情報交換推進）業務に係るデータ等の利用後の廃棄について"
FORM_NAME = "別紙様式１"
CONTRACTOR_LABEL = "受託者名"
LEAD = "事業履行中に作成・活用されたデータ等については、下記のとおり廃棄しましたので、報告します。"
KI = "記"
HEADING = "１ データの媒体等及び廃棄方法"
INSTRUCTION = "（該当する①データの媒体等と、②その廃棄方法の両方に○をつけてください。）"
# (medium, method) of the printed rows; the spec's wording, 償却 included.
FIXED_ROWS = [
    ("①電磁的記録媒体", "②裁断"),
    ("①紙媒体", "②償却 or 溶解 or 裁断"),
    ("①外部ネットワークに物理的に接続していないパソコンのデータ", "②データ消去"),
]
NOTE = "※ 該当する①と②の組み合わせがない場合も「その他」に記載願います。"
MARK = "○"


def annex_bytes(evidence: Evidence) -> bytes:
    """The evidence annex: canonical JSON (sorted keys, UTF-8), so its hash is stable."""
    data = asdict(evidence)
    data["document"] = "別紙様式１ 別添（廃棄の記録）"
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1, default=_json_default) + "\n").encode()


def _json_default(value):
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    raise TypeError(type(value))


def other_medium(evidence: Evidence) -> str:
    return (
        "本業務のサーバー上のデータ（データベース、アップロードファイル、ログ、バックアップ）：" + evidence.description
    )


def other_method(evidence: Evidence) -> str:
    backup = "暗号鍵を破棄" if evidence.backup.get("mode") == backups.DESTROY_KEY else "該当する世代を削除して再圧縮"
    if not evidence.backup.get("done"):
        backup += "（未実施。別添参照）"
    rows = sum(r.before for r in evidence.steps)
    return (
        f"データ消去：{rows}件の記録を削除・消去し、データベースのファイルを再構成して復元できないようにした。"
        f"アップロードファイル{len(evidence.files)}件とログファイル{len(evidence.log_files)}件を上書きして削除。"
        f"バックアップは{backup}。詳細は別添（廃棄の記録）のとおり。"
    )


def _annex_line(sha256: str) -> str:
    return f"別添（廃棄の記録 evidence.json）SHA-256：{sha256}"


def _summary_rows(evidence: Evidence) -> list[tuple[str, str]]:
    local = timezone.localtime
    rows = [
        ("対象", evidence.description + f"（{evidence.scope}）"),
        ("実施日時", f"{local(evidence.started_at):%Y-%m-%d %H:%M}〜{local(evidence.finished_at):%H:%M}"),
        ("実施者", evidence.operator),
    ]
    for r in evidence.steps:
        verb = "削除" if r.action == "delete" else "消去（空欄化）"
        rows.append((r.label, f"{verb} {r.before}件 → 残り{r.after}件"))
    rows.append(("再構成した表", f"{len(evidence.rewritten)}表"))
    rows.append(("アップロードファイル", f"{len(evidence.files)}件を上書きして削除"))
    rows.append(("ログファイル", f"{len(evidence.log_files)}件を上書きして削除"))
    rows.append(("バックアップ", evidence.backup.get("summary", "")))
    if evidence.export:
        rows.append(("廃棄前の返却用データ", f"{evidence.export['file']}（SHA-256：{evidence.export['sha256']}）"))
    ok = evidence.verification.get("ok")
    rows.append(("確認結果", "対象の記録・ファイルが残っていないことを確認した" if ok else "残りあり（別添参照）"))
    return rows


def docx_bytes(evidence: Evidence, *, contractor: str, day: dt.date, annex_sha256: str) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    _set_fonts(document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")))
    normal = document.styles["Normal"]
    _set_fonts(normal.element)
    normal.font.size = Pt(10.5)
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.0)

    def para(text="", align=None, indent=0.0, size=None, space=6):
        p = document.add_paragraph()
        run = p.add_run(text)
        if size:
            run.font.size = Pt(size)
        if align:
            p.alignment = align
        p.paragraph_format.left_indent = Cm(indent)
        p.paragraph_format.space_after = Pt(space)
        return p

    right, center = WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.CENTER
    para(FORM_NAME, space=18)
    para(reiwa_date(day), align=right, space=24)
    para(TITLE, align=center, size=12, space=24)
    para(f"{CONTRACTOR_LABEL}　{contractor}", align=right, space=24)
    para(LEAD, space=18)
    para(KI, align=center, space=18)
    para(HEADING)
    para(INSTRUCTION, indent=0.3, space=10)
    for medium, method in FIXED_ROWS:
        para(f"・ {medium}　－ {method}", indent=0.3)
    para(f"・ その他 {MARK}①（{other_medium(evidence)}）", indent=0.3)
    para(f"{MARK}②（{other_method(evidence)}）", indent=1.5)
    para(NOTE, indent=0.3, space=18)
    para(_annex_line(annex_sha256), size=8)

    document.add_page_break()
    para("別添（廃棄の記録）の要約", size=12)
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in _summary_rows(evidence):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
    para(f"全文は evidence.json（SHA-256：{annex_sha256}）のとおり。", size=9)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_bytes(evidence: Evidence, *, contractor: str, day: dt.date, annex_sha256: str) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Paragraph, Table, TableStyle

    charts._register_pdf_font()
    font = charts.PDF_FONT
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, invariant=True)
    c.setTitle(TITLE)
    width, height = A4
    left, right = 2.5 * cm, width - 2.5 * cm
    y = height - 2.2 * cm

    def text(s, x, size=10.5, anchor="left"):
        c.setFont(font, size)
        if anchor == "right":
            c.drawRightString(x, y, s)
        elif anchor == "center":
            c.drawCentredString(x, y, s)
        else:
            c.drawString(x, y, s)

    def wrapped(s, x, size=10.5):
        nonlocal y
        style = ParagraphStyle("p", fontName=font, fontSize=size, leading=size * 1.6, wordWrap="CJK")
        p = Paragraph(escape(s), style)
        _, h = p.wrap(right - x, height)
        p.drawOn(c, x, y - h + size)
        y -= h

    def circle(x, s, size=10.5):
        w = stringWidth(s, font, size)
        c.circle(x + w / 2, y + size * 0.35, size * 0.62, stroke=1, fill=0)

    text(FORM_NAME, left)
    y -= 1.4 * cm
    text(reiwa_date(day), right, anchor="right")
    y -= 1.8 * cm
    title_style = ParagraphStyle("t", fontName=font, fontSize=12, leading=19, wordWrap="CJK", alignment=1)
    p = Paragraph(escape(TITLE), title_style)
    _, h = p.wrap(right - left - 1 * cm, height)
    p.drawOn(c, left + 0.5 * cm, y - h + 12)
    y -= h + 1.4 * cm
    text(f"{CONTRACTOR_LABEL}　{contractor}", right, anchor="right")
    y -= 1.6 * cm
    wrapped(LEAD, left)
    y -= 1.0 * cm
    text(KI, width / 2, anchor="center")
    y -= 1.2 * cm
    text(HEADING, left)
    y -= 0.7 * cm
    text(INSTRUCTION, left + 0.3 * cm)
    y -= 1.0 * cm
    for medium, method in FIXED_ROWS:
        if len(medium) > 12:
            text(f"・ {medium}", left + 0.3 * cm)
            y -= 0.7 * cm
            text(f"－ {method}", left + 4.3 * cm)
        else:
            text(f"・ {medium}", left + 0.3 * cm)
            text(f"－ {method}", left + 4.3 * cm)
        y -= 0.9 * cm
    prefix = "・ その他 "
    text(prefix, left + 0.3 * cm)
    x = left + 0.3 * cm + stringWidth(prefix, font, 10.5)
    circle(x, "①")
    text("①", x)
    y -= 0.05 * cm
    wrapped(f"（{other_medium(evidence)}）", x + stringWidth("①", font, 10.5) + 2)
    y -= 0.35 * cm
    x = left + 0.3 * cm + stringWidth(prefix, font, 10.5)
    circle(x, "②")
    text("②", x)
    y -= 0.05 * cm
    wrapped(f"（{other_method(evidence)}）", x + stringWidth("②", font, 10.5) + 2)
    y -= 0.5 * cm
    text(NOTE, left + 0.3 * cm)
    c.setFont(font, 7.5)
    c.drawString(left, 2.0 * cm, _annex_line(annex_sha256))
    c.showPage()

    y = height - 2.2 * cm
    text("別添（廃棄の記録）の要約", left, size=12)
    y -= 0.6 * cm
    cell = ParagraphStyle("c", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    rows = [[Paragraph(escape(a), cell), Paragraph(escape(b), cell)] for a, b in _summary_rows(evidence)]
    table = Table(rows, colWidths=[5 * cm, right - left - 5 * cm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "#444444"), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    _, h = table.wrap(right - left, height)
    table.drawOn(c, left, y - h)
    y -= h + 0.8 * cm
    wrapped(f"全文は evidence.json（SHA-256：{annex_sha256}）のとおり。", left, size=8)
    c.showPage()
    c.save()
    return out.getvalue()
