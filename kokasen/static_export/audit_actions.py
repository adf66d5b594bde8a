"""Japanese labels and sentences of the static export's audit actions (kokasen/core/audit_actions.py)."""

from kokasen.core.audit_actions import register, register_detail_names, register_groups

register(
    "static_export.written", "静的サイトの書き出し", "静的サイトを「{target}」に書き出しました（{files}ファイル）。"
)
for code, label, sentence in (
    ("static_export.build_requested", "書き出しの依頼", "{by}静的サイトの書き出し（{target}）を依頼しました。"),
    ("static_export.built", "書き出しの完了", "静的サイトの書き出し（{target}）が終わりました（{files}ファイル）。"),
    ("static_export.build_failed", "書き出しの失敗", "静的サイトの書き出し（{target}）が失敗しました。"),
    (
        "static_export.build_abandoned",
        "書き出しの打ち切り",
        "静的サイトの書き出し（{target}）が進まなくなったため、終わったものとして扱いました。",
    ),
    ("static_export.downloaded", "ZIP のダウンロード", "{by}静的サイトの ZIP（{target}）をダウンロードしました。"),
    ("static_export.pruned", "古い ZIP の削除", "古い静的サイトの ZIP を削除しました（新しい{kept}個を残しました）。"),
):
    register(code, label, sentence)

register_detail_names(
    {
        "out_dir": "書き出し先",
        "files": "ファイル数",
        "incremental": "差分の書き出し",
        "heartbeat_at": "最後に進んだ時刻",
        "structure": "構成",
        "design": "デザイン",
        "zip": "ZIP ファイル",
        "bytes": "大きさ（バイト）",
        "error": "エラーの種類",
        "zips": "削除した ZIP",
        "kept": "残した数",
    }
)
register_groups({"static_export": "静的サイト"})
