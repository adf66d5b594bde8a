"""Wagtail admin screen 「職員の二要素認証」 (``/admin/staff-two-factor/``; decision 0020):
every active staff account with its authenticator-app state and open invitation, the buttons
「招待を送る」 and 「認証アプリをリセット」 (removes the app and the recovery codes of decision 0053;
each a POST after a confirmation page; the services
check who may do what and audit it), and the latest ``totp.*`` events.

Only 管理者 (and superusers) with a verified TOTP session (``access.agency_admin_required``).
A 受託者 is refused (PermissionDenied, which Wagtail answers with a redirect to the admin home
and its 「権限がありません」 message); Wagtail's own ``access_admin`` check and
StaffTwoFactorMiddleware come first (visitors and members to the login page, an unverified
staff session to the TOTP step).
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from kokasen.core import audit_actions, refusals
from kokasen.core.refusals import Refused

from . import enrolment, roles, selectors, services
from .access import agency_admin_required
from .admin_screens import screen_context

TITLE = "職員の二要素認証"

ACTIONS = {
    "invite": {
        "title": "認証アプリ登録の招待",
        "question": "{who}に、認証アプリ登録の招待を送りますか？",
        "detail": "招待のメールを {email} に送ります（送信は送信メールの処理で行われます）。"
        "メールのURLは発行から{hours}時間有効で、ご本人のパスワードと組み合わせて一度だけ使えます。"
        "これまでに送った招待は使えなくなります。",
        "button": "招待を送る",
    },
    "reset": {
        "title": "認証アプリのリセット",
        "question": "{who}の認証アプリの登録を削除し、新しい招待を送りますか？",
        "detail": "スマートフォンの紛失や機種変更のときに使います。これまでの認証アプリの確認コードと回復コードはすぐに使えなくなり、"
        "ログイン中の画面も確認コードの入力からやり直しになります。続けて、新しい招待のメールを {email} に送ります"
        "（メールアドレスが登録されていない場合は、リセットだけを行います）。",
        "button": "リセットして招待を送る",
    },
}

REASON_LABELS = {
    enrolment.NO_INVITATION: "招待なし",
    enrolment.OTHER_USER: "別のユーザーあての招待",
    enrolment.UNKNOWN: "正しくないURL",
    enrolment.USED: "使用済みの招待",
    enrolment.REVOKED: "取り消された招待",
    enrolment.EXPIRED: "期限切れの招待",
    enrolment.CONFLICT: "登録の競合",
    enrolment.NO_PASSWORD_STEP: "パスワードの入力なし",
}


def _role_label(user) -> str:
    names = roles.group_names(user)
    parts = (["スーパーユーザー"] if user.is_superuser else []) + [n for n in roles.STAFF_GROUPS if n in names]
    return "・".join(parts) or "管理画面の権限のみ"


def _row_name(user) -> str:
    return " ".join(part for part in (user.last_name, user.first_name) if part)


def _row(user, actor):
    invitation = user.open_invitations[0] if user.open_invitations else None
    action = "reset" if user.has_device else "invite"
    return {
        "user": user,
        "name": _row_name(user),
        "role": _role_label(user),
        "invitation": invitation,
        "invitation_expired": invitation is not None and invitation.expires_at <= timezone.now(),
        "action": action,
        "action_label": {"invite": "招待を送り直す" if invitation else "招待を送る", "reset": "認証アプリをリセット"}[
            action
        ],
        "refusal": services.enrolment_refusal(user=user, acting_user=actor, action=action),
    }


@require_safe
@agency_admin_required
def staff_two_factor_index(request):
    rows = [_row(user, request.user) for user in selectors.staff_accounts()]
    events = list(selectors.enrolment_events())
    for event in events:
        event.label = audit_actions.label(event.action)
        event.reason_label = REASON_LABELS.get(event.detail.get("reason", ""), event.detail.get("reason", ""))
        event.by = event.actor_label or event.detail.get("issued_by") or event.detail.get("by") or ""
    context = screen_context(
        TITLE, icon="key", rows=rows, events=events, hours=settings.STAFF_ENROLMENT_INVITATION_HOURS
    )
    return TemplateResponse(request, "accounts/admin/staff_two_factor.html", context)


@require_http_methods(["GET", "POST"])
@agency_admin_required
def staff_two_factor_action(request, pk, action):
    if action not in ACTIONS:
        raise Http404
    user = get_object_or_404(selectors.staff_accounts(), pk=pk)
    username = user.get_username()
    if request.method == "POST":
        try:
            if action == "invite":
                issued = services.enrolment_invitation_issue(user=user, acting_user=request.user, request=request)
            else:
                issued = services.totp_device_reset(user=user, acting_user=request.user, request=request)
        except Refused as refused:
            refusals.show_as_messages(request, refused)
            return redirect("accounts_enrolment:index")
        expires = timezone.localtime(issued.invitation.expires_at) if issued else None
        if issued and action == "invite":
            messages.success(
                request,
                f"「{username}」に認証アプリ登録の招待を送信待ちにしました（送信先：{user.email}、"
                f"有効期限：{expires:%Y-%m-%d %H:%M}）。",
            )
        elif issued:
            messages.success(
                request,
                f"「{username}」の認証アプリをリセットし、新しい招待を送信待ちにしました（送信先：{user.email}、"
                f"有効期限：{expires:%Y-%m-%d %H:%M}）。",
            )
        else:
            messages.warning(
                request,
                f"「{username}」の認証アプリをリセットしました。メールアドレスが登録されていないため、招待は送っていません。"
                "メールアドレスを登録してから「招待を送る」を使ってください。",
            )
        return redirect("accounts_enrolment:index")
    name = _row_name(user)
    values = {
        "who": f"{name}さん（{username}）" if name else f"「{username}」",
        "email": user.email or "（未登録）",
        "hours": settings.STAFF_ENROLMENT_INVITATION_HOURS,
    }
    texts = {key: text.format(**values) for key, text in ACTIONS[action].items()}
    context = screen_context(
        texts["title"],
        icon="key",
        parents=[(reverse("accounts_enrolment:index"), TITLE)],
        texts=texts,
        account=user,
        action=action,
        refusal=services.enrolment_refusal(user=user, acting_user=request.user, action=action),
    )
    return TemplateResponse(request, "accounts/admin/staff_two_factor_confirm.html", context)
