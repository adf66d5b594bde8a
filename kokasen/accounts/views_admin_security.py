"""Wagtail admin screen 「ログインとロック」: locked accounts, throttled addresses, the release
buttons, and the recent login audit events (filter by result, search by account).

Only 管理者 and 受託者 (and superusers) with a verified TOTP session may open it
(``access.staff_required``); Wagtail's own ``access_admin`` check comes first.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.validators import validate_ipv46_address
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from kokasen.core.models import AuditEvent

from . import lockout
from .access import staff_required

RESULT_LABELS = {
    "login.succeeded": "ログイン成功",
    "login.password_accepted": "パスワード確認済み（確認コード待ち）",
    "login.failed": "失敗（ユーザーIDまたはパスワード）",
    "login.totp_failed": "失敗（確認コード）",
    "login.locked_out": "拒否（ユーザーIDの保護中）",
    "login.throttled": "拒否（アドレスの制限中）",
    "lockout.started": "ユーザーIDを保護（未知の接続元を拒否）",
    "address.slowed": "アドレスを制限",
    "lockout.released": "ロック解除（職員）",
    "throttle.released": "アドレス制限の解除（職員）",
    "totp.device_confirmed": "認証アプリの登録",
    "logout": "ログアウト",
}
PER_PAGE = 50


def _events(request):
    events = AuditEvent.objects.filter(action__in=lockout.LOGIN_ACTIONS).select_related("actor")
    result = request.GET.get("result", "")
    if result in RESULT_LABELS:
        events = events.filter(action=result)
    query = request.GET.get("q", "").strip()[:150]
    if query:
        events = events.filter(Q(target_label__icontains=query) | Q(actor_label__icontains=query))
    return events, result, query


@staff_required
def security_index(request):
    events, result, query = _events(request)
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("p"))
    for event in page:
        event.result_label = RESULT_LABELS.get(event.action, event.action)
    context = {
        "page_title": "ログインとロック",
        "header_title": "ログインとロック",
        "header_icon": "lock",
        "breadcrumbs_items": [
            {"url": reverse("wagtailadmin_home"), "label": "ホーム"},
            {"url": "", "label": "ログインとロック"},
        ],
        "accounts": lockout.accounts_with_failures(),
        "addresses": lockout.addresses_with_failures(),
        "events": page,
        "result": result,
        "query": query,
        "result_choices": list(RESULT_LABELS.items()),
        "pair_limit": settings.LOGIN_PAIR_FAILURE_LIMIT,
        "pair_minutes": lockout.window_minutes(lockout.Refusal.PAIR),
        "account_limit": settings.LOGIN_ACCOUNT_FAILURE_LIMIT,
        "account_minutes": lockout.window_minutes(lockout.Refusal.ACCOUNT),
        "address_account_limit": settings.LOGIN_ADDRESS_ACCOUNT_LIMIT,
        "address_failure_limit": settings.LOGIN_ADDRESS_FAILURE_LIMIT,
        "window_minutes": lockout.window_minutes(lockout.Refusal.ADDRESS),
    }
    return TemplateResponse(request, "accounts/admin/security.html", context)


@require_POST
@staff_required
def security_release_account(request):
    username = request.POST.get("username", "").strip()
    if not username:
        messages.error(request, "解除するユーザーIDが指定されていません。")
    else:
        lockout.lockout_release(username=username, acting_user=request.user, request=request)
        messages.success(request, f"「{username}」のログインの制限を解除しました。すぐにログインできます。")
    return redirect("accounts_security:index")


@require_POST
@staff_required
def security_release_address(request):
    address = request.POST.get("address", "").strip()
    try:
        validate_ipv46_address(address)
    except ValidationError:
        messages.error(request, "IPアドレスの形式が正しくありません。")
    else:
        lockout.throttle_release(address=address, acting_user=request.user, request=request)
        messages.success(request, f"{address} からのログインの制限を解除しました。")
    return redirect("accounts_security:index")
