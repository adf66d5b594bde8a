"""The members' side of the 小ネタ board: topic lists, a topic with its posts and the form,
and the poster's edit and withdraw pages. Thin: rules live in services and selectors."""

import hashlib

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from kokasen.accounts import roles
from kokasen.core import caching, refusals
from kokasen.core.refusals import Refused
from kokasen.members import versions as members_versions
from kokasen.members.access import members_area_required
from kokasen.pages import page_cache

from . import selectors, services, topic_cache
from .forms import PostForm
from .models import BoardSettings, ModerationMode

PER_PAGE = 20
FORM_HOLE = "<!--kokasen:tips-form-->"  # the post form's fields (their labels name the local government)
OWN_POSTS_HOLE = "<!--kokasen:tips-own-posts-->"  # the poster's own waiting, rejected and hidden posts
# The rendered list of visible posts (the same for every reader) is cached per topic, page
# and Topic.posts_version, which every post write bumps; the timeout only frees memory.
POSTS_CACHE_SECONDS = 600


def _render_posts(request, topic, page_number) -> str:
    posts = Paginator(selectors.posts_visible(topic=topic), PER_PAGE).get_page(page_number)
    context = {
        "topic": topic,
        "posts": posts,
        "page_links": posts.paginator.get_elided_page_range(posts.number, on_each_side=2, on_ends=1),
        "contact_subject": f"【小ネタ】{topic.title}",
    }
    return render_to_string("tips/_posts.html", context, request=None)


def _version_key(*parts) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


def _blank_form_html(request, board, initial) -> str:
    """The fields of the empty post form. They depend only on the settings (their version is
    updated_at), the local government (its name is in a label) and the initial address, so
    they are rendered once per combination; the CSRF token stays outside, per request."""
    user = request.user
    key = _version_key(board.updated_at.timestamp(), user.local_government_id, initial.get("contact_email", ""))
    return caching.versioned(
        f"tips:form:{key}",
        lambda: render_to_string("tips/_form_fields.html", {"form": _form(request, board, initial=initial)}),
        POSTS_CACHE_SECONDS,
    )


def _own_posts_html(topic, user) -> str:
    """The poster's own waiting, rejected and hidden posts: every write to a post of the topic
    (submit, edit, withdraw, each decision) bumps Topic.posts_version, which is in the key."""
    key = _version_key(topic.pk, topic.created_at.timestamp(), topic.posts_version, user.pk)
    return caching.versioned(
        f"tips:own:{key}",
        lambda: render_to_string(
            "tips/_own_posts.html", {"own_posts": list(selectors.posts_own(topic=topic, user=user))}
        ),
        POSTS_CACHE_SECONDS,
    )


@members_area_required
def topic_index(request):
    context = {
        "open_topics": selectors.topic_list_open(),
        "past_topics": selectors.topic_list_past()[:50],
    }
    return TemplateResponse(request, "tips/topic_index.html", context)


def _form(request, board, data=None, initial=None):
    user = request.user
    return PostForm(data, board=board, local_government=user.local_government, initial=initial)


def _initial_contact(user) -> dict:
    return {"contact_email": roles.first_registered_address(user), "show_local_government": True}


