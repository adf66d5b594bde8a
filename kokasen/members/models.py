"""The locked members area (REQUIREMENTS P2.1–P2.3): Wagtail pages readable only by the
groups 自治体, 管理者 and 受託者.

```
HomePage
└── MembersHomePage (会員エリア, /members/; a group view restriction is always kept on it)
    ├── RoundtableIndexPage (座談会アーカイブ) └── RoundtablePage (date, video, handouts, tags)
    ├── InitiativeIndexPage (各市町村の取組)   └── InitiativePage (a local government's materials)
    └── FormsLibraryPage (各市町村の様式: entries with form type, local government, files)
```

Every page type here refuses to render for anyone who may not read the area
(``MembersPageMixin.serve``), whatever restriction the page tree has, and every file a
page attaches must be in a protected collection (「会員限定資料」).
"""

import datetime
import hashlib

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.safestring import mark_safe
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import Tag, TaggedItemBase
from wagtail import blocks, hooks
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Collection, Orderable, Page
from wagtail.search import index

from kokasen.accounts import roles
from kokasen.core import caching, slots
from kokasen.pages import page_cache
from kokasen.pages.blocks import RICH_FEATURES, BodyBlock

from . import access, uploads

OPEN_TOPICS_HOOK = "members_open_topics"
PER_PAGE = 10


class ProtectedCollection(models.Model):
    """A document collection whose files are for the members area only. The collection
    keeps a group view restriction (services.members_area_secure), and the document hook
    refuses its files to non-readers even if that restriction is removed."""

    collection = models.OneToOneField(
        Collection, verbose_name="コレクション", on_delete=models.CASCADE, related_name="members_protection"
    )

    class Meta:
        verbose_name = "会員限定コレクション"
        verbose_name_plural = "会員限定コレクション"

    def __str__(self):
        return self.collection.name


def is_protected_collection(collection) -> bool:
    """True if the collection or one of its ancestors is marked 会員限定 (ProtectedCollection)."""
    protected = Collection.objects.filter(members_protection__isnull=False)
    return any(collection.pk == c.pk or collection.is_descendant_of(c) for c in protected)


def is_restricted_collection(collection) -> bool:
    """The rule for every file of a collection, document or image: closed to non-readers when
    the collection or an ancestor has a view restriction or is marked 会員限定."""
    return collection.get_view_restrictions().exists() or is_protected_collection(collection)


def is_protected_document(document) -> bool:
    return is_protected_collection(document.collection)


def validate_member_document(document, *, video: bool = False, captions: bool = False):
    if document is None:
        return
    if not is_protected_document(document):
        raise ValidationError("会員エリアのファイルは「会員限定資料」コレクションに登録したものを選んでください。")
    if video and uploads.extension_of(document.filename) not in uploads.VIDEO_EXTENSIONS:
        raise ValidationError("動画には MP4 または WebM のファイルを選んでください。")
    if captions and uploads.extension_of(document.filename) not in uploads.CAPTION_EXTENSIONS:
        raise ValidationError("字幕には WebVTT 形式（.vtt）のファイルを選んでください。")


