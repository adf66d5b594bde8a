"""Japanese labels and sentences of the members area's audit actions (kokasen/core/audit_actions.py)."""

from kokasen.core.audit_actions import register, register_detail_names, register_groups

register(
    "members.restriction_ensured", "会員ページの閲覧制限の設定", "会員向けページ「{target}」の閲覧制限を設定しました。"
)
register("members.image_protected", "画像の保護", "{by}画像「{target}」を会員だけが見られる場所に移しました。")
register("members.image_unprotected", "画像の保護の解除", "{by}画像「{target}」を公開の場所に移しました。")
register_detail_names({"groups": "閲覧できるグループ", "removed_other_restrictions": "ほかの制限の削除"})
register_groups({"members": "会員ページ"})
