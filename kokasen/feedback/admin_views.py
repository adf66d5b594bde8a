"""Wagtail admin screens of the 意見箱 (管理者 and 受託者 only): the list with filters, one
opinion with its status and internal notes, and the export to Excel and CSV."""

import csv
import io

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from kokasen.accounts import admin_screens
from kokasen.core.audit import audit_record

from . import selectors, services
from .forms import OpinionStatusForm
from .models import Opinion

PER_PAGE = 50
COLUMNS = ["受付番号", "受付日時", "団体コード", "団体名", "分類", "ご意見", "連絡先（部署・氏名）", "連絡先メールアドレス", "対応状況", "内部メモ", "更新日時"]


_staff = admin_screens.require_staff  # roles.is_staff_role, as the services check


def _filters(request):
    return {
        "status": request.GET.get("status", ""),
        "category": request.GET.get("category", ""),
        "query": request.GET.get("q", "").strip()[:100],
    }


def _crumbs(title, parent=None):
    parents = ((reverse("feedback_admin:index"), "意見箱"),) if parent else ()
    return admin_screens.screen_context(title, icon="mail", parents=parents)


def index(request):
    _staff(request)
    filters = _filters(request)
    opinions = Paginator(selectors.opinions_for_staff(user=request.user, **filters), PER_PAGE).get_page(request.GET.get("p"))
    context = {
        **_crumbs("意見箱"), **filters, "opinions": opinions,
        "statuses": Opinion.Status.choices, "categories": Opinion.Category.choices,
        "export_query": request.GET.urlencode(),
    }
    return TemplateResponse(request, "feedback/admin/index.html", context)


def detail(request, pk):
    _staff(request)
    try:
        opinion = selectors.opinion_for_staff(user=request.user, pk=pk)
    except Opinion.DoesNotExist:
        from django.http import Http404

        raise Http404 from None
    form = OpinionStatusForm(
        request.POST or None, initial={"status": opinion.status, "internal_notes": opinion.internal_notes}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.opinion_update(
                opinion=opinion, acting_user=request.user, status=form.cleaned_data["status"],
                internal_notes=form.cleaned_data["internal_notes"], request=request,
            )
        except services.Refused as refused:
            form.add_error(None, refused.messages[0])
        else:
            messages.success(request, "対応状況を保存しました。")
            return redirect("feedback_admin:detail", pk=opinion.pk)
    context = {**_crumbs(f"ご意見 #{opinion.pk}", parent=True), "opinion": opinion, "form": form}
    return TemplateResponse(request, "feedback/admin/detail.html", context)


def _rows(opinions):
    for o in opinions:
        yield [
            o.pk,
            timezone.localtime(o.created_at).strftime("%Y-%m-%d %H:%M"),
            o.local_government.code if o.local_government else "",
            str(o.local_government) if o.local_government else "",
            o.get_category_display() if o.category else "",
            o.body,
            o.contact_name,
            o.contact_email,
            o.get_status_display(),
            o.internal_notes,
            timezone.localtime(o.updated_at).strftime("%Y-%m-%d %H:%M"),
        ]


def _spreadsheet_safe(value):
    """Text starting with = + - @ would be a formula in Excel: prefix it with an apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export(request, fmt):
    _staff(request)
    if fmt not in ("csv", "xlsx"):
        from django.http import Http404

        raise Http404
    opinions = selectors.opinions_for_staff(user=request.user, **_filters(request))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    audit_record(action="feedback.exported", acting_user=request.user, detail={"format": fmt, "count": opinions.count()},
                 request=request)
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")  # BOM: Excel then reads the file as UTF-8
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for row in _rows(opinions):
            writer.writerow([_spreadsheet_safe(v) for v in row])
        response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="opinions-{stamp}.csv"'
        return response
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "意見箱"
    sheet.append(COLUMNS)
    for row in _rows(opinions):
        sheet.append([_spreadsheet_safe(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="opinions-{stamp}.xlsx"'
    return response
