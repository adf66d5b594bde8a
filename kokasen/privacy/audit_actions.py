"""Japanese labels and sentences of the personal-data disposal's audit actions (kokasen/core/audit_actions.py)."""

from kokasen.core.audit_actions import register, register_detail_names, register_groups

register("privacy.disposed", "個人情報の廃棄", "{by}個人情報（{target}）を廃棄し、証跡を記録しました。")
register("privacy.retention_applied", "保存期間を過ぎた記録の削除", "保存期間を過ぎた記録を削除しました。")
register_detail_names(
    {
        "scope": "範囲",
        "counts": "件数",
        "files": "ファイル数",
        "log_files": "ログファイル数",
        "backup": "バックアップ",
        "verified": "確認",
    }
)
register_groups({"privacy": "個人情報"})
