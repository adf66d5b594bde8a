"""Wagtail admin screens of the implementation report (情報交換会実施報告書, REQUIREMENTS M3), for
管理者 and 受託者 with TOTP passed:

- ``<pk>/report/`` (``report``): one meeting's report page: what the report will contain, the
  survey import per half (上半期・下半期) and the .docx / .pdf downloads;
- ``report/`` (``report_combined``): several meetings ticked into one report.

Downloads are GET (nothing changes); imports and deletions are POST and audited by
services/survey.py. The report carries no personal names (report.py), so a download is not audited.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import Count, Max
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from kokasen.accounts import admin_screens
from kokasen.accounts.access import staff_required
from kokasen.core.refusals import Refused

from . import charts, report, survey_file
from .admin_views import meeting_parents
from .ids import as_ids
from .models import Half, Meeting, SurveyResponse
from .services import survey as survey_service


# python-docx and ReportLab (~30 MiB together) are imported on the first report, not with the
# admin's URLs that every web worker loads (decision 0063).
def render_docx(data) -> bytes:
    from .report_docx import render_docx

    return render_docx(data)


def render_pdf(data) -> bytes:
    from .report_pdf import render_pdf

    return render_pdf(data)


FORMATS = {
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", render_docx),
    "pdf": ("application/pdf", render_pdf),
}
MAX_COMBINED = 12


class SurveyUploadForm(forms.Form):
    half = forms.ChoiceField(
        label="時期",
        choices=Half.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "上半期か下半期かを選んでください。"},
    )
    file = forms.FileField(
        label="アンケートのファイル",
        help_text=(
            "CSV（UTF-8、BOM付きUTF-8、Shift_JIS）または Excel（.xlsx）。1行目に質問の見出し、2行目以降に1人1行で回答。"
            "「団体コード」「団体名」の列は任意です。氏名・メールアドレスなどの列は取り込みません。"
            f"{survey_file.MAX_FILE_BYTES // 1024 // 1024} MB まで。"
        ),
        error_messages={"required": "ファイルを選んでください。", "empty": "ファイルが空です。"},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > survey_file.MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"ファイルが大きすぎます。{survey_file.MAX_FILE_BYTES // 1024 // 1024} MB 以下にしてください。"
            )
        return upload


def _context(title: str, *, meeting: Meeting | None = None, **extra) -> dict:
    return admin_screens.screen_context(
        title, icon="doc-full", parents=meeting_parents(meeting), meeting=meeting, **extra
    )


def _surveys(meeting: Meeting) -> list[dict]:
    stored = {
        row["half"]: row
        for row in SurveyResponse.objects.filter(meeting=meeting)
        .values("half")
        .annotate(count=Count("pk"), imported_at=Max("imported_at"))
    }
    return [
        {"half": value, "label": label, **stored.get(value, {"count": 0, "imported_at": None})}
        for value, label in Half.choices
    ]


def _page(request, meeting: Meeting, form: SurveyUploadForm, **extra) -> TemplateResponse:
    data = report.report_data([meeting])
    context = _context(
        "実施報告書",
        meeting=meeting,
        form=form,
        data=data,
        meeting_report=data.meetings[0],
        surveys=_surveys(meeting),
        choice_max_values=survey_file.CHOICE_MAX_VALUES,
        **extra,
    )
    status = 400 if form.errors or extra.get("refused") else 200  # like every refused or invalid form
    return TemplateResponse(request, "meetings/admin/report_meeting.html", context, status=status)


@require_GET
@staff_required
def meeting_report(request, pk):
    meeting = get_object_or_404(Meeting, pk=pk)
    return _page(request, meeting, SurveyUploadForm())


@require_POST
@staff_required
def survey_upload(request, pk):
    meeting = get_object_or_404(Meeting, pk=pk)
    form = SurveyUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, meeting, form)
    upload = form.cleaned_data["file"]
    try:
        imported = survey_service.survey_import(
            meeting=meeting,
            half=form.cleaned_data["half"],
            data=upload.read(),
            filename=upload.name,
            acting_user=request.user,
            request=request,
        )
    except Refused as refused:
        return _page(request, meeting, form, refused=refused, filename=upload.name)
    return _page(
        request,
        meeting,
        SurveyUploadForm(),
        imported=imported,
        imported_label=Half(imported.half).label,
        filename=upload.name,
    )


@require_POST
@staff_required
def survey_delete(request, pk):
    meeting = get_object_or_404(Meeting, pk=pk)
    half = request.POST.get("half", "")
    if half not in Half.values:
        messages.error(request, "上半期か下半期かを選んでください。")
    else:
        deleted = survey_service.survey_delete(meeting=meeting, half=half, acting_user=request.user, request=request)
        messages.success(request, f"{Half(half).label}のアンケートの回答 {deleted}件を削除しました。")
    return redirect("meetings_admin:report", pk=meeting.pk)


def _download(request, meetings: list[Meeting], fmt: str, stem: str):
    content_type, render = FORMATS[fmt]
    try:
        body = render(report.report_data(meetings))
    except charts.ChartFontMissing as missing:
        messages.error(request, missing.message)
        return None
    response = HttpResponse(body, content_type=content_type)
    filename = f"{stem}_{timezone.localdate():%Y%m%d}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@staff_required
def meeting_download(request, pk, fmt):
    meeting = get_object_or_404(Meeting, pk=pk)
    response = _download(request, [meeting], fmt, f"情報交換会実施報告書_{meeting.pk}")
    return response or redirect("meetings_admin:report", pk=meeting.pk)


@require_GET
@staff_required
def combined(request):
    meetings = list(Meeting.objects.order_by("created_at", "pk"))
    chosen = as_ids(request.GET.getlist("meeting"))
    fmt = request.GET.get("format", "")
    error = ""
    if "format" in request.GET:
        picked = [m for m in meetings if m.pk in set(chosen)]
        if fmt not in FORMATS:
            error = "Word か PDF を選んでください。"
        elif not picked:
            error = "報告書に含める情報交換会を1つ以上選んでください。"
        elif len(picked) > MAX_COMBINED:
            error = f"一度にまとめられるのは {MAX_COMBINED} 件までです。"
        else:
            response = _download(request, picked, fmt, "情報交換会実施報告書")
            if response is not None:
                return response
    context = _context("実施報告書（複数の情報交換会をまとめる）", meetings=meetings, chosen=set(chosen), error=error)
    return TemplateResponse(request, "meetings/admin/report_combined.html", context)


urlpatterns = [
    path("report/", combined, name="report_combined"),
    path("<int:pk>/report/", meeting_report, name="report"),
    path("<int:pk>/report/survey/", survey_upload, name="report_survey"),
    path("<int:pk>/report/survey/delete/", survey_delete, name="report_survey_delete"),
    path("<int:pk>/report/report.docx", meeting_download, {"fmt": "docx"}, name="report_docx"),
    path("<int:pk>/report/report.pdf", meeting_download, {"fmt": "pdf"}, name="report_pdf"),
]
