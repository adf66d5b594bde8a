"""Forms of the meeting admin screens. Messages in Japanese; services check what matters again."""

import hashlib

from django import forms
from django.core.validators import URLValidator
from django.forms import inlineformset_factory, modelformset_factory
from wagtail.documents import get_document_model

from kokasen.core.forms import COUNT_TEXT
from kokasen.core.tables import MAX_FILE_BYTES
from kokasen.localgov.models import LocalGovernment

from .models import CasePresentation, Meeting, MeetingKind, MeetingSession, Room

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
GOAL_MAX = 2000
TITLE_MAX = Meeting._meta.get_field("title").max_length


def _datetime_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
        error_messages={"invalid": "日時は「2026-06-10 14:00」の形で入力してください。"},
    )


class MeetingForm(forms.ModelForm):
    class Meta:
        model = Meeting
        fields = [
            "kind",
            "title",
            "area",
            "tool",
            "capacity_per_url",
            "min_group_size",
            "max_group_size",
            "max_population_ratio",
        ]
        error_messages = {
            "kind": {"required": "種類を選んでください。", "invalid_choice": "種類を選んでください。"},
            "title": {
                "required": "名称を入力してください。",
                "max_length": f"名称は{TITLE_MAX}文字以内で入力してください。",
            },
            "tool": {"required": "会議ツールを選んでください。", "invalid_choice": "会議ツールを選んでください。"},
            "capacity_per_url": {
                "required": "1つの会議URLの定員を入力してください。",
                "invalid": "定員は半角数字で入力してください。",
                "min_value": "定員は1人以上にしてください。",
            },
            "min_group_size": {
                "required": "グループの最小人数を入力してください。",
                "invalid": "人数は半角数字で入力してください。",
                "min_value": "人数は1人以上にしてください。",
            },
            "max_group_size": {
                "required": "グループの最大人数を入力してください。",
                "invalid": "人数は半角数字で入力してください。",
                "min_value": "人数は1人以上にしてください。",
            },
            "max_population_ratio": {
                "required": "人口差の目安を入力してください。",
                "invalid": "人口差の目安は数字で入力してください（例：3）。",
                "max_digits": "人口差の目安は99999倍以下にしてください。",
                "max_decimal_places": "人口差の目安は小数第1位までで入力してください。",
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "area"
        ].help_text = "町村職員の情報交換会では必ず選びます（東日本・西日本）。都道府県職員の会では空欄にします。"
        self.fields["area"].error_messages["invalid_choice"] = "エリアを選んでください。"
        for name in ("capacity_per_url", "min_group_size", "max_group_size"):
            self.fields[name].min_value = 1
            self.fields[name].widget.attrs["min"] = 1
            self.fields[name].validators.append(_at_least_one)

    def clean(self):
        data = super().clean()
        kind, area = data.get("kind"), data.get("area")
        if kind == MeetingKind.TOWN and not area:
            self.add_error("area", "町村職員の情報交換会では、エリア（東日本・西日本）を選んでください。")
        if kind == MeetingKind.PREFECTURE:
            data["area"] = ""
            self.instance.area = ""
        low, high = data.get("min_group_size"), data.get("max_group_size")
        if low and high and low > high:
            self.add_error("max_group_size", "グループの最大人数は、最小人数以上にしてください。")
        ratio = data.get("max_population_ratio")
        if ratio is not None and ratio < 1:
            self.add_error("max_population_ratio", "人口差の目安は1倍以上にしてください（例：3）。")
        return data


def _at_least_one(value):
    if value is not None and value < 1:
        raise forms.ValidationError("1以上の数を入力してください。")


class SessionForm(forms.ModelForm):
    starts_at = _datetime_field("開始日時")
    ends_at = _datetime_field("終了日時")

    class Meta:
        model = MeetingSession
        fields = ["starts_at", "ends_at", "agenda"]
        widgets = {"agenda": forms.Textarea(attrs={"rows": 3})}

    def clean_agenda(self):
        agenda = self.cleaned_data["agenda"].strip()
        if len(agenda) > 2000:
            raise forms.ValidationError(f"議題は2000文字以内で入力してください（現在{len(agenda)}文字です）。")
        return agenda

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if ends and not starts:
            self.add_error("starts_at", "終了日時を入れるときは、開始日時も入力してください。")
        elif starts and ends and ends <= starts:
            self.add_error("ends_at", "終了日時は開始日時より後にしてください。")
        return data


class PresentationForm(forms.ModelForm):
    class Meta:
        model = CasePresentation
        fields = ["title", "local_government", "material", "position"]
        error_messages = {
            "title": {
                "required": "発表テーマを入力してください。",
                "max_length": "発表テーマは200文字以内で入力してください。",
            },
            "local_government": {"invalid_choice": "発表団体を一覧から選んでください。"},
            "material": {"invalid_choice": "資料を一覧から選んでください。"},
            "position": {"invalid": "順番は半角数字で入力してください。"},
        }

    def __init__(self, *args, local_governments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if local_governments is not None:
            self.fields["local_government"].queryset = local_governments
        self.fields["local_government"].empty_label = "（選ばない）"
        self.fields["material"].queryset = get_document_model().objects.order_by("-created_at")
        self.fields["material"].empty_label = "（資料なし）"
        self.fields["material"].help_text = "「ドキュメント」に登録した資料から選びます。"
        self.fields["position"].widget.attrs["min"] = 0


PresentationFormSet = inlineformset_factory(
    MeetingSession,
    CasePresentation,
    form=PresentationForm,
    extra=1,
    can_delete=True,
    max_num=20,
    validate_max=True,
)


def presenting_local_governments(kind: str, area: str = ""):
    """Who may present: prefectures at a prefecture meeting; towns and villages (of the area,
    when one is set) at a town meeting."""
    lgs = LocalGovernment.objects.order_by("code")
    if kind == MeetingKind.PREFECTURE:
        return lgs.filter(kind=LocalGovernment.Kind.PREFECTURE)
    lgs = lgs.filter(kind__in=[LocalGovernment.Kind.TOWN, LocalGovernment.Kind.VILLAGE])
    return lgs.filter(area=area) if area else lgs


class RoomForm(forms.ModelForm):
    url = forms.CharField(
        label="会議URL",
        required=False,
        max_length=500,
        validators=[
            URLValidator(schemes=["https", "http"], message="会議URLは https:// で始まる形で入力してください。")
        ],
        error_messages={"max_length": "会議URLは500文字以内で入力してください。"},
        widget=forms.URLInput(attrs={"spellcheck": "false"}),
    )

    class Meta:
        model = Room
        fields = ["name", "url", "facilitator_name", "facilitator_email"]
        labels = {"name": "会議室の名称", "facilitator_name": "ファシリテーターの氏名"}
        help_texts = {"facilitator_email": "ファシリテーター向けの案内メールをこのアドレスに送ります。"}
        error_messages = {
            "name": {
                "required": "会議室の名称を入力してください。",
                "max_length": "名称は60文字以内で入力してください。",
            },
            "facilitator_name": {"max_length": "ファシリテーターの氏名は60文字以内で入力してください。"},
            "facilitator_email": {
                "invalid": "ファシリテーターのメールアドレスの形式が正しくありません（例：facilitator@example.jp）。",
                "max_length": "メールアドレスは254文字以内で入力してください。",
            },
        }

    def clean_url(self):
        return self.cleaned_data["url"].strip()

    def clean(self):
        data = super().clean()
        if data.get("facilitator_email") and not data.get("facilitator_name"):
            self.add_error("facilitator_name", "ファシリテーターの氏名を入力してください（メールの宛名に使います）。")
        return data


RoomFormSet = modelformset_factory(Room, form=RoomForm, extra=0, can_delete=False)


class UploadForm(forms.Form):
    file = forms.FileField(
        label="ファイル",
        help_text=f"Excel（.xlsx）または CSV（UTF-8、BOM付きUTF-8、Shift_JIS）。{MAX_FILE_BYTES // 1024 // 1024} MB まで。",
        error_messages={"required": "ファイルを選んでください。", "empty": "ファイルが空です。"},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"ファイルが大きすぎます。{MAX_FILE_BYTES // 1024 // 1024} MB 以下にしてください。"
            )
        return upload


class LongTextField(forms.CharField):
    """A textarea's text with line ends made "\n" (browsers send "\r\n"), so limits count
    what people see."""

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n").replace("\r", "\n")


def _text_limit(label: str):
    def check(value):
        if len(value) > GOAL_MAX:
            raise forms.ValidationError(f"{label}は{GOAL_MAX}文字以内で入力してください（現在{len(value)}文字です）。")

    return check


def goal_field_suffix(lg, department: str) -> str:
    """The form fields of one unit: ``goal_<lg pk>`` (town meetings), ``goal_<lg pk>_<digest of
    the department>`` (a prefecture's department; stable while the roster changes)."""
    if not department:
        return str(lg.pk)
    return f"{lg.pk}_{hashlib.sha256(department.encode()).hexdigest()[:12]}"


class SummariesForm(forms.Form):
    """協議の概要 of every group of the meeting for both sessions, saved together (issue 16, item 7)."""

    def __init__(self, *args, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.groups = list(groups)
        self.rows = []
        for group in self.groups:
            for half, label in (("first", "上半期"), ("second", "下半期")):
                name = f"{group.name}の協議の概要（{label}）"
                self.fields[f"summary_{half}_{group.pk}"] = LongTextField(
                    label=name,
                    required=False,
                    strip=True,
                    initial=getattr(group, f"summary_{half}"),
                    validators=[_text_limit(name)],
                    widget=forms.Textarea(
                        attrs={"rows": 4, "data-max-chars": str(GOAL_MAX), "data-count-text": COUNT_TEXT}
                    ),
                )
            self.rows.append((group, self[f"summary_first_{group.pk}"], self[f"summary_second_{group.pk}"]))

    def values(self) -> dict:
        """{Group: (上半期, 下半期)} for every group shown."""
        data = self.cleaned_data
        return {g: (data[f"summary_first_{g.pk}"], data[f"summary_second_{g.pk}"]) for g in self.groups}


class GoalsForm(forms.Form):
    """目標（上半期） and 進捗（下半期） for every unit of the roster, saved together: each local
    government (town meetings) or each prefecture and department (prefecture meetings), as
    ``units`` of (LocalGovernment, department) from ``selectors.goal_units``. ``goals`` maps
    (local government id, department) to the saved Goal."""

    def __init__(self, *args, units, goals, **kwargs):
        super().__init__(*args, **kwargs)
        self.units = list(units)
        self.rows = []
        for lg, department in self.units:
            goal = goals.get((lg.pk, department))
            suffix = goal_field_suffix(lg, department)
            who = f"{lg}（{department}）" if department else str(lg)
            for part, label in (("goal", "目標（上半期）"), ("progress", "進捗（下半期）")):
                self.fields[f"{part}_{suffix}"] = LongTextField(
                    label=f"{who}の{label}",
                    required=False,
                    strip=True,
                    initial=getattr(goal, part, "") if goal else "",
                    validators=[_text_limit(f"{who}の{label}")],
                    widget=forms.Textarea(
                        attrs={"rows": 3, "data-max-chars": str(GOAL_MAX), "data-count-text": COUNT_TEXT}
                    ),
                )
            self.rows.append((lg, department, self[f"goal_{suffix}"], self[f"progress_{suffix}"]))

    def values(self) -> dict:
        """{(LocalGovernment, department): (goal, progress)} for every unit shown."""
        data = self.cleaned_data
        out = {}
        for lg, department in self.units:
            suffix = goal_field_suffix(lg, department)
            out[(lg, department)] = (data[f"goal_{suffix}"], data[f"progress_{suffix}"])
        return out
