"""The 効果分析報告書's screens (decision 0052), under アクセス解析 for 管理者 and 受託者: the
reports made so far (date, period, the three files), making one for any period, the settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from kokasen.accounts.access import staff_required
from kokasen.accounts.admin_screens import screen_context
from kokasen.core.audit import audit_record
from kokasen.core.models import AuditEvent
from kokasen.meetings import charts

from . import report
from .models import GeneratedReport, ReportSettings
from .report_forms import PeriodForm, ReportSettingsForm

TITLE = "効果分析報告書"
SETTINGS_TITLE = "効果分析報告書の設定"


def _context(title, *, parents=(), **extra):
    return screen_context(title, icon="doc-full", parents=parents, **extra)


def _index():
    return (reverse("analytics_report:index"), TITLE)


@staff_required
def report_list(request):
    start, end = report.previous_month(timezone.localdate())
    form = PeriodForm(initial={"start": start, "end": end})
    reports = GeneratedReport.objects.defer("docx", "pdf", "xlsx")[:100]
    for stored in reports:
        stored.period_label = report.period_label(stored.start, stored.end)
    context = _context(TITLE, form=form, reports=reports, settings=ReportSettings.load())
    return TemplateResponse(request, "analytics/admin/reports.html", context)


@require_POST
@staff_required
def report_generate(request):
    form = PeriodForm(request.POST)
    if not form.is_valid():
        reports = GeneratedReport.objects.defer("docx", "pdf", "xlsx")[:100]
        for stored in reports:
            stored.period_label = report.period_label(stored.start, stored.end)
        context = _context(TITLE, form=form, reports=reports, settings=ReportSettings.load())
        return TemplateResponse(request, "analytics/admin/reports.html", context, status=400)
    try:
        with transaction.atomic():
            stored = report.generate(
                form.cleaned_data["start"], form.cleaned_data["end"], acting_user=request.user, request=request
            )
    except charts.ChartFontMissing as missing:
        messages.error(request, missing.message)
        return redirect("analytics_report:index")
    messages.success(request, f"{report.period_label(stored.start, stored.end)}の報告書を作成しました。")
    return redirect("analytics_report:detail", pk=stored.pk)


@staff_required
def report_detail(request, pk):
    stored = get_object_or_404(GeneratedReport.objects.defer("docx", "pdf", "xlsx"), pk=pk)
    label = report.period_label(stored.start, stored.end)
    titles = dict(_section_titles())
    sections = [titles.get(key, key) for key in stored.sections]
    context = _context(f"{stored.title}（{label}）", parents=[_index()], stored=stored, label=label, sections=sections)
    return TemplateResponse(request, "analytics/admin/report_detail.html", context)


def _section_titles() -> list[tuple[str, str]]:
    return report.available_sections()


@require_GET
@staff_required
def report_download(request, pk, fmt):
    stored = get_object_or_404(GeneratedReport.objects.only("pk", "start", "end", "title", fmt), pk=pk)
    content_type, _label = report.FORMATS[fmt]
    response = HttpResponse(bytes(getattr(stored, fmt)), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, report.filename(stored, fmt))
    response["Cache-Control"] = "no-store"
    return response


@staff_required
def report_settings(request):
    current = ReportSettings.load()
    form = ReportSettingsForm(request.POST or None, instance=current, available=_section_titles())
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            current = ReportSettings.objects.select_for_update().get(pk=current.pk)
            before = current.snapshot()
            for name in form.Meta.fields:
                setattr(current, name, form.cleaned_data[name])
            current.sections_off = form.sections_off()
            try:
                current.full_clean()
            except ValidationError as error:  # pragma: no cover - the form validated the same fields
                form.add_error(None, error)
            else:
                current.save()
                after = current.snapshot()
                changes = {k: {"old": before[k], "new": after[k]} for k in after if before[k] != after[k]}
                if changes:
                    audit_record(
                        action="analytics.report_settings_changed",
                        acting_user=request.user,
                        target=current,
                        detail={"changes": changes},
                        request=request,
                    )
                messages.success(request, "効果分析報告書の設定を保存しました。")
                return redirect("analytics_report:settings")
    history = AuditEvent.objects.filter(action="analytics.report_settings_changed").order_by("-created_at")[:20]
    context = _context(SETTINGS_TITLE, parents=[_index()], form=form, history=history)
    return TemplateResponse(
        request, "analytics/admin/report_settings.html", context, status=400 if form.errors else 200
    )
