"""Japanese labels and sentences of the core app's own audit actions (kokasen/core/audit_actions.py)."""

from .audit_actions import register, register_detail_names
from .upload_scan import AUDIT_ACTION

register(
    AUDIT_ACTION,
    "アップロードの拒否（ウイルス検出）",
    "{by}アップロードしたファイル「{target}」を、ウイルス検査の結果により受け付けませんでした。",
)
register_detail_names({"signature": "検出名", "name": "ファイル名"})
