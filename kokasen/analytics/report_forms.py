"""The forms of the 効果分析報告書's screens (decision 0052)."""

from __future__ import annotations

import datetime as dt

from django import forms

from .models import ReportSettings

MAX_DAYS = 3 * 366  # a period longer than three years is refused (the report would be unreadable)


class DateInput(forms.DateInput):
    input_type = "date"


class PeriodForm(forms.Form):
    start = forms.DateField(label="期間の初日", widget=DateInput(format="%Y-%m-%d"))
    end = forms.DateField(label="期間の末日", widget=DateInput(format="%Y-%m-%d"))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError("期間の末日は初日と同じか、それより後の日にしてください。")
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError("期間は3年以内にしてください。")
            if start > dt.date.today() + dt.timedelta(days=1):
                raise forms.ValidationError("期間の初日が先の日付です。")
        return data


class ReportSettingsForm(forms.ModelForm):
    """Title and cover lines, and the sections as checkboxes (checked: in the report)."""

    sections = forms.MultipleChoiceField(
        label="載せる項目",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="チェックを外した項目は、報告書（Word・PDF・別添の Excel）に載せません。定義（数え方）の章は必ず載せます。",
    )

    class Meta:
        model = ReportSettings
        fields = ["title", "recipient", "issuer"]

    def __init__(self, *args, available: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.available = available
        self.fields["sections"].choices = available
        off = set(self.instance.sections_off or [])
        self.fields["sections"].initial = [key for key, _ in available if key not in off]

    def sections_off(self) -> list[str]:
        """Keys switched off: the unchecked ones, and those switched off before that are not
        offered now (kept, so a section that comes back stays off)."""
        offered = {key for key, _ in self.available}
        checked = set(self.cleaned_data["sections"])
        kept = [key for key in self.instance.sections_off or [] if key not in offered]
        return sorted({*kept, *(offered - checked)})
