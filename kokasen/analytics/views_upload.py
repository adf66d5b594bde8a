"""「アクセスログの取り込み」: the agency's own web server's access logs uploaded in the admin
(decision 0057). 管理者 and 受託者 with a verified TOTP session only."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from kokasen.accounts.access import staff_required
from kokasen.core.forms import check_file_size

from . import ingest, uploads

TITLE = "アクセスログの取り込み"


def _megabytes() -> int:
    return max(1, settings.ANALYTICS_UPLOAD_MAX_SIZE // (1024 * 1024))


class AccessLogUploadForm(forms.Form):
    file = forms.FileField(
        label="アクセスログのファイル",
        error_messages={"required": "ファイルを選んでください。", "empty": "ファイルが空です。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            "nginx・Apache の combined 形式、またはこのポータルの JSON 形式のアクセスログ。"
            f"そのままでも gzip 圧縮（.gz）でも読めます。{_megabytes()} MB まで"
            f"（gzip 圧縮のものは展開して {settings.ANALYTICS_UPLOAD_MAX_CONTENT_SIZE // 1024 // 1024} MB まで）。"
        )

    def clean_file(self):
        limit = settings.ANALYTICS_UPLOAD_MAX_SIZE
        return check_file_size(self.cleaned_data["file"], limit, hint="gzip で圧縮すると小さくなります。")


@require_http_methods(["GET", "POST"])
@staff_required
def access_log_upload(request):
    form = AccessLogUploadForm(request.POST or None, request.FILES or None)
    context = {
        "page_title": TITLE,
        "header_title": TITLE,
        "header_icon": "upload",
        "breadcrumbs_items": [{"url": reverse("wagtailadmin_home"), "label": "ホーム"}, {"url": "", "label": TITLE}],
        "form": form,
        "limit_mb": _megabytes(),
    }
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                context["result"] = uploads.import_upload(
                    form.cleaned_data["file"], acting_user=request.user, request=request
                )
                form = context["form"] = AccessLogUploadForm()
            except ingest.Busy:
                context["busy"] = True
                status = 409
            except uploads.TooLarge as too_large:
                form.add_error(
                    "file",
                    f"展開すると {too_large.limit // 1024 // 1024} MB を超えるため、この画面では取り込めません"
                    "（何も数えていません）。サーバーで kokasen-manage ingest_access_logs を使って取り込んでください。",
                )
                status = 400
        else:
            status = 400
    context["recent"] = uploads.recent_imports()
    return TemplateResponse(request, "analytics/admin/access_log_upload.html", context, status=status)
