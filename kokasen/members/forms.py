"""The document form of the Wagtail admin (WAGTAILDOCS_DOCUMENT_FORM_BASE).

Every upload, single or multiple, is checked by ``uploads.check_upload`` (allowlisted
extension, content that matches it, size limit of its kind) and stored under a safe name
(``uploads.safe_storage_name``); the title the editor sees keeps the Japanese.
"""

from django import forms
from django.conf import settings
from wagtail.documents.forms import BaseDocumentForm

from . import uploads


def limits() -> uploads.Limits:
    return uploads.Limits(document=settings.DOCUMENT_MAX_UPLOAD_SIZE, video=settings.VIDEO_MAX_UPLOAD_SIZE)


def allowed_extensions() -> set[str]:
    return {ext.lower() for ext in settings.WAGTAILDOCS_EXTENSIONS}


def help_text() -> str:
    lim = limits()
    return (
        f"PDF・Word・Excel・PowerPoint・CSV・テキスト・ZIP は {uploads.megabytes(lim.document)} まで、"
        f"動画（MP4・WebM）は {uploads.megabytes(lim.video)} まで、"
        f"字幕（WebVTT、UTF-8）は {uploads.megabytes(uploads.CAPTION_MAX_SIZE)} までです。"
        "個人情報を含むファイルは、氏名を番号に置き換えるなどしてから登録してください。"
    )


class SafeDocumentForm(BaseDocumentForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "file" in self.fields:
            self.fields["file"].help_text = help_text()

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if not upload or upload is self.original_file or not hasattr(upload, "content_type"):
            return upload  # unchanged on edit
        problems = uploads.check_upload(upload.name, upload.size, upload, limits(), allowed_extensions())
        if problems:
            raise forms.ValidationError(problems, code="invalid_upload")
        upload.name = uploads.safe_storage_name(upload.name)
        return upload
