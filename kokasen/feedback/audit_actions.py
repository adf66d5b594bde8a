"""Japanese labels and sentences of the 意見箱's audit actions (kokasen/core/audit_actions.py)."""

from kokasen.core.audit_actions import change_clause, choice_labels, register, register_detail_names, register_groups

from .models import Opinion

STATUSES = choice_labels(Opinion.Status.choices)


def _update(detail: dict) -> str:
    status = {key: value for key, value in detail.items() if key == "status" and isinstance(value, dict)}
    text = change_clause(status, names={"status": "対応状況"}, values={"status": STATUSES})
    if detail.get("internal_notes"):
        text += "（内部メモを更新）"
    return text


register("feedback.opinion_sent", "ご意見の受付", "{by}ご意見「{target}」を送信しました。")
register("feedback.opinion_updated", "ご意見の対応状況の更新", "{by}ご意見「{target}」を更新しました。", detail=_update)
register("feedback.exported", "ご意見の書き出し", "{by}ご意見{count}件を{format}形式で書き出しました。")
register_detail_names(
    {"status": "対応状況", "internal_notes": "内部メモ", "format": "形式", "count": "件数"},
    values={"internal_notes": {"changed": "変更あり"}},
)
register_groups({"feedback": "意見箱"})
