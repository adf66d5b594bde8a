"""Wagtail admin screens of the 小ネタ board: the moderation queue (filters, bulk decisions),
one post (approve, edit then approve, reject with a reason, hide), the topics (a plain list:
Wagtail's ModelViewSet, decision 0024), and the board settings. 管理者 and 受託者 moderate and
manage topics; only 管理者 change settings.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from kokasen.accounts import admin_screens
from kokasen.accounts.access import agency_admin_required, staff_required
from kokasen.core import refusals
from kokasen.core.models import AuditEvent
from kokasen.core.refusals import Refused

from . import selectors, services
from .forms import BoardSettingsForm, RejectForm
from .models import BoardSettings, Post, PostState, Topic

PER_PAGE = 50


def _context(title: str, *, parent: tuple[str, str] | None = None, **extra) -> dict:
    return admin_screens.screen_context(title, icon="comment", parents=(parent,) if parent else (), **extra)


# --- the queue --------------------------------------------------------------------------------


@staff_required
def queue(request):
    state = request.GET.get("state", "queue")
    topic_id = request.GET.get("topic", "")
    query = request.GET.get("q", "").strip()[:100]
    posts = Paginator(selectors.moderation_queue(state=state, topic_id=topic_id, query=query), PER_PAGE).get_page(
        request.GET.get("p")
    )
    context = _context(
        "小ネタの投稿の確認",
        posts=posts,
        state=state,
        topic_id=topic_id,
        query=query,
        states=[("queue", "確認待ち（すべて）"), *PostState.choices, ("all", "すべての状態")],
        topics=Topic.objects.only("pk", "title").order_by("-opens_at"),
        reject_form=RejectForm(),
        waiting=selectors.queue_count(),
    )
    return TemplateResponse(request, "tips/admin/queue.html", context)


@require_POST
@staff_required
def bulk(request):
    ids = [int(i) for i in request.POST.getlist("post") if i.isdigit()]
    decision = request.POST.get("decision", "")
    if not ids or decision not in ("approve", "reject"):
        messages.error(request, "投稿と操作を選んでください。")
        return redirect("tips_admin:queue")
    try:
        decided, skipped = services.posts_bulk_decide(
            post_ids=ids,
            decision=decision,
            acting_user=request.user,
            reason=request.POST.get("reason", ""),
            request=request,
        )
    except Refused as refused:
        refusals.show_as_messages(request, refused)
        return redirect("tips_admin:queue")
    label = "承認" if decision == "approve" else "不承認に"
    messages.success(
        request,
        f"{len(decided)}件を{label}しました。"
        + (f"（確認済みの{len(skipped)}件は変更していません）" if skipped else ""),
    )
    return redirect("tips_admin:queue")


# --- one post ---------------------------------------------------------------------------------


class ModerationEditForm(forms.Form):
    body = forms.CharField(label="本文（承認前に直せます）", widget=forms.Textarea(attrs={"rows": 6}))
    reason = forms.CharField(
        label="理由（不承認では必須、非表示では任意。投稿者に伝わります）",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@staff_required
def post_detail(request, pk):
    post = get_object_or_404(Post.objects.select_related("topic", "local_government", "author", "decided_by"), pk=pk)
    form = ModerationEditForm(request.POST or None, initial={"body": post.body, "reason": post.reason})
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action", "")
        data = form.cleaned_data
        try:
            if action == "approve":
                services.post_approve(post=post, acting_user=request.user, body=data["body"], request=request)
                messages.success(request, "投稿を承認しました。")
            elif action == "reject":
                services.post_reject(post=post, acting_user=request.user, reason=data["reason"], request=request)
                messages.success(request, "投稿を不承認にしました。理由を投稿者に通知します。")
            elif action == "hide":
                services.post_hide(post=post, acting_user=request.user, reason=data["reason"], request=request)
                messages.success(request, "投稿を非表示にしました。")
            else:
                raise Refused("操作を選んでください。")
        except Refused as refused:
            refusals.show_on_form(form, refused)
        else:
            return redirect("tips_admin:queue")
    history = AuditEvent.objects.filter(target_type="tips.post", target_id=str(post.pk)).order_by("created_at")
    context = _context(
        f"投稿 #{post.pk}",
        parent=(reverse("tips_admin:queue"), "小ネタの投稿の確認"),
        post=post,
        form=form,
        history=history,
        can_approve=post.can_transition(PostState.APPROVED),
        can_reject=post.can_transition(PostState.REJECTED),
        can_hide=post.can_transition(PostState.HIDDEN),
    )
    return TemplateResponse(request, "tips/admin/post.html", context, status=400 if form.errors else 200)


# --- topics (Wagtail's ModelViewSet, decision 0024) ------------------------------------------------


class TopicForm(forms.ModelForm):
    class Meta:
        model = Topic
        fields = ["title", "description", "origin", "opens_at", "closes_at"]
        widgets = {
            "opens_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "closes_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }


# 管理者 and 受託者 (TOTP passed) list, add and change topics; nobody deletes one here (its posts
# would go with it).
topic_policy = admin_screens.StaffPermissionPolicy(Topic, actions={"view", "add", "change"})


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _closes(topic) -> str:
    return f"{_when(topic.closed_at)}（手動）" if topic.closed_at else _when(topic.closes_at)


class CloseColumn(Column):
    """受付を終了 (a POST form) for open topics."""

    cell_template_name = "tips/admin/topic_close_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["close_url"] = reverse("tips_topics:close", args=[instance.pk])
        context["csrf_token"] = get_token(parent_context["request"])
        return context


class TopicIndexView(generic.IndexView):
    page_title = "小ネタのお題"
    template_name = "tips/admin/topics.html"

    @cached_property
    def columns(self):
        return [
            TitleColumn("title", label="お題", get_url=self.get_edit_url, sort_key="title"),
            Column("origin", label="出どころ", accessor="get_origin_display"),
            Column("status", label="状態", accessor="get_status_display"),
            Column("opens_at", label="受付開始", accessor=lambda t: _when(t.opens_at), sort_key="opens_at"),
            Column("closes_at", label="受付終了", accessor=_closes),
            CloseColumn("close", label="操作"),
        ]

    @cached_property
    def add_item_label(self):
        return "お題を追加"


class _TopicFormMixin:
    """The titles and breadcrumbs of before (ホーム › 小ネタのお題 › お題の追加/編集); saves
    through services.topic_save (audited), not Wagtail's own save action."""

    submit_button_label = "保存する"

    def get_page_subtitle(self):
        return ""

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("tips_topics:index"), "label": TopicIndexView.page_title},
            {"url": "", "label": self.page_title},
        ]

    def save_instance(self):
        return services.topic_save(form=self.form, acting_user=self.request.user, request=self.request)


