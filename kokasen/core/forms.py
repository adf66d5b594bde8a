"""Form helpers shared by every app's forms."""

from django import forms

from kokasen.core import text

INPUT_CLASS = "app-form__input"  # static/css/components/form.css
TEXTAREA_CLASS = "app-form__input app-form__textarea"


# The live count under a text area (static/js/components/char-count.js fills {n} and {max}).
COUNT_TEXT = "{n}／{max}文字"


def check_file_size(upload, limit: int, *, hint: str = ""):
    """The upload when it is at most ``limit`` bytes; otherwise the portal's one message for a
    file too large (whole megabytes), with ``hint`` after it (a way to make it smaller)."""
    if upload is not None and upload.size > limit:
        raise forms.ValidationError(
            f"ファイルが大きすぎます。{max(1, limit // 1024 // 1024)} MB 以下にしてください。{hint}"
        )
    return upload


def short_text_field(*, label: str, limit: int, required: bool = True, help_text: str = "", rows: int = 6):
    """A textarea whose limit counts characters as people see them (text.grapheme_count)."""

    def check(value):
        if text.too_long(text.clean(value), limit):
            raise forms.ValidationError(
                f"{limit}文字以内で入力してください（現在{text.grapheme_count(text.clean(value))}文字です）。"
            )

    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        strip=True,
        validators=[check],
        error_messages={"required": f"{label}を入力してください。"},
        widget=forms.Textarea(
            attrs={
                "class": TEXTAREA_CLASS,
                "rows": rows,
                "data-max-chars": str(limit),
                "data-count-text": COUNT_TEXT,
                "spellcheck": "true",
            }
        ),
    )


class DescribedFieldsMixin:
    """Point every input at its hint and error text (aria-describedby, aria-invalid);
    the field templates (templates/accounts/includes/field.html, templates/tips/_field.html)
    render them with these ids."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._describe()

    def full_clean(self):
        super().full_clean()
        self._describe()

    def _describe(self):
        errors = self._errors or {}
        for name, field in self.fields.items():
            field_id = self[name].id_for_label
            ids = [f"{field_id}-hint"] if field.help_text else []
            if errors.get(name):
                ids.append(f"{field_id}-error")
                field.widget.attrs["aria-invalid"] = "true"
            else:
                field.widget.attrs.pop("aria-invalid", None)
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)
