"""Japanese labels and sentences of the access analytics' audit actions (kokasen/core/audit_actions.py)."""

from kokasen.core.audit_actions import choice_labels, register, register_detail_names, register_groups

from .models import GeneratedReport

for code, label, sentence in (
    (
        "analytics.access_log_imported",
        "アクセスログの取り込み",
        "{by}アクセスログ「{target}」を取り込みました（{lines}行、うち読めない行{bad_lines}）。",
    ),
    ("analytics.report_generated", "効果分析報告書の作成", "{by}効果分析報告書（{start}～{end}）を作成しました。"),
    ("analytics.report_settings_changed", "報告書の設定の変更", "{by}効果分析報告書の設定を変更しました。"),
):
    register(code, label, sentence)

register_detail_names(
    {
        "sha256": "SHA-256",
        "gzip": "gzip 圧縮",
        "lines": "行数",
        "bad_lines": "読めない行",
        "bot_requests": "ボットのリクエスト",
        "page_views": "アクセス数",
        "downloads": "ダウンロード数",
        "first_day": "最初の日",
        "last_day": "最後の日",
        "start": "期間の初日",
        "end": "期間の末日",
        "origin": "作成のきっかけ",
        "sections": "載せた表",
    },
    values={"origin": choice_labels(GeneratedReport.ORIGINS)},
)
register_groups({"analytics": "アクセス解析"})
