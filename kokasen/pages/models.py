"""The public portal's page types (REQUIREMENTS P1, P3, P4)."""

from django.conf import settings
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index
from wagtail.snippets.models import register_snippet

from . import policies, rendering
from .blocks import BodyBlock


@register_snippet
class MenuGroup(models.Model):
    """A category of the grouped menu structure (P3): several menus under one heading."""

    title = models.CharField("分類名", max_length=40)
    slug = models.SlugField(
        "識別名", max_length=40, unique=True, help_text="半角英数字（サイトマップ内のリンク先になります）"
    )
    sort_order = models.PositiveSmallIntegerField("表示順", default=0)

    panels = [FieldPanel("title"), FieldPanel("slug"), FieldPanel("sort_order")]

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = "メニュー分類"
        verbose_name_plural = "メニュー分類"

    def __str__(self):
        return self.title


@register_setting(icon="cog")
class PortalSettings(BaseSiteSetting):
    """Choices the agency makes without a developer: menu structure and design (P3, P4)."""

    class Structure(models.TextChoices):
        FLAT = "flat", "パターンA：11メニューを並べる"
        GROUPED = "grouped", "パターンB：分類ごとにまとめる"

    class Design(models.TextChoices):
        STANDARD = "standard", "デザイン1：スタンダード（青）"
        WARM = "warm", "デザイン2：やわらか（緑）"

    structure = models.CharField("メニュー構成", max_length=10, choices=Structure.choices, default=Structure.FLAT)
    design = models.CharField("デザイン", max_length=10, choices=Design.choices, default=Design.STANDARD)
    footer_text = models.TextField(
        "フッターの文言",
        blank=True,
        default="こども家庭庁 支援局 虐待防止対策課",
    )

    panels = [FieldPanel("structure"), FieldPanel("design"), FieldPanel("footer_text")]

    class Meta:
        verbose_name = "ポータル設定"


class PortalPage(Page):
    """Shared fields of every public page."""

    summary = models.TextField("概要", blank=True, max_length=400, help_text="一覧や検索結果に表示されます。")

    search_fields = Page.search_fields + [index.SearchField("summary")]

    class Meta:
        abstract = True


