"""別紙様式1 as Word and PDF: they open, and read back with the form's fixed sentences, the 令和
date, the その他 row marked and the annex's SHA-256."""

import datetime as dt
import hashlib
import io
import re

from django.utils import timezone

from kokasen.privacy import backups, report
from kokasen.privacy.disposal import Evidence, StepResult

DAY = dt.date(2026, 12, 7)


def _evidence():
    now = timezone.now()
    return Evidence(
        scope="contract-end",
        description="契約終了時のすべての個人情報",
        operator="kokasen-admin",
        started_at=now,
        finished_at=now,
        dry_run=False,
        steps=[StepResult("参加者名簿（氏名・メールアドレス・部署・役職）", "meetings.Participant", "delete", 120, 0)],
        rewritten=["meetings_participant"],
        files=[{"path": "/srv/media/documents/a.pdf", "size": 10, "sha256": "0" * 64}],
        backup={
            "mode": backups.DESTROY_KEY,
            "done": True,
            "summary": "鍵2件を破棄",
            "generations_removed": [],
            "keys_removed": ["a1"],
        },
        verification={"ok": True, "rows_left": 0, "files_left": []},
    )


FIXED = [
    "別紙様式１",
    report.TITLE,
    report.LEAD,
    "記",
    report.HEADING,
    report.INSTRUCTION,
    "①電磁的記録媒体",
    "②償却 or 溶解 or 裁断",
    "①外部ネットワークに物理的に接続していないパソコンのデータ",
    report.NOTE,
]


def _flat(text):
    return re.sub(r"\s+", "", text)


def test_the_annex_is_canonical_json_with_every_part_of_the_evidence():
    evidence = _evidence()
    annex = report.annex_bytes(evidence)
    assert annex == report.annex_bytes(evidence)  # stable, so its hash is
    text = annex.decode()
    for key in ("scope", "steps", "rewritten", "backup", "log_files", "verification", "operator", "started_at"):
        assert f'"{key}"' in text


def test_word_form_reads_back():
    from docx import Document

    sha = hashlib.sha256(b"annex").hexdigest()
    data = report.docx_bytes(_evidence(), contractor="株式会社テスト受託", day=DAY, annex_sha256=sha)
    document = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    for sentence in FIXED:
        assert sentence in text, sentence
    assert "令和８年１２月７日" in text
    assert "受託者名　株式会社テスト受託" in text
    assert "・ その他 ○①（本業務のサーバー上のデータ" in text
    assert "○②（データ消去：120件の記録を削除" in text and "暗号鍵を破棄" in text
    assert sha in text
    table = "\n".join(c.text for row in document.tables[0].rows for c in row.cells)
    assert "120件 → 残り0件" in table and "鍵2件を破棄" in table


def test_pdf_form_reads_back():
    from pypdf import PdfReader

    sha = hashlib.sha256(b"annex").hexdigest()
    data = report.pdf_bytes(_evidence(), contractor="株式会社テスト受託", day=DAY, annex_sha256=sha)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    form = _flat(reader.pages[0].extract_text())
    for sentence in FIXED:
        assert _flat(sentence) in form, sentence
    assert "令和８年１２月７日" in form and "受託者名株式会社テスト受託" in form
    assert _flat("（データ消去：120件の記録を削除") in form
    assert sha in form
    annex_page = _flat(reader.pages[1].extract_text())
    assert "120件→残り0件" in annex_page
