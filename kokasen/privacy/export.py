"""Return before disposal (issue 14 item 5): the covered data as one Excel workbook, a sheet per
step of the plan and one listing the files, written through core/spreadsheets.py (typed cells,
formula-like text kept as text)."""

from __future__ import annotations

import datetime as dt
import json

from django.utils import timezone

from kokasen.core.spreadsheets import new_workbook, sheet_title, write_preface, write_table, xlsx_bytes

from .scopes import Plan


def _cell(value):
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if value is None or isinstance(value, (str, int, float, bool, dt.date)):
        return value
    return str(value)


def export_bytes(plan: Plan) -> bytes:
    workbook = new_workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for step in plan.steps:
        model = step.queryset.model
        fields = [f for f in model._meta.concrete_fields]
        ws = workbook.create_sheet(sheet_title(step.label, used))
        top = write_preface(ws, [("対象", step.label), ("保存場所", step.store)])
        rows = (
            [_cell(v) for v in row] for row in step.queryset.order_by("pk").values_list(*[f.attname for f in fields])
        )
        write_table(ws, top, [str(f.verbose_name) for f in fields], rows)
    ws = workbook.create_sheet(sheet_title("ファイル", used))
    files = [(str(p), p.stat().st_size) for p in plan.files + plan.log_files]
    write_table(ws, 1, ["ファイル", "大きさ（バイト）"], files, widths=(80, 16))
    return xlsx_bytes(workbook)
