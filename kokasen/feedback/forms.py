from django import forms

from kokasen.core.forms import INPUT_CLASS, DescribedFieldsMixin, short_text_field

from .models import Opinion
from .services import BODY_MAX


class OpinionForm(DescribedFieldsMixin, forms.Form):
    category = forms.ChoiceField(
        label="分類",
        required=False,
        choices=[("", "選ばない"), *Opinion.Category.choices],
        error_messages={"invalid_choice": "分類を一覧から選んでください。"},
        widget=forms.Select(attrs={"class": INPUT_CLASS}),
    )
    body = short_text_field(
        label="ご意見",
        limit=BODY_MAX,
        rows=8,
        help_text=f"{BODY_MAX}文字以内。こども家庭庁と運営事務局（受託者）だけが読みます。個人が特定される情報は書かないでください。",
    )
    contact_name = forms.CharField(
        label="連絡先（部署・氏名）",
        required=False,
        max_length=100,
        help_text="回答や確認が必要なときの連絡先です。空欄でもかまいません。",
        error_messages={"max_length": "連絡先（部署・氏名）は100文字以内で入力してください。"},
        widget=forms.TextInput(attrs={"class": INPUT_CLASS, "autocomplete": "organization-title"}),
    )
    contact_email = forms.EmailField(
        label="連絡先メールアドレス",
        required=False,
        max_length=254,
        error_messages={
            "invalid": "メールアドレスの形式で入力してください（例：kosodate@city.example.lg.jp）。",
            "max_length": "メールアドレスは254文字以内で入力してください。",
        },
        widget=forms.EmailInput(attrs={"class": INPUT_CLASS, "autocomplete": "email"}),
    )


class OpinionStatusForm(forms.Form):
    status = forms.ChoiceField(label="対応状況", choices=Opinion.Status.choices)
    internal_notes = forms.CharField(
        label="内部メモ（自治体には見えません）",
        required=False,
        max_length=4000,
        error_messages={"max_length": "内部メモは4000文字以内で入力してください。"},
        widget=forms.Textarea(attrs={"rows": 5}),
    )
