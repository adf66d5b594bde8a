"""Wagtail admin screens of the 意見箱 (管理者 and 受託者 only, decision 0012): the list with
filters and its export to Excel and CSV, made with Wagtail's ModelViewSet (decision 0024); one
opinion with its status and internal notes, our own screen (an audited workflow)."""

import django_filters
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import Truncator
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton

from kokasen.accounts import admin_screens
from kokasen.accounts.access import staff_required
from kokasen.core import refusals, spreadsheets
from kokasen.core.audit import audit_record
from kokasen.core.refusals import Refused

from . import selectors, services
from .forms import OpinionStatusForm
from .models import Opinion

PER_PAGE = 50
COLUMNS = [
    "受付番号",
    "受付日時",
    "団体コード",
    "団体名",
    "分類",
    "ご意見",
    "連絡先（部署・氏名）",
    "連絡先メールアドレス",
    "対応状況",
    "内部メモ",
    "更新日時",
]
WIDTHS = [10, 17, 11, 20, 22, 60, 24, 30, 11, 40, 17]
# Who may use the list and the detail: the staff roles, as every staff screen (the list through
# this policy, the detail through staff_required). Nobody adds, changes or deletes opinions through
# Wagtail's generic views (status and notes: detail below).
policy = admin_screens.StaffPermissionPolicy(Opinion, actions={"view"})


def _local(moment):
    """Local time without a zone: spreadsheets have none."""
    return timezone.localtime(moment).replace(tzinfo=None)


def _rows(opinions):
    for o in opinions:
        yield [
            o.pk,
            _local(o.created_at),
            o.local_government.code if o.local_government else "",
            str(o.local_government) if o.local_government else "",
            o.get_category_display() if o.category else "",
            o.body,
            o.contact_name,
            o.contact_email,
            o.get_status_display(),
            o.internal_notes,
            _local(o.updated_at),
        ]


def export_response(opinions, fmt: str) -> HttpResponse:
    """The opinions as an Excel or CSV file (kokasen.core.spreadsheets; the CSV with a BOM, for Excel)."""
    if fmt == "csv":
        response = HttpResponse(
            spreadsheets.csv_bytes(COLUMNS, _rows(opinions)), content_type=spreadsheets.CSV_CONTENT_TYPE
        )
    else:
        data = spreadsheets.xlsx_table(COLUMNS, _rows(opinions), sheet="意見箱", widths=WIDTHS, wrap=(5, 9))
        response = HttpResponse(data, content_type=spreadsheets.XLSX_CONTENT_TYPE)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="opinions-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


# --- the list (Wagtail's generic listing) -------------------------------------------------------------


class OpinionFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(label="対応状況", choices=Opinion.Status.choices, empty_label="すべて")
    category = django_filters.ChoiceFilter(label="分類", choices=Opinion.Category.choices, empty_label="すべて")

    class Meta:
        model = Opinion
        fields = ["status", "category"]


def _detail_url(opinion) -> str:
    return reverse("feedback_admin:detail", args=[opinion.pk])


class OpinionIndexView(generic.IndexView):
    """The list, filtered by status, category and text (ご意見, 団体名); ``?export=xlsx|csv``
    writes the same filtered list with our writer, and every export is audited."""

    page_title = "意見箱"
    header_icon = "mail"

    @property
    def no_results_message(self):
        if self.is_searching or self.is_filtering:
            return "条件に合うご意見はありません。条件を変えるか、絞り込みを解除してください。"
        return "ご意見はまだ届いていません。自治体が会員エリアの「意見箱」から送ると、ここに新しい順に表示されます。"

    search_fields = ["body", "local_government__name"]
    columns = [
        Column("pk", label="番号", sort_key="pk"),
        Column(
            "created_at",
            label="受付日時",
            sort_key="created_at",
            accessor=lambda o: timezone.localtime(o.created_at).strftime("%Y-%m-%d %H:%M"),
        ),
        Column("local_government", label="自治体", accessor=lambda o: str(o.local_government or "—")),
        Column("category", label="分類", accessor=lambda o: o.get_category_display() or "—"),
        TitleColumn("body", label="ご意見", accessor=lambda o: Truncator(o.body).chars(60), get_url=_detail_url),
        Column("status", label="対応状況", accessor="get_status_display", sort_key="status"),
    ]

    def get(self, request, *args, **kwargs):
        if "export" in request.GET and not self.is_export:
            raise Http404  # only xlsx and csv
        return super().get(request, *args, **kwargs)

    def get_base_queryset(self):
        return selectors.opinions_for_staff(user=self.request.user)  # the one read of opinions

    @cached_property
    def search_query(self):
        return super().search_query.strip()[:100]

    @cached_property
    def show_export_buttons(self):
        return True

    @cached_property
    def header_buttons(self):
        return [
            HeaderButton("Excelで書き出す", url=self.xlsx_export_url, icon_name="download", priority=10),
            HeaderButton("CSVで書き出す", url=self.csv_export_url, icon_name="download", priority=20),
        ]

    @cached_property
    def header_more_buttons(self):
        return []

    def as_spreadsheet(self, queryset, spreadsheet_format):
        audit_record(
            action="feedback.exported",
            acting_user=self.request.user,
            request=self.request,
            detail={"format": spreadsheet_format, "count": queryset.count()},
        )
        return export_response(queryset, spreadsheet_format)


# --- one opinion (our own screen: status and notes are an audited workflow) ---------------------------


def _crumbs(title, parent=None):
    parents = ((reverse("feedback_admin:index"), "意見箱"),) if parent else ()
    return admin_screens.screen_context(title, icon="mail", parents=parents)


@staff_required
def detail(request, pk):
    try:
        opinion = selectors.opinion_for_staff(user=request.user, pk=pk)
    except Opinion.DoesNotExist:
        raise Http404 from None
    form = OpinionStatusForm(
        request.POST or None, initial={"status": opinion.status, "internal_notes": opinion.internal_notes}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.opinion_update(
                opinion=opinion,
                acting_user=request.user,
                status=form.cleaned_data["status"],
                internal_notes=form.cleaned_data["internal_notes"],
                request=request,
            )
        except Refused as refused:
            refusals.show_on_form(form, refused)
        else:
            messages.success(request, "対応状況を保存しました。")
            return redirect("feedback_admin:detail", pk=opinion.pk)
    context = {**_crumbs(f"ご意見 #{opinion.pk}", parent=True), "opinion": opinion, "form": form}
    return TemplateResponse(request, "feedback/admin/detail.html", context)


class OpinionViewSet(ModelViewSet):
    """/admin/feedback/: the list (Wagtail's), its results fragment and one opinion (ours).
    No add, edit, copy, delete, history or usage views: opinions come only from members."""

    model = Opinion
    name = "feedback"
    url_namespace = "feedback_admin"
    icon = "mail"
    index_view_class = OpinionIndexView
    filterset_class = OpinionFilterSet
    list_per_page = PER_PAGE
    add_to_reference_index = False
    copy_view_enabled = False
    export_filename = "opinions"

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("<int:pk>/", detail, name="detail"),
        ]

    def get_common_view_kwargs(self, **kwargs):
        # Only the routes above exist: no links to the generic add/edit/delete/history views.
        return super().get_common_view_kwargs(
            **{
                "add_url_name": None,
                "edit_url_name": None,
                "delete_url_name": None,
                "history_url_name": None,
                "usage_url_name": None,
                **kwargs,
            }
        )

    def get_permissions_to_register(self):
        return super().get_permissions_to_register().none()  # the policy decides, not Django permissions

    def register_admin_url_finder(self):
        pass  # no edit view to find; the notices link to the detail by its URL
