"""Japanese labels and sentences of the operations screens' audit actions (kokasen/core/audit_actions.py)."""

from kokasen.core.audit_actions import register, register_detail_names, register_groups

for code, label, sentence in (
    ("ops.alert_escalated", "アラートの連絡", "アラート「{target}」を連絡先（{step}番目）に知らせました。"),
    ("ops.alert_acknowledged", "アラートへの対応", "{by}アラート「{target}」に対応の記録を残しました。"),
    ("ops.alert_noted", "アラートへのメモ", "{by}アラート「{target}」にメモを追加しました。"),
    ("ops.contact_added", "緊急連絡先の追加", "{by}緊急連絡先「{target}」を追加しました。"),
    ("ops.contact_changed", "緊急連絡先の変更", "{by}緊急連絡先「{target}」を変更しました。"),
    ("ops.contact_deleted", "緊急連絡先の削除", "{by}緊急連絡先「{target}」を削除しました。"),
    ("ops.incident_added", "インシデントの登録", "{by}インシデント「{target}」を登録しました。"),
    ("ops.incident_changed", "インシデントの変更", "{by}インシデント「{target}」を変更しました。"),
    ("ops.incident_entry_added", "インシデントの経過の記録", "{by}インシデント「{target}」に経過を記録しました。"),
    ("antivirus.file_scanned", "ファイルのウイルス検査", "ファイル「{target}」をウイルス検査しました。"),
):
    register(code, label, sentence)

register_detail_names(
    {
        "step": "連絡の順番",
        "position": "順番",
        "role": "役割",
        "fields": "変更した項目",
        "kind": "種類",
        "entry": "記録の番号",
        "rule": "検知ルール",
        "key": "対象",
        "note": "メモ",
        "path": "ファイル",
        "size": "サイズ（バイト）",
        "scanner": "検査サーバー",
        "os_user": "実行したOSユーザー",
        "result": "結果",
    },
    values={"result": {"failed": "失敗", "succeeded": "成功", "clean": "問題なし", "infected": "ウイルスを検出"}},
)
register_groups({"ops": "運用・セキュリティ", "antivirus": "ウイルス検査"})
