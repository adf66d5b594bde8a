"""The 「緊急連絡先」, 「事故の記録」 and 「月次報告」 screens of 「運用・セキュリティ」 (decisions 0034,
0039). 管理者 and 受託者 only (``access.staff_required``), like the alerts."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from kokasen.accounts.access import staff_required
from kokasen.meetings import charts

from . import escalation, incidents, monthly
from .admin_views import TITLE, _context
from .forms import ContactForm, EntryForm, IncidentForm
from .models import EmergencyContact, Escalation, Incident

CONTACTS = "緊急連絡先"
INCIDENTS = "事故の記録"
FORMATS = {
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", incidents.render_word),
    "pdf": ("application/pdf", incidents.render_pdf),
}


def _ops():
    return (reverse("ops_admin:index"), TITLE)


# --- contacts --------------------------------------------------------------------------------------


@staff_required
def contact_list(request):
    from django.conf import settings

    context = _context(
        CONTACTS,
        parents=[_ops()],
        contacts=EmergencyContact.objects.all(),
        chain=escalation.chain(),
        minutes=settings.OPS_ESCALATION_MINUTES,
        recent=Escalation.objects.select_related("alert").order_by("-at", "-pk")[:20],
    )
    return TemplateResponse(request, "ops/admin/contacts.html", context)


@staff_required
def contact_edit(request, pk=None):
    contact = get_object_or_404(EmergencyContact, pk=pk) if pk else None
    if contact is None and request.method != "POST":
        last = EmergencyContact.objects.order_by("-position").values_list("position", flat=True).first() or 0
        form = ContactForm(initial={"position": last + 1, "active": True})
    else:
        form = ContactForm(request.POST if request.method == "POST" else None, instance=contact)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            saved = escalation.contact_save(form=form, acting_user=request.user, request=request)
            messages.success(request, f"緊急連絡先「{saved.role}」を保存しました。")
            return redirect("ops_admin:contacts")
        status = 400
    title = f"緊急連絡先の編集（{contact.position}. {contact.role}）" if contact else "緊急連絡先の追加"
    context = _context(title, parents=[_ops(), (reverse("ops_admin:contacts"), CONTACTS)], form=form, contact=contact)
    return TemplateResponse(request, "ops/admin/contact_form.html", context, status=status)


@require_POST
@staff_required
def contact_delete(request, pk):
    contact = get_object_or_404(EmergencyContact, pk=pk)
    role = contact.role
    escalation.contact_delete(contact=contact, acting_user=request.user, request=request)
    messages.success(request, f"緊急連絡先「{role}」を削除しました。")
    return redirect("ops_admin:contacts")


# --- incidents -------------------------------------------------------------------------------------


@staff_required
def incident_list(request):
    context = _context(INCIDENTS, parents=[_ops()], incidents=Incident.objects.all())
    return TemplateResponse(request, "ops/admin/incidents.html", context)


@staff_required
def incident_edit(request, pk=None):
    incident = get_object_or_404(Incident, pk=pk) if pk else None
    initial = {} if incident else {"detected_at": timezone.localtime().replace(second=0, microsecond=0)}
    if incident is None and (alert := request.GET.get("alert", "")).isdigit():
        initial["alert_numbers"] = alert
    form = IncidentForm(request.POST if request.method == "POST" else None, instance=incident, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            saved = incidents.incident_save(form=form, acting_user=request.user, request=request)
            messages.success(request, f"事故 #{saved.pk}「{saved.title}」を保存しました。")
            return redirect("ops_admin:incident", pk=saved.pk)
        status = 400
    parents = [_ops(), (reverse("ops_admin:incidents"), INCIDENTS)]
    if incident:
        parents.append((reverse("ops_admin:incident", args=[incident.pk]), f"事故 #{incident.pk}"))
    title = "事故の記録の編集" if incident else "事故の記録の追加"
    context = _context(title, parents=parents, form=form, incident=incident)
    return TemplateResponse(request, "ops/admin/incident_form.html", context, status=status)


def _detail(request, incident: Incident, entry_form: EntryForm, status: int = 200):
    context = _context(
        f"事故 #{incident.pk} {incident.title}",
        parents=[_ops(), (reverse("ops_admin:incidents"), INCIDENTS)],
        incident=incident,
        timeline=incidents.timeline(incident),
        related=incident.alerts.order_by("first_seen", "pk"),
        entry_form=entry_form,
    )
    return TemplateResponse(request, "ops/admin/incident_detail.html", context, status=status)


@staff_required
def incident_detail(request, pk):
    incident = get_object_or_404(Incident, pk=pk)
    now = timezone.localtime().replace(second=0, microsecond=0)
    return _detail(request, incident, EntryForm(initial={"at": now}))


@require_POST
@staff_required
def incident_entry(request, pk):
    incident = get_object_or_404(Incident, pk=pk)
    form = EntryForm(request.POST)
    if not form.is_valid():
        return _detail(request, incident, form, status=400)
    incidents.entry_add(incident=incident, form=form, acting_user=request.user, request=request)
    messages.success(request, "経過を記録しました。")
    return redirect("ops_admin:incident", pk=incident.pk)


@require_GET
@staff_required
def incident_report(request, pk, fmt):
    incident = get_object_or_404(Incident, pk=pk)
    content_type, render = FORMATS[fmt]
    try:
        body = render(incident)
    except charts.ChartFontMissing as missing:
        messages.error(request, missing.message)
        return redirect("ops_admin:incident", pk=incident.pk)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, incidents.filename(incident, fmt))
    response["Cache-Control"] = "no-store"
    return response


# --- the monthly report (decision 0039) -------------------------------------------------------------

REPORTS = "月次報告"
MONTH_FORMATS = {
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", monthly.render_word),
    "pdf": ("application/pdf", monthly.render_pdf),
}


def _months(count: int = 12) -> list[tuple[int, int]]:
    year, month = timezone.localdate().year, timezone.localdate().month
    months = []
    for _ in range(count):
        months.append((year, month))
        year, month = monthly.previous_month(date(year, month, 1))
    return months


def _month_or_404(year: int, month: int) -> None:
    if not (1 <= month <= 12 and 2020 <= year <= timezone.localdate().year + 1):
        raise Http404("その月の報告はありません。")


@staff_required
def report_list(request):
    months = [
        (y, m, f"{y}年{m}月", y == timezone.localdate().year and m == timezone.localdate().month) for y, m in _months()
    ]
    return TemplateResponse(request, "ops/admin/reports.html", _context(REPORTS, parents=[_ops()], months=months))


@staff_required
def report_month(request, year, month):
    _month_or_404(year, month)
    data = monthly.collect(year, month)
    context = _context(
        f"{data.label}の運用・セキュリティ報告", parents=[_ops(), (reverse("ops_admin:reports"), REPORTS)], data=data
    )
    return TemplateResponse(request, "ops/admin/report_month.html", context)


@require_GET
@staff_required
def report_download(request, year, month, fmt):
    _month_or_404(year, month)
    data = monthly.collect(year, month)
    content_type, render = MONTH_FORMATS[fmt]
    try:
        body = render(data)
    except charts.ChartFontMissing as missing:
        messages.error(request, missing.message)
        return redirect("ops_admin:report", year=year, month=month)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, monthly.filename(data, fmt))
    response["Cache-Control"] = "no-store"
    return response
