from functools import cached_property

from django.urls import reverse
from wagtail.models import Site

from . import navigation, rendering


class Portal:
    """Template-facing facts about the public site, computed on first use per request."""

    def __init__(self, request):
        self.request = request
        self.mode = rendering.current()

    @property
    def static_export(self) -> bool:
        return self.mode.static_export

    @cached_property
    def site(self):
        return Site.find_for_request(self.request)

    @cached_property
    def settings(self):
        from .models import PortalSettings

        return PortalSettings.for_site(self.site) if self.site else PortalSettings()

    @property
    def structure(self) -> str:
        return self.mode.structure or self.settings.structure

    @property
    def design(self) -> str:
        return self.mode.design or self.settings.design

    @cached_property
    def root(self):
        return self.site.root_page.specific if self.site else None

    @cached_property
    def sitemap_url(self):
        from .models import SitemapPage

        if not self.root:
            return None
        page = SitemapPage.objects.live().public().descendant_of(self.root).first()
        return page.url if page else None

    @cached_property
    def menu(self):
        if not self.root:
            return []
        if self.structure == "grouped":
            return navigation.grouped_menu(self.root, self.sitemap_url)
        return navigation.flat_menu(self.root)

    @property
    def search_url(self):
        return reverse("search")


def portal(request):
    return {"portal": Portal(request)}
