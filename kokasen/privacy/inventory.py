"""Where the portal holds personal data (issue 14 item 1; the table in docs/security.md).

``MODELS`` lists every model field holding personal data, with the date that says how old a row
is, its retention (PRIVACY_RETENTION_DAYS) and the disposal scope that removes it. ``NOT_PERSONAL``
lists the fields whose names look personal but are not, with the reason. test_inventory.py fails
when a model gains a personal-looking field that is in neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Min, Q
from django.utils import timezone


@dataclass(frozen=True)
class Entry:
    model: str  # app_label.ModelName
    fields: tuple[str, ...]
    what: str
    date_field: str
    retention: str  # a key of PRIVACY_RETENTION_DAYS, or how long it stays
    disposal: str  # the dispose_personal_data scopes that remove it


MODELS = [
    Entry(
        "meetings.Participant",
        ("name", "email", "department", "position"),
        "情報交換会の参加者名簿",
        "meeting__created_at",
        "会議ごとに廃棄を指示されるまで",
        "meeting, contract-end",
    ),
    Entry(
        "meetings.Room",
        ("facilitator_name", "facilitator_email"),
        "ファシリテーター",
        "meeting__created_at",
        "同上",
        "meeting, contract-end",
    ),
    Entry(
        "meetings.Group",
        ("department", "summary_first", "summary_second"),
        "グループの部署・協議の概要（自由記述）",
        "meeting__created_at",
        "同上",
        "meeting, contract-end",
    ),
    Entry(
        "meetings.SurveyResponse",
        ("answers",),
        "アンケート回答（自由記述を含む）",
        "imported_at",
        "同上",
        "meeting, contract-end",
    ),
    Entry(
        "tips.Post",
        ("contact_email", "department", "person_name"),
        "小ネタの連絡先",
        "submitted_at",
        "post_contacts",
        "contacts, contract-end",
    ),
    Entry(
        "tips.Post",
        ("body", "reason"),
        "小ネタの本文・判断理由（公開される投稿）",
        "submitted_at",
        "掲載を続ける間",
        "contract-end（本文は公開情報として残す）",
    ),
    Entry(
        "feedback.Opinion",
        ("contact_name", "contact_email"),
        "意見箱の連絡先",
        "created_at",
        "opinion_contacts",
        "contacts, contract-end",
    ),
    Entry(
        "feedback.Opinion",
        ("body", "internal_notes"),
        "意見箱のご意見・内部メモ",
        "created_at",
        "契約終了まで",
        "contract-end",
    ),
    Entry(
        "notifications.OutboxMessage",
        ("subject", "body", "to", "bcc", "last_error"),
        "送信メール（件名・本文・宛先）",
        "created_at",
        "outbox_content",
        "outbox, meeting（案内）, contract-end",
    ),
    Entry(
        "core.AuditEvent",
        ("actor_label", "ip_address", "detail"),
        "監査ログ（ログインの記録を含む）",
        "created_at",
        "login_attempts, audit",
        "contract-end",
    ),
    Entry(
        "accounts.User",
        ("username", "first_name", "last_name", "email"),
        "アカウント（職員の氏名・メールアドレス）",
        "date_joined",
        "アカウントを削除するまで",
        "contract-end（氏名・メールアドレス）",
    ),
    Entry(
        "accounts.RegisteredAddress",
        ("address",),
        "自治体の登録メールアドレス",
        "user__date_joined",
        "登録を変更するまで",
        "contract-end",
    ),
    Entry(
        "accounts.StaffEnrolmentInvitation",
        ("issued_by_label",),
        "職員の登録招待（発行者）",
        "created_at",
        "契約終了まで",
        "contract-end",
    ),
    Entry(
        "ops.Alert",
        ("evidence", "acknowledged_by_label", "acknowledgement_note"),
        "運用アラート（根拠のIPアドレス等）",
        "first_seen",
        "契約終了まで",
        "contract-end",
    ),
    Entry(
        "ops.EmergencyContact",
        ("name", "phone", "email"),
        "緊急連絡先（受託者・こども家庭庁の担当者）",
        "updated_at",
        "契約終了まで",
        "contract-end",
    ),
    Entry(
        "ops.Escalation",
        ("contact_label",),
        "エスカレーションの記録（連絡先の名前）",
        "at",
        "契約終了まで",
        "contract-end",
    ),
    Entry(
        "ops.IncidentEntry",
        ("text", "author_label"),
        "事故の記録の経過（記録した職員）",
        "created_at",
        "契約終了まで",
        "contract-end",
    ),
    Entry(
        "analytics.ZeroResultSearchDay",
        ("query",),
        "該当なしだったサイト内検索の検索語（日別の回数。氏名が入力されることがある）",
        "day",
        "search_queries",
        "search_queries（保存期間）, contract-end",
    ),
    Entry("sessions.Session", ("session_data",), "セッション", "expire_date", "sessions", "contract-end"),
    Entry(
        "wagtailcore.Revision", ("content",), "ページの版（編集者・内容）", "created_at", "Wagtail の既定（残る）", "—"
    ),
    Entry(
        "wagtailcore.ModelLogEntry",
        ("data",),
        "管理画面の操作履歴（Wagtail）",
        "timestamp",
        "Wagtail の既定（残る）",
        "—",
    ),
    Entry(
        "wagtailcore.PageLogEntry", ("data",), "ページの操作履歴（Wagtail）", "timestamp", "Wagtail の既定（残る）", "—"
    ),
]

NOT_PERSONAL = {
    "core.AuditEvent.target_label": "対象の番号・名称（投稿の本文は記録しない。decision 0033）",
    "localgov.LocalGovernment.name": "団体名（公開情報）",
    "localgov.LocalGovernment.name_kana": "団体名の読み（公開情報）",
    "notifications.OutboxMessage.message_id": "機械が付ける番号",
    "notifications.MessageTemplate.body": "職員が編集する通知の文面",
    "pages.PortalSettings.footer_text": "公開コンテンツ",
    "members.RoundtablePage.transcript": "公開前に職員が編集する座談会の記録（会員エリアのコンテンツ）",
    "members.FormEntry.description": "様式の説明（コンテンツ）",
    "tips.Topic.description": "お題の説明（職員が作成）",
    "meetings.Meeting.grouping_notes": "グループ分けの説明（団体と人数のみ）",
    "meetings.MeetingSession.agenda": "議題（職員が作成）",
    "meetings.Room.name": "会議室の名称",
    "meetings.Room.url": "会議URL",
    "meetings.Group.name": "グループの名称",
    "meetings.GroupingApproval.snapshot": "承認時のグループ分け（参加者番号と団体のみ、氏名なし）",
    "meetings.Goal.department": "団体の部署名",
    "meetings.DepartmentRole.department": "団体の部署名（担当区分の対応表）",
    "meetings.Goal.goal": "団体の目標（報告書に載る）",
    "meetings.Goal.progress": "団体の進捗（報告書に載る）",
    "ops.Alert.summary": "検知ルールの要約（IPアドレスは evidence に）",
}

PERSONAL_LOOKING = re.compile(
    r"name|mail|phone|tel|address|(^|_)ip(_|$)|body|text|note|comment|contact|answer|reason|detail|label|"
    r"message|content|snapshot|evidence|summary|agenda|goal|progress|position|department|transcript|description|url|"
    r"query",
    re.I,
)
# Wagtail's page fields every page type inherits: public content, not personal.
PAGE_FIELDS = {"url_path", "search_description", "summary", "title", "slug", "seo_title", "draft_title"}


def personal_looking_fields(model) -> list[str]:
    text = (models.CharField, models.TextField, models.JSONField, models.GenericIPAddressField)
    return [
        f.name
        for f in model._meta.concrete_fields
        if f.model is model
        and isinstance(f, text)
        and not f.choices
        and PERSONAL_LOOKING.search(f.name)
        and f.name not in PAGE_FIELDS
    ]


def unlisted(models_=None) -> list[str]:
    """``app.Model.field`` of every personal-looking field that is neither inventoried nor
    explained in NOT_PERSONAL (the project's own models)."""
    listed = {f"{e.model}.{name}" for e in MODELS for name in e.fields} | set(NOT_PERSONAL)
    found = []
    for model in models_ if models_ is not None else apps.get_models():
        if not model.__module__.startswith("kokasen."):
            continue
        found += [
            f"{model._meta.label}.{n}"
            for n in personal_looking_fields(model)
            if f"{model._meta.label}.{n}" not in listed
        ]
    return found


@dataclass
class Row:
    store: str
    what: str
    count: int
    oldest: datetime | None
    retention: str
    disposal: str


def _model_row(entry: Entry) -> Row:
    model = apps.get_model(entry.model)
    filled = Q()
    for name in entry.fields:
        field = model._meta.get_field(name)
        if isinstance(field, models.JSONField):
            filled |= ~Q(**{name: field.get_default()}) & Q(**{f"{name}__isnull": False})
        elif field.null:
            filled |= Q(**{f"{name}__isnull": False})
        else:
            filled |= ~Q(**{name: ""})
    rows = model.objects.filter(filled)
    oldest = rows.aggregate(oldest=Min(entry.date_field))["oldest"]
    if oldest is not None and not isinstance(oldest, datetime):
        oldest = None
    return Row(
        f"{entry.model}（{', '.join(entry.fields)}）", entry.what, rows.count(), oldest, entry.retention, entry.disposal
    )


def _files_row(store, what, paths, retention, disposal) -> Row:
    stamps = [p.stat().st_mtime for p in paths]
    oldest = datetime.fromtimestamp(min(stamps), tz=timezone.get_current_timezone()) if stamps else None
    return Row(store, what, len(paths), oldest, retention, disposal)


def rows() -> list[Row]:
    from .scopes import _files_under, _log_files

    result = [_model_row(e) for e in MODELS]
    result.append(
        _files_row(
            "MEDIA_ROOT",
            "アップロードファイル（文書・画像）",
            _files_under(settings.MEDIA_ROOT),
            "掲載を続ける間",
            "contract-end",
        )
    )
    result.append(
        _files_row(
            "PRIVACY_LOG_FILES", "Webサーバーのログ（IPアドレス）", _log_files(), "logrotate の設定", "contract-end"
        )
    )
    result.append(
        Row(
            "journald",
            "アプリケーションのログ（利用者の入力・本文は書かない）",
            -1,
            None,
            "journald の設定",
            "journalctl --vacuum-time（手順書）",
        )
    )
    status = Path(settings.OPS_BACKUP_STATUS_FILE) if getattr(settings, "OPS_BACKUP_STATUS_FILE", "") else None
    backups_seen = status is not None and status.exists()
    result.append(
        Row(
            "バックアップ（restic）",
            "データベースとファイルの暗号化バックアップ",
            1 if backups_seen else 0,
            None,
            "OPS_BACKUP_*",
            "forget+prune / 鍵の破棄（PRIVACY_BACKUP_DISPOSER）",
        )
    )
    result.append(
        Row(
            "キャッシュ（Redis）",
            "ログイン制限の計数（IPアドレス・ID）",
            -1,
            None,
            "有効期限付き（最長 LOGIN_*_WINDOW_SECONDS）",
            "自然に消える",
        )
    )
    return result
