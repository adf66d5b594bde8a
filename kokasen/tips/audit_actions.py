"""Japanese labels and sentences of the 小ネタ board's audit actions (kokasen/core/audit_actions.py)."""

from kokasen.core.audit_actions import change_clause, choice_labels, register, register_detail_names, register_groups

from .models import BoardSettings, FieldUse, ModerationMode, PostState

STATES = choice_labels(PostState.choices)


def _move(detail: dict) -> str:
    """「（承認待ち → 公開中、理由を記入、本文を修正）」"""
    parts = []
    if detail.get("from") and detail.get("to"):
        parts.append(f"{STATES.get(detail['from'], detail['from'])} → {STATES.get(detail['to'], detail['to'])}")
    if detail.get("reason_given"):
        parts.append("理由を記入")
    if detail.get("body_edited"):
        parts.append("本文を修正")
    return f"（{'、'.join(parts)}）" if parts else ""


def setting_names() -> dict[str, str]:
    names = {
        field.name: str(field.verbose_name)
        for field in BoardSettings._meta.get_fields()
        if hasattr(field, "verbose_name")
    }
    return names


SETTING_VALUES = {"mode": choice_labels(ModerationMode.choices)} | {
    name: choice_labels(FieldUse.choices)
    for name in ("field_local_government", "field_email", "field_department", "field_person_name")
}


def settings_changes(detail: dict) -> str:
    changes = detail.get("changes")
    return change_clause(changes, names=setting_names(), values=SETTING_VALUES) if isinstance(changes, dict) else ""


for code, label, sentence, detail in (
    ("tips.post_submitted", "小ネタの投稿", "{by}{target}を投稿しました。", _move),
    ("tips.post_edited", "小ネタの投稿の修正", "{by}{target}を修正しました。", _move),
    ("tips.post_withdrawn", "小ネタの投稿の取り下げ", "{by}{target}を取り下げました。", _move),
    ("tips.post_approved", "小ネタの投稿の承認", "{by}{target}を承認しました。", _move),
    ("tips.post_rejected", "小ネタの投稿の不承認", "{by}{target}を不承認にしました。", _move),
    ("tips.post_hidden", "小ネタの投稿の非表示", "{by}{target}を非表示にしました。", _move),
    ("tips.topic_created", "お題の作成", "{by}お題「{target}」を作成しました。", None),
    ("tips.topic_changed", "お題の変更", "{by}お題「{target}」を変更しました。", None),
    ("tips.topic_closed", "お題の受付終了", "{by}お題「{target}」の受付を終了しました。", None),
    ("tips.settings_changed", "小ネタの設定の変更", "{by}小ネタの設定を変更しました。", settings_changes),
):
    register(code, label, sentence, detail=detail)

register_detail_names(
    {
        "from": "変更前",
        "to": "変更後",
        "reason_given": "理由の記入",
        "body_edited": "本文の修正",
        "changes": "変更",
        "changed": "変更した項目",
    },
    values={"from": STATES, "to": STATES},
)
register_groups({"tips": "小ネタ"})