class MenuPageMixin(models.Model):
    """A top-level menu page (① – ⑪) can belong to a menu group of the grouped structure."""

    menu_group = models.ForeignKey(
        MenuGroup,
        verbose_name="メニュー分類（パターンB）",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True


class HomePage(PortalPage):
    lead = models.TextField("リード文", blank=True)
    body = StreamField(BodyBlock(), verbose_name="本文", blank=True)

    content_panels = Page.content_panels + [FieldPanel("lead"), FieldPanel("summary"), FieldPanel("body")]
    subpage_types = [
        "pages.SectionPage",
        "pages.NewsIndexPage",
        "pages.SitemapPage",
        "pages.PolicyPage",
        "members.MembersHomePage",
    ]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1
    template = "pages/home_page.html"

    class Meta:
        verbose_name = "トップページ"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["latest_news"] = (
            NewsPage.objects.live()
            .public()
            .descendant_of(self)
            .order_by("-date", "-pk")[: settings.PORTAL_NEWS_ON_HOME]
        )
        context["news_index"] = NewsIndexPage.objects.live().public().descendant_of(self).first()
        return context


def public_children(page):
    """The page's live, public children (specific), in tree order, for its list of pages.
    During a static export they come from the export's own load of its pages
    (RenderMode.shared["public_children"]) instead of a restriction and a children query per
    page (kokasen.static_export.builder)."""
    mode = rendering.current()
    known = mode.shared.get("public_children") if mode.static_export else None
    if known is not None and page.pk in known:
        return known[page.pk]
    return page.get_children().live().public().specific()


class SectionPage(MenuPageMixin, PortalPage):
    body = StreamField(BodyBlock(), verbose_name="本文", blank=True)

    content_panels = Page.content_panels + [FieldPanel("summary"), FieldPanel("body")]
    promote_panels = Page.promote_panels + [FieldPanel("menu_group")]
    search_fields = PortalPage.search_fields + [index.SearchField("body")]
    parent_page_types = ["pages.HomePage"]
    subpage_types = ["pages.ArticlePage"]
    template = "pages/section_page.html"

    class Meta:
        verbose_name = "メニュー（セクション）"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["children"] = public_children(self)
        return context


class ArticlePage(PortalPage):
    body = StreamField(BodyBlock(), verbose_name="本文")

    content_panels = Page.content_panels + [FieldPanel("summary"), FieldPanel("body")]
    search_fields = PortalPage.search_fields + [index.SearchField("body")]
    parent_page_types = ["pages.SectionPage", "pages.ArticlePage"]
    subpage_types = ["pages.ArticlePage"]
    template = "pages/article_page.html"

    class Meta:
        verbose_name = "記事"

    def headings(self):
        return [child.value for child in self.body if child.block_type == "heading"]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        headings = self.headings()
        context["toc"] = headings if len(headings) >= 3 else []
        context["children"] = public_children(self)
        return context


class NewsIndexPage(RoutablePageMixin, MenuPageMixin, PortalPage):
    per_page = 20

    content_panels = Page.content_panels + [FieldPanel("summary")]
    promote_panels = Page.promote_panels + [FieldPanel("menu_group")]
    parent_page_types = ["pages.HomePage"]
    subpage_types = ["pages.NewsPage"]
    max_count = 1
    template = "pages/news_index_page.html"

    class Meta:
        verbose_name = "お知らせ一覧"

    def news(self):
        mode = rendering.current()
        known = mode.shared.get("public_children") if mode.static_export else None
        if known is not None and self.pk in known:  # the export's pages, as the query would give them
            news = [page for page in known[self.pk] if isinstance(page, NewsPage)]
            return sorted(news, key=lambda page: (page.date, page.pk), reverse=True)
        return NewsPage.objects.live().public().child_of(self).order_by("-date", "-pk")

    @path("")
    def first_page(self, request):
        return self.news_page(request, 1)

    @path("page/<int:number>/")
    def news_page(self, request, number):
        paginator = Paginator(self.news(), self.per_page)
        if number < 1 or number > paginator.num_pages or (number == 1 and request.path.endswith("/page/1/")):
            raise Http404
        return self.render(request, context_overrides={"news_list": paginator.page(number)})


class NewsPage(PortalPage):
    class Category(models.TextChoices):
        NOTICE = "notice", "お知らせ"
        EVENT = "event", "研修・イベント"
        MATERIAL = "material", "資料掲載"
        SYSTEM = "system", "システム"

    date = models.DateField("日付")
    category = models.CharField("分類", max_length=10, choices=Category.choices, default=Category.NOTICE)
    body = StreamField(BodyBlock(), verbose_name="本文", blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("date"),
        FieldPanel("category"),
        FieldPanel("summary"),
        FieldPanel("body"),
    ]
    search_fields = PortalPage.search_fields + [index.SearchField("body"), index.FilterField("date")]
    parent_page_types = ["pages.NewsIndexPage"]
    subpage_types = []
    template = "pages/news_page.html"

    class Meta:
        verbose_name = "お知らせ"
        ordering = ["-date"]


class SitemapPage(PortalPage):
    content_panels = Page.content_panels + [FieldPanel("summary")]
    parent_page_types = ["pages.HomePage"]
    subpage_types = []
    max_count = 1
    template = "pages/sitemap_page.html"

    class Meta:
        verbose_name = "サイトマップ"

    def get_context(self, request, *args, **kwargs):
        from . import navigation

        context = super().get_context(request, *args, **kwargs)
        tree = navigation.public_tree(self.get_site().root_page)
        context["tree"] = tree
        context["tree_groups"] = navigation.group_nodes(tree)
        return context


class PolicyPage(PortalPage):
    """お問い合わせ, プライバシーポリシー, サイトポリシー, アクセシビリティ方針: ordinary pages the
    agency edits, each linked from the footer by its kind (policies.py, decision 0044)."""

    kind = models.CharField(
        "種類（フッターのリンク）",
        max_length=20,
        choices=policies.KINDS,
        help_text="フッターのどのリンクの行き先になるかを決めます。同じ種類のページは1つだけにしてください。",
    )
    body = StreamField(BodyBlock(), verbose_name="本文", blank=True)

    content_panels = Page.content_panels + [FieldPanel("kind"), FieldPanel("summary"), FieldPanel("body")]
    search_fields = PortalPage.search_fields + [index.SearchField("body")]
    parent_page_types = ["pages.HomePage"]
    subpage_types = []
    template = "pages/policy_page.html"

    class Meta:
        verbose_name = "サイトの方針・お問い合わせ"

    def headings(self):
        return [child.value for child in self.body if child.block_type == "heading"]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        headings = self.headings()
        context["toc"] = headings if len(headings) >= 3 else []
        return context
