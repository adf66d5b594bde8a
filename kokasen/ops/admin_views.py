"""Wagtail admin screens 「運用・セキュリティ」 (decision 0030): open alerts, one alert with its
evidence and the acknowledgement form, the history of ended alerts, and a read-only,
filterable view of the audit trail. 管理者 and 受託者 only (``access.staff_required``)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from kokasen.accounts.access import staff_required
from kokasen.accounts.admin_screens import screen_context
from kokasen.core.refusals import Refused, show_as_messages

from . import alerts, selectors
from .detection import RULES, SEVERITIES, SEVERITY_LABELS
from .models import Alert

PER_PAGE = 50
TITLE = "運用・セキュリティ"
EVIDENCE_LABELS = {
    "address": "アドレス",
    "scanner_requests": "スキャン用アドレスへの要求",
    "tools": "ツール",
    "answered_2xx": "2xx で応答した要求",
    "requests": "要求（方法・パス・状態・件数）",
    "peak_per_minute": "最大（件/分）",
    "peak_group": "最大だった種類",
    "groups": "種類",
    "minutes": "分数",
    "errors": "エラー",
    "statuses": "状態コード",
    "paths": "パス",
    "windows": "区間（5分）",
    "group": "種類",
    "p95_seconds": "p95（秒）",
    "limit_seconds": "上限（秒）",
    "slow_paths": "遅かったパス",
    "accounts_tried": "成功していないユーザーID",
    "distinct_ids_in_window": "試されたユーザーID",
    "failures": "失敗",
    "refused_attempts": "拒否した試行",
    "known_accounts": "実在するアカウント",
    "unknown_ids": "存在しないユーザーID",
    "succeeded_afterwards": "その後ログインに成功したアカウント",
    "top_addresses": "アドレス（上位）",
    "accounts": "ユーザーID",
    "events": "件数",
    "accounts_protected": "保護したユーザーID",
    "addresses_slowed": "制限したアドレス",
    "addresses": "アドレス",
    "username": "ユーザー",
    "network": "ネットワーク",
    "first_login": "初めてのログイン",
    "known_networks": "これまでのネットワーク",
    "folder": "フォルダ",
    "files": "ファイル数",
    "changed": "変更されたファイル",
    "added": "追加されたファイル",
    "missing": "削除されたファイル",
    "problem": "問題",
    "changed_count": "変更",
    "added_count": "追加",
    "missing_count": "削除",
    "exported_at": "書き出し日時",
    "path": "ファイル",
    "not_after": "有効期限",
    "days_left": "残り日数",
    "finished_at": "最後のバックアップ",
    "age_hours": "経過（時間）",
    "max_age_hours": "上限（時間）",
    "detail": "詳細",
    "signature_version": "定義のバージョン",
    "signature_date": "定義の日付",
    "signature_age_hours": "定義の経過（時間）",
    "lines": "行数",
    "bad_lines": "読めない行",
    "error": "エラー",
    "mails": "直接送ったメール",
    "related": "同じ事案の他の検知",
}


def _text(value) -> str:
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "、".join(
            f"{RULES.get(k, k)}：{_text(v.get('summary', v) if isinstance(v, dict) else v)}" for k, v in value.items()
        )
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    return str(value)


def evidence_rows(evidence: dict) -> list[tuple[str, list[str]]]:
    """(label, lines) for the evidence table; a list of lists is one line per item."""
    rows = []
    for key, value in (evidence or {}).items():
        if key == "first":
            continue
        if isinstance(value, list) and value and all(isinstance(v, list | tuple) for v in value):
            lines = [_text(v) for v in value]
        elif isinstance(value, list):
            lines = [", ".join(_text(v) for v in value) or "—"]
        else:
            lines = [_text(value)]
        rows.append((EVIDENCE_LABELS.get(key, key), lines))
    return rows


def _context(title, *, parents=(), **extra):
    return screen_context(title, icon="warning", parents=parents, **extra)


def _label(alert: Alert) -> Alert:
    alert.rule_label = RULES.get(alert.rule, alert.rule)
    alert.severity_label = SEVERITY_LABELS.get(alert.severity, alert.severity)
    alert.related_labels = [RULES.get(rule, rule) for rule in alert.related_rules]
    return alert


@staff_required
def alerts_index(request):
    run = selectors.last_run()
    stale = run is None or timezone.now() - run.finished_at > timedelta(minutes=20)
    context = _context(TITLE, alerts=[_label(a) for a in selectors.open_alerts()], run=run, stale=stale)
    return TemplateResponse(request, "ops/admin/alerts.html", context)


@staff_required
def alert_detail(request, pk):
    alert = _label(get_object_or_404(Alert, pk=pk))
    parent = reverse("ops_admin:history") if alert.resolved_at else reverse("ops_admin:index")
    context = _context(
        f"アラート #{alert.pk}",
        parents=[(reverse("ops_admin:index"), TITLE)] + ([(parent, "アラートの履歴")] if alert.resolved_at else []),
        alert=alert,
        evidence=evidence_rows(alert.evidence),
        note_max=alerts.NOTE_MAX_CHARS,
    )
    return TemplateResponse(request, "ops/admin/alert_detail.html", context)


@require_POST
@staff_required
def alert_acknowledge(request, pk):
    alert = get_object_or_404(Alert, pk=pk)
    try:
        alerts.alert_acknowledge(
            alert=alert, note=request.POST.get("note", ""), acting_user=request.user, request=request
        )
    except Refused as refused:
        show_as_messages(request, refused)
    else:
        messages.success(request, f"アラート #{alert.pk} に対応の記録を残しました。")
    return redirect("ops_admin:alert", pk=alert.pk)


@staff_required
def alert_history(request):
    rule = request.GET.get("rule", "")
    rule = rule if rule in RULES else ""
    severity = request.GET.get("severity", "")
    severity = severity if severity in SEVERITIES else ""
    page = Paginator(selectors.alert_history(rule=rule, severity=severity), PER_PAGE).get_page(request.GET.get("p"))
    for alert in page:
        _label(alert)
    context = _context(
        "アラートの履歴",
        parents=[(reverse("ops_admin:index"), TITLE)],
        alerts=page,
        rule=rule,
        severity=severity,
        rule_choices=list(RULES.items()),
        severity_choices=list(SEVERITY_LABELS.items()),
    )
    return TemplateResponse(request, "ops/admin/history.html", context)


AUDIT_FILTERS = ("action", "actor", "target", "address", "since", "until")


@staff_required
def audit_trail(request):
    filters = {name: request.GET.get(name, "").strip()[:150] for name in AUDIT_FILTERS}
    page = Paginator(selectors.audit_events(**filters), PER_PAGE).get_page(request.GET.get("p"))
    query = urlencode({name: value for name, value in filters.items() if value})
    context = _context(
        "監査ログ",
        parents=[(reverse("ops_admin:index"), TITLE)],
        events=page,
        filters=filters,
        action_choices=selectors.action_choices(),
        query=query,
    )
    return TemplateResponse(request, "ops/admin/audit.html", context)
