"""Reads of the members area: the initiatives index's filters (prefecture, population band,
keyword) as a plain GET form that works without JavaScript."""

import unicodedata
from urllib.parse import urlencode

from django import forms
from django.db.models import Q

from kokasen.localgov.models import LocalGovernment

# (value, label, lower bound inclusive, upper bound exclusive); populations from the 2020
# census. "unknown" is a local government without a figure (双葉町: population is NULL).
POPULATION_BANDS = [
    ("lt10k", "1万人未満", None, 10_000),
    ("10k-50k", "1万人以上5万人未満", 10_000, 50_000),
    ("50k-200k", "5万人以上20万人未満", 50_000, 200_000),
    ("200k-500k", "20万人以上50万人未満", 200_000, 500_000),
    ("500k+", "50万人以上", 500_000, None),
    ("unknown", "人口の統計なし", None, None),
]
KEYWORD_MAX = 100


def band_q(value: str, prefix: str = "local_government__population") -> Q:
    for key, _label, low, high in POPULATION_BANDS:
        if key == value:
            if key == "unknown":
                return Q(**{f"{prefix}__isnull": True})
            q = Q(**{f"{prefix}__isnull": False})
            if low is not None:
                q &= Q(**{f"{prefix}__gte": low})
            if high is not None:
                q &= Q(**{f"{prefix}__lt": high})
            return q
    raise ValueError(value)


def prefecture_choices():
    rows = LocalGovernment.objects.filter(kind=LocalGovernment.Kind.PREFECTURE).order_by("prefecture_code")
    return [("", "すべての都道府県")] + [(row.prefecture_code, row.prefecture) for row in rows]


def normalise_keyword(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text or "")
    return [word for word in text.split() if word][:5]


class InitiativeFilterForm(forms.Form):
    prefecture = forms.ChoiceField(label="都道府県", required=False)
    population = forms.ChoiceField(
        label="人口規模",
        required=False,
        choices=[("", "すべての人口規模")] + [(key, label) for key, label, _, _ in POPULATION_BANDS],
        help_text="令和2年国勢調査の人口です。",
    )
    q = forms.CharField(
        label="キーワード",
        required=False,
        max_length=KEYWORD_MAX,
        help_text="取組の題名・概要・自治体名から探します。空白で区切ると、すべての語を含むものを探します。",
        error_messages={"max_length": f"キーワードは{KEYWORD_MAX}文字以内で入力してください。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prefecture"].choices = prefecture_choices()
        invalid = "選択肢の中から選んでください。"
        self.fields["prefecture"].error_messages["invalid_choice"] = invalid
        self.fields["population"].error_messages["invalid_choice"] = invalid
        self.fields["q"].widget.attrs.update({"autocomplete": "off", "maxlength": str(KEYWORD_MAX)})

    def valid_values(self) -> dict:
        """The filters that were given correctly (a wrong one is reported and ignored)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned.get(name) for name in self.fields if name not in self.errors and cleaned.get(name)}

    def query_string(self) -> str:
        return urlencode(self.valid_values())


def filter_initiatives(index_page, form: InitiativeFilterForm | None = None):
    from .models import InitiativePage

    pages = (
        InitiativePage.objects.live()
        .child_of(index_page)
        .select_related("local_government")
        .order_by("-published_on", "-pk")
    )
    values = form.valid_values() if form is not None and form.is_bound else {}
    if values.get("prefecture"):
        pages = pages.filter(local_government__prefecture_code=values["prefecture"])
    if values.get("population"):
        pages = pages.filter(band_q(values["population"]))
    for word in normalise_keyword(values.get("q", "")):
        pages = pages.filter(
            Q(title__icontains=word)
            | Q(summary__icontains=word)
            | Q(local_government__name__icontains=word)
            | Q(local_government__prefecture__icontains=word)
            | Q(materials__title__icontains=word)
        )
    return pages.distinct()
