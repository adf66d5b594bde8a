"""Forms of the 「緊急連絡先」 and 「事故」 screens (decision 0034)."""

from __future__ import annotations

import re

from django import forms

from .models import Alert, EmergencyContact, Incident, IncidentEntry

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"]
TEXT_MAX = 8000


class LocalDateTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", DATETIME_FORMATS)
        super().__init__(**kwargs)


def _described(form: forms.Form) -> None:
    """Tie each field's help text to its input for screen readers (the template's -hint ids)."""
    for name, field in form.fields.items():
        if field.help_text:
            field.widget.attrs.setdefault("aria-describedby", f"id_{name}-hint")


class ContactForm(forms.ModelForm):
    class Meta:
        model = EmergencyContact
        fields = ["position", "role", "name", "phone", "email", "hours", "active"]
        widgets = {"phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"].min_value = 1
        self.fields["position"].widget.attrs["min"] = 1
        _described(self)

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and not re.fullmatch(r"[0-9０-９+()（）\-－ ]{4,40}", phone):
            raise forms.ValidationError("電話番号は数字とハイフンで入力してください（例：03-1234-5678）。")
        return phone

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("active") and not cleaned.get("email") and not cleaned.get("phone"):
            self.add_error("email", "連絡先として使う場合は、メールアドレスか電話番号を入力してください。")
        return cleaned


class IncidentForm(forms.ModelForm):
    detected_at = LocalDateTimeField(label="検知した日時")
    oral_reported_at = LocalDateTimeField(label="こども家庭庁への第一報（口頭）", required=False)
    written_reported_at = LocalDateTimeField(label="書面での報告", required=False)
    closed_at = LocalDateTimeField(label="終結した日時", required=False)
    alert_numbers = forms.CharField(
        label="関連するアラートの番号",
        required=False,
        max_length=300,
        help_text="「運用・セキュリティ」のアラート番号を、読点かカンマで区切って入力します（例：12, 15）。",
    )

    class Meta:
        model = Incident
        fields = [
            "title",
            "kind",
            "detected_at",
            "summary",
            "oral_reported_at",
            "oral_reported_to",
            "written_reported_at",
            "cause",
            "measures",
            "closed_at",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 4, "maxlength": TEXT_MAX}) for name in ("summary", "cause", "measures")
        }
        help_texts = {"oral_reported_to": "例：こども家庭庁 支援局 ○○課 担当者"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["alert_numbers"].initial = ", ".join(
                str(pk) for pk in self.instance.alerts.values_list("pk", flat=True)
            )
        _described(self)

    def clean_alert_numbers(self) -> list[Alert]:
        text = self.cleaned_data["alert_numbers"]
        numbers = [part for part in re.split(r"[\s,、，#＃]+", text) if part]
        if any(not n.isdigit() for n in numbers):
            raise forms.ValidationError("アラートの番号は数字で入力してください（例：12, 15）。")
        wanted = {int(n) for n in numbers}
        found = list(Alert.objects.filter(pk__in=wanted).order_by("pk"))
        missing = sorted(wanted - {a.pk for a in found})
        if missing:
            raise forms.ValidationError(f"アラート #{', #'.join(map(str, missing))} はありません。")
        return found

    def clean(self):
        cleaned = super().clean()
        detected = cleaned.get("detected_at")
        for name in ("oral_reported_at", "written_reported_at", "closed_at"):
            value = cleaned.get(name)
            if detected and value and value < detected:
                self.add_error(name, "検知した日時より前の日時は入力できません。")
        for name in ("summary", "cause", "measures"):
            if len(cleaned.get(name) or "") > TEXT_MAX:
                self.add_error(name, f"{TEXT_MAX:,}文字以内で入力してください。")
        return cleaned


class EntryForm(forms.ModelForm):
    at = LocalDateTimeField(label="日時")

    class Meta:
        model = IncidentEntry
        fields = ["at", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "maxlength": 2000})}
        labels = {"text": "内容（何が起き、何をしたか）"}

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if len(text) > 2000:
            raise forms.ValidationError("2,000文字以内で入力してください。")
        return text