@members_area_required
@require_http_methods(["GET", "POST"])
def topic_detail(request, pk):
    topic = selectors.topic_for_reader(pk=pk, cached=request.method != "POST")
    board = BoardSettings.load() if request.method == "POST" else BoardSettings.load_for_display()
    user = request.user
    can_post = roles.is_member(user) and topic.is_open and board.mode != ModerationMode.CLOSED
    form = None
    if request.method == "POST":
        if not can_post:
            messages.error(request, "このお題には、いま投稿できません。")
            return redirect("tips:topic", pk=topic.pk)
        form = _form(request, board, data=request.POST)
        if form.is_valid():
            try:
                post = services.post_submit(
                    topic=topic, author=user, body=form.cleaned_data["body"], contact=form.contact(), request=request
                )
            except Refused as refused:
                refusals.show_on_form(form, refused)
            else:
                if post.is_visible:
                    messages.success(request, "投稿を公開しました。こども家庭庁があとで内容を確認します。")
                else:
                    messages.success(
                        request, "投稿を受け付けました。こども家庭庁が承認すると公開されます（現在は承認待ちです）。"
                    )
                return redirect(reverse("tips:topic", args=[topic.pk]) + "#tips-message")
    form_html = ""
    if form is None and can_post:
        form_html = _blank_form_html(request, board, _initial_contact(user))
    page_number = request.GET.get("page", "1")
    page_number = str(int(page_number)) if page_number.isdigit() and len(page_number) < 6 else "1"  # "01" → "1"
    posts_html = caching.versioned(
        # created_at too: SQLite may give a deleted topic's id to a new one.
        f"tips:posts:{topic.pk}:{topic.created_at.timestamp()}:{topic.posts_version}:{page_number}",
        lambda: _render_posts(request, topic, page_number),
        POSTS_CACHE_SECONDS,
    )
    is_member = roles.is_member(user)
    context = {
        "topic": topic,
        "posts_html": posts_html,
        "board": board,
        "form": form,
        "can_post": can_post,
        "form_html": mark_safe(FORM_HOLE),
        "own_posts_html": mark_safe(OWN_POSTS_HOLE),
        "mode_closed": board.mode == ModerationMode.CLOSED,
        "is_member": is_member,
    }
    holes = {FORM_HOLE: lambda: form_html, OWN_POSTS_HOLE: lambda: _own_posts_html(topic, user) if is_member else ""}
    key = None
    generations = (topic_cache.GENERATION.current(), members_versions.generation(request))  # topics, menu
    if form is None and all(generations):  # the page as every reader of this kind sees it, but the holes
        key = ":".join(
            map(
                str,
                (
                    "tips:topic",
                    *generations,
                    topic.pk,
                    topic.created_at.timestamp(),
                    topic.posts_version,
                    page_number,
                    topic.status,
                    board.updated_at.timestamp(),
                    board.mode,
                    can_post,
                    is_member,
                ),
            )
        )
    return page_cache.render(
        request, "tips/topic_detail.html", context, key=key, holes=holes, status=400 if form and form.errors else 200
    )


@members_area_required
@require_http_methods(["GET", "POST"])
def post_edit(request, pk):
    post = selectors.post_own_editable(pk=pk, user=request.user)
    board = BoardSettings.load()
    if not post.is_editable:
        messages.error(request, "確認が済んだ投稿は変更できません。")
        return redirect("tips:topic", pk=post.topic_id)
    if request.method == "POST":
        form = _form(request, board, data=request.POST)
        if form.is_valid():
            try:
                services.post_edit(
                    post=post,
                    acting_user=request.user,
                    body=form.cleaned_data["body"],
                    contact=form.contact(),
                    request=request,
                )
            except Refused as refused:
                refusals.show_on_form(form, refused)
            else:
                messages.success(request, "投稿を変更しました。")
                return redirect(reverse("tips:topic", args=[post.topic_id]) + "#tips-message")
    else:
        form = _form(
            request,
            board,
            initial={
                "body": post.body,
                "contact_email": post.contact_email,
                "department": post.department,
                "person_name": post.person_name,
                "show_local_government": post.show_local_government,
            },
        )
    status = 400 if form.errors else 200
    return TemplateResponse(request, "tips/post_edit.html", {"post": post, "form": form}, status=status)


@members_area_required
@require_http_methods(["GET", "POST"])
def post_withdraw(request, pk):
    post = selectors.post_own_editable(pk=pk, user=request.user)
    if not post.is_editable:
        messages.error(request, "確認が済んだ投稿は取り下げできません。")
        return redirect("tips:topic", pk=post.topic_id)
    if request.method == "POST":
        try:
            services.post_withdraw(post=post, acting_user=request.user, request=request)
        except Refused as refused:  # decided by the agency since this page was read
            refusals.show_as_messages(request, refused)
        else:
            messages.success(request, "投稿を取り下げました。")
        return redirect("tips:topic", pk=post.topic_id)
    return TemplateResponse(request, "tips/post_withdraw.html", {"post": post})
