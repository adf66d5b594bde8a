"""Japanese labels and sentences of the static export's audit actions (kokasen/core/audit_actions.py)."""

from kokasen.core.audit_actions import register, register_detail_names, register_groups

register(
    "static_export.written", "静的サイトの書き出し", "静的サイトを「{target}」に書き出しました（{files}ファイル）。"
)
register_detail_names({"out_dir": "書き出し先", "files": "ファイル数", "incremental": "差分の書き出し"})
register_groups({"static_export": "静的サイト"})