class MemberDocumentLink(Orderable):
    """A file attached to a members page, with an optional display name."""

    document = models.ForeignKey(
        "wagtaildocs.Document", verbose_name="ファイル", on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField("表示名（空欄ならファイルのタイトル）", max_length=200, blank=True)

    panels = [FieldPanel("document"), FieldPanel("title")]

    class Meta(Orderable.Meta):
        abstract = True

    @property
    def display_title(self):
        return self.title or self.document.title

    def clean(self):
        super().clean()
        if self.document_id:
            try:
                validate_member_document(self.document)
            except ValidationError as error:
                raise ValidationError({"document": error.messages}) from error


PROMPT_SLOT = "<!--kokasen:members-password-prompt-->"
TOPICS_SLOT = "<!--kokasen:members-open-topics-->"
BODY_SECONDS = 60


class MembersPageMixin:
    """serve() of every members page: readers only, never stored by shared caches.

    Served through ``serving.serve`` (a live page of the area, GET), the page's body (the
    breadcrumbs, the members' menu and the content) is rendered once per area version, page,
    query string and kind of reader (member or staff) and cached: it holds nothing of the
    visitor's own. ``members/_shell.html`` puts the body into ``base.html``, cached in turn with
    holes (``pages.page_cache``): what is the visitor's own (the header's account links, the
    login's end warning, the password prompt of a member's account) and the open 小ネタ topics,
    which open and close by the clock, are filled in on every request. Previews and everything
    Wagtail serves itself render as before, uncached."""

    def serve(self, request, *args, **kwargs):
        if not access.can_read_members_area(request.user):
            return access.refuse(request)
        key = getattr(request, "_kokasen_members_body_key", None)
        if key is not None and not getattr(request, "is_preview", False):
            response = self._serve_cached_body(request, key, args, kwargs)
        else:
            response = super().serve(request, *args, **kwargs)
        add_never_cache_headers(response)
        patch_cache_control(response, private=True)
        return response

    def _serve_cached_body(self, request, key, args, kwargs):
        def render():
            context = self.get_context(request, *args, **kwargs)
            context.update(
                members_frame="members/_body_frame.html",
                members_body_pass=True,
                members_prompt_slot=mark_safe(PROMPT_SLOT),
                members_topics_slot=mark_safe(TOPICS_SLOT),
            )
            html = render_to_string(self.get_template(request, *args, **kwargs), context, request=request)
            if "csrfmiddlewaretoken" in html:  # a form of one visitor's must never be shared
                raise RuntimeError(f"{type(self).__name__}: a cached members body holds a CSRF token")
            return html

        request.is_preview = False
        body = caching.versioned(key, render, BODY_SECONDS)
        return page_cache.render(
            request,
            "members/_shell.html",
            {"page": self, "self": self, "members_body": mark_safe(body)},
            key=f"members:shell:{key}",
            holes={PROMPT_SLOT: lambda: password_prompt_html(request), TOPICS_SLOT: lambda: open_topics_html(request)},
        )


PASSWORD_PROMPT = slots.Fragment("members/_password_prompt.html", ())
OPEN_TOPICS_SECONDS = 600


def password_prompt_html(request) -> str:
    """The request to change the mailed password (decision 0043), or nothing: the same words
    for every account that still has it, rendered once per process."""
    if not (roles.is_member(request.user) and getattr(request.user, "password_issued", False)):
        return ""
    return PASSWORD_PROMPT.fill((), {"request": request}, {})


def open_topics_html(request) -> str:
    """The open 小ネタ topics' section, rendered once per list of topics (the key is what it
    shows, so it cannot be stale)."""
    topics = open_topics(request)

    def field(topic, name):  # what the section shows of a topic (an object or, from a hook, a dict)
        return topic.get(name) if isinstance(topic, dict) else getattr(topic, name, None)

    shown = repr([tuple(field(t, name) for name in ("title", "url", "closes_at")) for t in topics])
    key = "members:open-topics:" + hashlib.sha256(shown.encode()).hexdigest()[:32]
    return caching.versioned(
        key, lambda: render_to_string("members/_open_topics.html", {"open_topics": topics}), OPEN_TOPICS_SECONDS
    )


class MembersNoticeBlock(blocks.StructBlock):
    date = blocks.DateBlock(label="日付")
    title = blocks.CharBlock(label="見出し", max_length=120)
    text = blocks.RichTextBlock(label="本文", features=RICH_FEATURES, required=False)

    class Meta:
        icon = "warning"
        label = "お知らせ"
        template = "members/blocks/notice.html"


class MembersHomePage(MembersPageMixin, Page):
    lead = models.TextField("リード文", blank=True)
    notices = StreamField([("notice", MembersNoticeBlock())], verbose_name="会員向けのお知らせ", blank=True)
    body = StreamField(BodyBlock(), verbose_name="本文", blank=True)

    content_panels = Page.content_panels + [FieldPanel("lead"), FieldPanel("notices"), FieldPanel("body")]
    parent_page_types = ["pages.HomePage"]
    subpage_types = ["members.RoundtableIndexPage", "members.InitiativeIndexPage", "members.FormsLibraryPage"]
    max_count = 1
    template = "members/members_home_page.html"

    class Meta:
        verbose_name = "会員エリア トップ"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        from .services import members_area_secure

        members_area_secure(home=self)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["sections"] = self.get_children().live().specific()
        context["new_roundtables"] = RoundtablePage.objects.live().descendant_of(self).order_by("-held_on", "-pk")[:3]
        context["new_initiatives"] = (
            InitiativePage.objects.live()
            .descendant_of(self)
            .select_related("local_government")
            .order_by("-last_published_at", "-pk")[:5]
        )
        libraries = FormsLibraryPage.objects.live().descendant_of(self)
        context["new_forms"] = (
            FormEntry.objects.filter(page__in=libraries)
            .select_related("local_government", "document", "page")
            .order_by("-published_on", "-pk")[:5]
        )
        context["open_topics"] = [] if getattr(request, "_kokasen_members_body_key", None) else open_topics(request)
        context["is_member"] = roles.is_member(request.user)
        return context


def open_topics(request) -> list:
    """The open 小ネタ topics (from the tips app's hook): read on every request, not cached with
    the page, since topics open and close by the clock."""
    topics = []
    for hook in hooks.get_hooks(OPEN_TOPICS_HOOK):
        topics.extend(hook(request) or [])
    return topics


class RoundtableTag(TaggedItemBase):
    content_object = ParentalKey("members.RoundtablePage", on_delete=models.CASCADE, related_name="tagged_items")


class RoundtableIndexPage(MembersPageMixin, Page):
    intro = models.TextField("説明", blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["members.MembersHomePage"]
    subpage_types = ["members.RoundtablePage"]
    max_count = 1
    template = "members/roundtable_index_page.html"

    class Meta:
        verbose_name = "座談会アーカイブ"

    def roundtables(self):
        return RoundtablePage.objects.live().child_of(self).order_by("-held_on", "-pk")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        roundtables = self.roundtables()
        tags = (
            Tag.objects.filter(members_roundtabletag_items__content_object__in=roundtables).distinct().order_by("name")
        )
        tag = request.GET.get("tag", "").strip()[:100]
        if tag:
            roundtables = roundtables.filter(tags__name=tag)
        context["tags"] = tags
        context["current_tag"] = tag
        context["roundtables"] = Paginator(roundtables.prefetch_related("tags"), PER_PAGE).get_page(
            request.GET.get("page")
        )
        return context


def optional_document(verbose_name: str, **options):
    """A page's optional link to one document (kept empty when the document is deleted)."""
    return models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        **options,
    )


CAPTION_HELP = (
    "動画には、音声を聞けない方のために字幕（WebVTT）か文字起こしを付けてください。"
    "JIS X 8341-3（WCAG 1.2.2・1.2.5）では、収録済みの動画に字幕が求められます。"
)
NO_CAPTIONS_MARK = "（字幕・文字起こしなし）"
NO_CAPTIONS_WARNING = (
    "「{title}」の動画には字幕も文字起こしもありません。"
    "音声を聞けない方が内容を知ることができないため、字幕（WebVTT）か文字起こしを追加してください。"
)


class RoundtablePage(MembersPageMixin, Page):
    held_on = models.DateField("開催日")
    summary = models.TextField("テーマ・概要", max_length=1000)
    video = optional_document("動画（MP4 または WebM）")
    captions = optional_document(
        "字幕（WebVTT）",
        help_text="動画と同じく「会員限定資料」コレクションに登録した .vtt ファイル（UTF-8、1 行目が WEBVTT）を選んでください。",
    )
    transcript = models.TextField(
        "動画の文字起こし・要旨",
        blank=True,
        help_text="音声を聞けない方のために、話の内容を文章でも掲載してください。動画の下に表示されます。",
    )
    body = StreamField(BodyBlock(), verbose_name="本文（プログラム・登壇者など）", blank=True)
    tags = ClusterTaggableManager("タグ", through=RoundtableTag, blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("held_on"),
        FieldPanel("summary"),
        FieldPanel("tags"),
        MultiFieldPanel(
            [FieldPanel("video"), FieldPanel("captions"), FieldPanel("transcript")],
            heading="動画",
            help_text=CAPTION_HELP,
        ),
        InlinePanel("handouts", label="配布資料", heading="配布資料"),
        FieldPanel("body"),
    ]
    search_fields = Page.search_fields + [index.SearchField("summary"), index.SearchField("transcript")]
    parent_page_types = ["members.RoundtableIndexPage"]
    subpage_types = []
    template = "members/roundtable_page.html"

    class Meta:
        verbose_name = "座談会"

    def clean(self):
        super().clean()
        for field, kind in (("video", {"video": True}), ("captions", {"captions": True})):
            if getattr(self, f"{field}_id"):
                try:
                    validate_member_document(getattr(self, field), **kind)
                except ValidationError as error:
                    raise ValidationError({field: error.messages}) from error

    @property
    def lacks_captions_and_transcript(self) -> bool:
        """A video that people who cannot hear it cannot follow (WCAG 1.2.2, 1.2.3/1.2.5)."""
        return bool(self.video_id) and not self.captions_id and not self.transcript.strip()

    def get_admin_display_title(self):
        title = super().get_admin_display_title()
        return f"{title}{NO_CAPTIONS_MARK}" if self.lacks_captions_and_transcript else title


class RoundtableHandout(MemberDocumentLink):
    page = ParentalKey(RoundtablePage, on_delete=models.CASCADE, related_name="handouts")


class InitiativeIndexPage(MembersPageMixin, Page):
    intro = models.TextField("説明", blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["members.MembersHomePage"]
    subpage_types = ["members.InitiativePage"]
    max_count = 1
    template = "members/initiative_index_page.html"

    class Meta:
        verbose_name = "各市町村の取組（一覧）"

    def get_context(self, request, *args, **kwargs):
        from .selectors import InitiativeFilterForm, filter_initiatives

        context = super().get_context(request, *args, **kwargs)
        form = InitiativeFilterForm(request.GET or None)
        initiatives = filter_initiatives(self, form)
        paginator = Paginator(initiatives, PER_PAGE)
        context["filter_form"] = form
        context["initiatives"] = paginator.get_page(request.GET.get("page"))
        context["query_without_page"] = form.query_string() if form.is_bound else ""
        return context


class InitiativePage(MembersPageMixin, Page):
    local_government = models.ForeignKey(
        "localgov.LocalGovernment", verbose_name="自治体", on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField("概要", max_length=1000)
    body = StreamField(BodyBlock(), verbose_name="本文", blank=True)
    published_on = models.DateField("掲載日", default=datetime.date.today)

    content_panels = Page.content_panels + [
        FieldPanel("local_government"),
        FieldPanel("published_on"),
        FieldPanel("summary"),
        InlinePanel("materials", label="資料", heading="資料"),
        FieldPanel("body"),
    ]
    search_fields = Page.search_fields + [index.SearchField("summary")]
    parent_page_types = ["members.InitiativeIndexPage"]
    subpage_types = []
    template = "members/initiative_page.html"

    class Meta:
        verbose_name = "各市町村の取組"


class InitiativeMaterial(MemberDocumentLink):
    page = ParentalKey(InitiativePage, on_delete=models.CASCADE, related_name="materials")


class FormsLibraryPage(MembersPageMixin, Page):
    intro = models.TextField("説明", blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), InlinePanel("entries", label="様式", heading="様式")]
    parent_page_types = ["members.MembersHomePage"]
    subpage_types = []
    max_count = 1
    template = "members/forms_library_page.html"

    class Meta:
        verbose_name = "各市町村の様式"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        entries = self.entries.select_related("local_government", "document", "second_document")
        kind = request.GET.get("type", "")
        if kind in FormEntry.FormType.values:
            entries = entries.filter(form_type=kind)
        else:
            kind = ""
        context["form_types"] = FormEntry.FormType.choices
        context["current_type"] = kind
        context["entries"] = entries.order_by("form_type", "sort_order", "pk")
        return context


class FormEntry(Orderable):
    class FormType(models.TextChoices):
        SUPPORT_PLAN = "support_plan", "サポートプラン様式"
        ASSESSMENT = "assessment", "アセスメントシート"
        CASE_RECORD = "case_record", "相談・支援記録"
        CONFERENCE = "conference", "会議録・連携様式"
        OTHER = "other", "その他"

    page = ParentalKey(FormsLibraryPage, on_delete=models.CASCADE, related_name="entries")
    title = models.CharField("様式名", max_length=200)
    form_type = models.CharField("様式の種類", max_length=20, choices=FormType.choices, default=FormType.SUPPORT_PLAN)
    local_government = models.ForeignKey(
        "localgov.LocalGovernment",
        verbose_name="提供自治体",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.CharField("説明（任意）", max_length=300, blank=True)
    document = models.ForeignKey(
        "wagtaildocs.Document", verbose_name="ファイル", on_delete=models.CASCADE, related_name="+"
    )
    second_document = models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name="別形式・記入例（任意）",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_on = models.DateField("掲載日", default=datetime.date.today)

    panels = [
        FieldPanel("title"),
        FieldPanel("form_type"),
        FieldPanel("local_government"),
        FieldPanel("description"),
        FieldPanel("document"),
        FieldPanel("second_document"),
        FieldPanel("published_on"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = "様式"

    def __str__(self):
        return self.title

    def files(self):
        return [d for d in (self.document, self.second_document) if d is not None]

    def clean(self):
        super().clean()
        errors = {}
        for field in ("document", "second_document"):
            if getattr(self, f"{field}_id"):
                try:
                    validate_member_document(getattr(self, field))
                except ValidationError as error:
                    errors[field] = error.messages
        if errors:
            raise ValidationError(errors)
