"""Wagtail admin screens for local-government accounts: the address-list import (upload →
validation report → confirm), the account listing with reissue / disable / enable (each a
POST after a confirmation page, audited by the services), and the outbox's per-message status
(read-only). Only 管理者 and 受託者 (and superusers) with a verified TOTP session.
"""

import hashlib

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from kokasen.core.refusals import Refused
from kokasen.notifications import emails
from kokasen.notifications.models import OutboxMessage

from . import selectors, services
from .access import staff_required
from .address_list import AddressListResult, Entry
from .forms_provisioning import AddressListUploadForm

PER_PAGE = 50
SESSION_KEY = "accounts_address_list"

ACTIONS = {
    "reissue": {
        "title": "パスワード再発行",
        "question": "{lg}（{code}）のパスワードを再発行しますか？",
        "detail": "これまでのパスワードはすぐに使えなくなり、新しいパスワードが登録メールアドレスに送られます"
        "（送信は送信メールの処理で行われます）。",
        "button": "再発行する",
    },
    "disable": {
        "title": "利用停止",
        "question": "{lg}（{code}）のアカウントを利用停止にしますか？",
        "detail": "ログイン中の利用者も、次の操作からすぐに使えなくなります。ログインもできなくなります。",
        "button": "利用停止にする",
    },
    "enable": {
        "title": "利用再開",
        "question": "{lg}（{code}）のアカウントの利用を再開しますか？",
        "detail": "これまでのパスワードで、再びログインできるようになります。",
        "button": "利用を再開する",
    },
}


def _header(title, *parents, icon="group"):
    items = [{"url": reverse("wagtailadmin_home"), "label": "ホーム"}]
    items += [{"url": reverse(name), "label": label} for name, label in parents]
    return {
        "page_title": title,
        "header_title": title,
        "header_icon": icon,
        "breadcrumbs_items": [*items, {"url": "", "label": title}],
    }


# --- account listing and actions ------------------------------------------------------------


@staff_required
def accounts_index(request):
    query = request.GET.get("q", "").strip()[:50]
    active = request.GET.get("active", "")
    page = Paginator(selectors.member_accounts(query=query, active=active), PER_PAGE).get_page(request.GET.get("p"))
    return TemplateResponse(
        request,
        "accounts/admin/accounts_index.html",
        {
            **_header("自治体アカウント"),
            "page_obj": page,
            "query": query,
            "active": active,
            "total": page.paginator.count,
        },
    )


def _member(pk):
    return get_object_or_404(
        get_user_model().objects.select_related("local_government"), pk=pk, local_government__isnull=False
    )


@require_http_methods(["GET", "POST"])
@staff_required
def account_action(request, pk, action):
    if action not in ACTIONS:
        raise Http404
    user = _member(pk)
    texts = {k: v.format(lg=user.local_government, code=user.username) for k, v in ACTIONS[action].items()}
    if request.method == "POST":
        if action == "reissue":
            if not user.registered_addresses.exists():
                messages.error(request, f"{user.local_government}には登録メールアドレスがないため、再発行できません。")
                return redirect("accounts_admin:index")
            services.account_reissue_password(user=user, acting_user=request.user, request=request)
            messages.success(
                request,
                f"{user.local_government}のパスワードを再発行しました。新しいパスワードのお知らせを送信待ちにしました。",
            )
        elif action == "disable":
            services.account_disable(user=user, acting_user=request.user, request=request)
            messages.success(request, f"{user.local_government}のアカウントを利用停止にしました。")
        else:
            services.account_enable(user=user, acting_user=request.user, request=request)
            messages.success(request, f"{user.local_government}のアカウントの利用を再開しました。")
        return redirect("accounts_admin:index")
    context = {
        **_header(texts["title"], ("accounts_admin:index", "自治体アカウント")),
        "account": user,
        "texts": texts,
        "action": action,
    }
    return TemplateResponse(request, "accounts/admin/account_confirm.html", context)