class TopicCreateView(_TopicFormMixin, generic.CreateView):
    page_title = "お題の追加"

    def get_success_message(self, instance):
        return "お題を保存しました。"


class TopicEditView(_TopicFormMixin, generic.EditView):
    page_title = "お題の編集"

    def get_success_message(self):
        return "お題を保存しました。"


@require_POST
@staff_required
def topic_close(request, pk):
    services.topic_close(topic=get_object_or_404(Topic, pk=pk), acting_user=request.user, request=request)
    messages.success(request, "お題の受付を終了しました。")
    return redirect("tips_topics:index")


class TopicViewSet(ModelViewSet):
    """/admin/tips/topics/: the list, add and edit (Wagtail's generic views; saves go through
    services.topic_save, audited) and 受付を終了 (ours). No copy, delete, history or usage."""

    model = Topic
    name = "tips_topics"
    url_prefix = "tips/topics"
    icon = "comment"
    index_view_class = TopicIndexView
    add_view_class = TopicCreateView
    edit_view_class = TopicEditView
    list_per_page = PER_PAGE
    add_to_reference_index = False
    copy_view_enabled = False

    def get_form_class(self, for_update=False):
        return TopicForm

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("new/", self.add_view, name="add"),
            path("edit/<int:pk>/", self.edit_view, name="edit"),
            path("close/<int:pk>/", topic_close, name="close"),
        ]

    def get_common_view_kwargs(self, **kwargs):
        # Only the routes above exist.
        return super().get_common_view_kwargs(
            **{
                "delete_url_name": None,
                "history_url_name": None,
                "usage_url_name": None,
                **kwargs,
            }
        )

    def get_permissions_to_register(self):
        return super().get_permissions_to_register().none()  # the policy decides, not Django permissions


# --- settings ---------------------------------------------------------------------------------


@agency_admin_required
def board_settings(request):
    board = BoardSettings.load()
    form = BoardSettingsForm(request.POST or None, instance=board)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        services.board_settings_update(acting_user=request.user, values=values, request=request)
        messages.success(request, "小ネタの設定を保存しました。")
        return redirect("tips_admin:settings")
    history = AuditEvent.objects.filter(action="tips.settings_changed").order_by("-created_at")[:20]
    return TemplateResponse(request, "tips/admin/settings.html", _context("小ネタの設定", form=form, history=history))
