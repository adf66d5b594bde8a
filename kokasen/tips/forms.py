"""Forms of the 小ネタ board (members' side and the admin). Validation messages in Japanese;
services.py checks the same rules again, so a form is never the only guard."""

from django import forms
from django.contrib.auth.models import Group

from kokasen.core.forms import INPUT_CLASS, DescribedFieldsMixin, short_text_field

from .models import CONTACT_FIELDS, BoardSettings, FieldUse, ModerationMode


class PostForm(DescribedFieldsMixin, forms.Form):
    """Body plus the contact fields the board settings ask for (required, optional, or absent)."""

    def __init__(self, *args, board: BoardSettings, local_government=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.board = board
        self.fields["body"] = short_text_field(
            label="本文",
            limit=board.max_length,
            help_text=f"{board.max_length}文字以内。ほかの自治体の方が読みます。個人が特定される情報は書かないでください。",
        )
        use = board.field_local_government
        if use == FieldUse.OPTIONAL:
            self.fields["show_local_government"] = forms.BooleanField(
                label=f"自治体名（{local_government}）を表示する" if local_government else "自治体名を表示する",
                required=False,
                initial=True,
            )
        if board.field_email != FieldUse.HIDDEN:
            self.fields["contact_email"] = forms.EmailField(
                label="連絡先メールアドレス",
                required=board.field_email == FieldUse.REQUIRED,
                max_length=254,
                help_text=(
                    "ほかの自治体の方が、この投稿について連絡するときに使います（ログインした方にだけ表示されます）。"
                    "承認などのお知らせは、この欄ではなく貴団体の登録メールアドレスにお送りします。"
                ),
                error_messages={
                    "required": "連絡先メールアドレスを入力してください。",
                    "invalid": "メールアドレスの形式で入力してください（例：kosodate@city.example.lg.jp）。",
                    "max_length": "メールアドレスは254文字以内で入力してください。",
                },
                widget=forms.EmailInput(attrs={"class": INPUT_CLASS, "autocomplete": "email"}),
            )
        for setting, name, label, max_length, autocomplete in (
            ("field_department", "department", "部署", 100, "organization-title"),
            ("field_person_name", "person_name", "氏名", 60, "name"),
        ):
            if getattr(board, setting) == FieldUse.HIDDEN:
                continue
            self.fields[name] = forms.CharField(
                label=label,
                required=getattr(board, setting) == FieldUse.REQUIRED,
                max_length=max_length,
                error_messages={
                    "required": f"{label}を入力してください。",
                    "max_length": f"{label}は{max_length}文字以内で入力してください。",
                },
                widget=forms.TextInput(attrs={"class": INPUT_CLASS, "autocomplete": autocomplete}),
            )
        self._describe()

    def contact(self) -> dict:
        data = self.cleaned_data
        return {
            name: data.get(name, "") for name in ("show_local_government", "contact_email", "department", "person_name")
        }


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="不承認の理由（投稿者に伝わります）",
        max_length=1000,
        error_messages={
            "required": "不承認の理由を入力してください。",
            "max_length": "理由は1000文字以内で入力してください。",
        },
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class BoardSettingsForm(forms.ModelForm):
    exempt_groups = forms.ModelMultipleChoiceField(
        label="事前承認を省くグループ",
        queryset=Group.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=BoardSettings._meta.get_field("exempt_groups").help_text,
    )

    class Meta:
        model = BoardSettings
        fields = ["mode", "exempt_groups", "max_length", *CONTACT_FIELDS]
        widgets = {"mode": forms.RadioSelect}
        help_texts = {
            "mode": "切り替えても、すでに承認・不承認・非表示にした投稿は変わりません。承認待ちの投稿は承認待ちのままです。",
        }

    def clean_mode(self):
        mode = self.cleaned_data["mode"]
        if mode not in ModerationMode.values:
            raise forms.ValidationError("受付の方式を選んでください。")
        return mode
