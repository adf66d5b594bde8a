"""Japanese labels and sentences of the 情報交換会's audit actions (kokasen/core/audit_actions.py)."""

from kokasen.core.audit_actions import register, register_groups

for code, label, sentence in (
    ("meetings.meeting_created", "情報交換会の作成", "{by}情報交換会「{target}」を作成しました。"),
    ("meetings.meeting_changed", "情報交換会の変更", "{by}情報交換会「{target}」を変更しました。"),
    ("meetings.goals_changed", "目標の変更", "{by}「{target}」の目標を変更しました。"),
    ("meetings.group_summaries_changed", "グループの記録の変更", "{by}「{target}」のグループの記録を変更しました。"),
    ("meetings.attendance_recorded", "出欠の記録", "{by}「{target}」の出欠を記録しました。"),
    ("meetings.roster_imported", "参加者名簿の取り込み", "{by}「{target}」の参加者名簿を取り込みました。"),
    (
        "meetings.center_list_imported",
        "センター設置状況の取り込み",
        "{by}こども家庭センターの設置状況の一覧を取り込みました。",
    ),
    ("meetings.department_roles_confirmed", "担当部署の役割の確定", "{by}「{target}」の担当部署の役割を確定しました。"),
    ("meetings.grouping_proposed", "グループ分けの案の作成", "{by}「{target}」のグループ分けの案を作成しました。"),
    ("meetings.grouping_approved", "グループ分けの確定", "{by}「{target}」のグループ分けを確定しました。"),
    (
        "meetings.grouping_approval_withdrawn",
        "グループ分けの確定の取り消し",
        "{by}「{target}」のグループ分けの確定を取り消しました。",
    ),
    (
        "meetings.grouping_participant_moved",
        "参加者のグループの変更",
        "{by}「{target}」で参加者のグループを変更しました。",
    ),
    (
        "meetings.grouping_local_government_moved",
        "自治体のグループの変更",
        "{by}「{target}」で自治体のグループを変更しました。",
    ),
    ("meetings.group_created", "グループの追加", "{by}「{target}」にグループを追加しました。"),
    ("meetings.group_deleted", "グループの削除", "{by}「{target}」のグループを削除しました。"),
    ("meetings.rooms_assigned", "会議室の割り当て", "{by}「{target}」のグループに会議室（URL）を割り当てました。"),
    ("meetings.rooms_changed", "会議室の変更", "{by}「{target}」の会議室（URL）を変更しました。"),
    ("meetings.invitations_queued", "案内メールの送信待ち", "{by}「{target}」の案内メールを送信待ちにしました。"),
    ("meetings.survey_imported", "アンケートの取り込み", "{by}「{target}」のアンケート結果を取り込みました。"),
    ("meetings.survey_deleted", "アンケートの削除", "{by}「{target}」のアンケート結果を削除しました。"),
    ("meetings.export_downloaded", "名簿・資料のダウンロード", "{by}「{target}」のファイルをダウンロードしました。"),
    ("meetings.room_sheet_viewed", "会議室の一覧の表示", "{by}「{target}」の会議室ごとの一覧を表示・印刷しました。"),
):
    register(code, label, sentence)
register_groups({"meetings": "情報交換会"})
