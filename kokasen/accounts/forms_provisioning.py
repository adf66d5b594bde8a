"""Forms of the self-service pages (password reset request) and the admin import screen."""

import re
import unicodedata

from django import forms

from kokasen.core.tables import MAX_FILE_BYTES


class PasswordResetRequestForm(forms.Form):
    code = forms.CharField(
        label="団体コード（ユーザーID）",
        max_length=20,
        help_text="6桁の全国地方公共団体コードです（例：札幌市は 011002）。",
        widget=forms.TextInput(attrs={"autocomplete": "username", "inputmode": "numeric", "spellcheck": "false"}),
        error_messages={"required": "団体コードを入力してください。"},
    )

    def clean_code(self):
        code = re.sub(r"\s+", "", unicodedata.normalize("NFKC", self.cleaned_data["code"]))
        if not re.fullmatch(r"[0-9]{6}", code):
            raise forms.ValidationError("団体コードは6桁の半角数字で入力してください（例：011002）。")
        return code


class AddressListUploadForm(forms.Form):
    file = forms.FileField(
        label="アドレス一覧のファイル",
        help_text=(
            "Excel（.xlsx）または CSV（UTF-8、BOM付きUTF-8、Shift_JIS）。"
            "1行目に「団体コード」「団体名」「メールアドレス」の見出しが必要です。"
            f"{MAX_FILE_BYTES // 1024 // 1024} MB まで。"
        ),
        error_messages={"required": "ファイルを選んでください。", "empty": "ファイルが空です。"},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"ファイルが大きすぎます。{MAX_FILE_BYTES // 1024 // 1024} MB 以下にしてください。"
            )
        return upload


def accessible(form):
    """Give every widget the portal's class, its hint and error ids in aria-describedby and
    aria-invalid when it has an error (templates/accounts/includes/field.html shows them).
    A form with errors autofocuses its error summary (components/error_summary.html), so no
    field keeps Django's own ``autofocus``: a page has at most one."""
    for bound in form:
        attrs = bound.field.widget.attrs
        attrs["class"] = "app-form__input"
        if form.errors:
            attrs.pop("autofocus", None)
        described = [f"{bound.auto_id}-hint"] if bound.help_text else []
        if bound.errors:
            described.insert(0, f"{bound.auto_id}-error")
            attrs["aria-invalid"] = "true"
        if described:
            attrs["aria-describedby"] = " ".join(described)
    return form