# --- address-list import --------------------------------------------------------------------


def _digest(entries) -> str:
    return hashlib.sha256(repr(entries).encode()).hexdigest()[:16]


@require_http_methods(["GET", "POST"])
@staff_required
def address_list_upload(request):
    form = AddressListUploadForm(request.POST or None, request.FILES or None)
    context = {
        **_header("アドレス一覧の取り込み", ("accounts_admin:index", "自治体アカウント"), icon="upload"),
        "form": form,
    }
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = selectors.address_list_read(data=upload.read(), filename=upload.name)
        context["filename"] = upload.name
        try:
            plan = services.address_list_plan(result=result)
        except Refused as refused:
            context["refused"] = refused
            request.session.pop(SESSION_KEY, None)
        else:
            stored = [[e.code, e.name, list(e.addresses), list(e.rows)] for e in result.entries]
            request.session[SESSION_KEY] = {
                "filename": upload.name,
                "encoding": result.encoding,
                "entries": stored,
                "digest": _digest(stored),
            }
            status = {**{c: "新規" for c in plan.create}, **{c: "アドレス変更" for c in plan.update}}
            context.update(
                plan=plan,
                digest=_digest(stored),
                entries=[(e, status.get(e.code, "変更なし")) for e in result.entries],
                addresses=sum(len(e.addresses) for e in result.entries),
            )
    status = 400 if form.errors or "refused" in context else 200
    return TemplateResponse(request, "accounts/admin/address_list.html", context, status=status)


@require_POST
@staff_required
def address_list_confirm(request):
    stored = request.session.get(SESSION_KEY)
    if not stored or stored["digest"] != request.POST.get("digest"):
        messages.error(request, "確認した内容が見つかりません。ファイルをもう一度選んでください。")
        return redirect("accounts_admin:import")
    result = AddressListResult(
        entries=[Entry(code, name, tuple(addresses), tuple(rows)) for code, name, addresses, rows in stored["entries"]],
        encoding=stored["encoding"],
    )
    try:
        plan = services.address_list_import(
            result=result, acting_user=request.user, request=request, source=stored["filename"]
        )
    except Refused as refused:  # the accounts changed since the check
        return TemplateResponse(
            request,
            "accounts/admin/address_list.html",
            {
                **_header("アドレス一覧の取り込み", ("accounts_admin:index", "自治体アカウント"), icon="upload"),
                "form": AddressListUploadForm(),
                "refused": refused,
                "filename": stored["filename"],
            },
            status=400,
        )
    finally:
        request.session.pop(SESSION_KEY, None)
    messages.success(
        request,
        f"取り込みました。新規 {len(plan.create)} 団体、アドレス変更 {len(plan.update)} 団体、変更なし "
        f"{len(plan.unchanged)} 団体。アカウント発行のお知らせを {plan.queued} 件、送信待ちにしました。",
    )
    return redirect("accounts_admin:index")


# --- outbox ---------------------------------------------------------------------------------


@staff_required
def outbox_index(request):
    status, kind = request.GET.get("status", ""), request.GET.get("kind", "")
    page = Paginator(selectors.outbox_messages(status=status, kind=kind), PER_PAGE).get_page(request.GET.get("p"))
    counts = selectors.outbox_counts()
    labels = emails.labels()
    for message in page:
        message.kind_label = labels.get(message.kind, message.kind)
    kinds = sorted({*labels, *OutboxMessage.objects.values_list("kind", flat=True).distinct()})
    return TemplateResponse(
        request,
        "accounts/admin/outbox_index.html",
        {
            **_header("送信メール", icon="mail"),
            "page_obj": page,
            "status": status,
            "kind": kind,
            "statuses": [(value, label, counts[value]) for value, label in OutboxMessage.Status.choices],
            "kinds": [(value, labels.get(value, value)) for value in kinds],
            "total": sum(counts.values()),
        },
    )
