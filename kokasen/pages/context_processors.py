from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils.functional import cached_property
from wagtail.models import Page, Site

from . import chrome, navigation, rendering


def _shared(compute):
    """Like cached_property, but during a static export the value is computed once for all
    pages (menus and settings are the same on every page of one export)."""

    name = compute.__name__

    def getter(self):
        store = self.mode.shared if self.mode.static_export else self.__dict__
        key = f"portal:{name}"
        if key not in store:
            store[key] = compute(self)
        return store[key]

    return property(getter)


class Portal:
    """Template-facing facts about the public site, computed on first use per request."""

    def __init__(self, request):
        self.request = request
        self.mode = rendering.current()

    @property
    def static_export(self) -> bool:
        return self.mode.static_export

    @_shared
    def site(self):
        return Site.find_for_request(self.request)

    @_shared
    def settings(self):
        from .models import PortalSettings

        return PortalSettings.for_site(self.site) if self.site else PortalSettings()

    @property
    def structure(self) -> str:
        return self.mode.structure or self._facts["structure"]

    @property
    def design(self) -> str:
        return self.mode.design or self._facts["design"]

    @property
    def home_url(self) -> str:
        return self._facts["home_url"]

    @property
    def host_key(self) -> str:
        """Names this request's site in chrome cache keys (sites are found by host and port)."""
        return f"{self.request.get_host()}"

    @cached_property
    def _facts(self) -> dict:
        """The settings every page reads; on the live site from the chrome cache (chrome.py),
        so a page that shows no settings-dependent content needs no query for them."""

        def compute():
            return {
                "structure": self.settings.structure,
                "design": self.settings.design,
                "home_url": self.root.url if self.root else "/",
            }

        if self.static_export:
            return compute()
        return self.chrome_cached(f"facts:{self.host_key}", compute)

    @cached_property
    def _chrome_generation(self) -> str:
        return chrome.generation()

    def chrome_cached(self, key: str, compute):
        """The live site's shared chrome for this request (one generation read per request)."""
        return chrome.cached(self._chrome_generation, key, compute)

    @_shared
    def root(self):
        return self.site.root_page.specific if self.site else None

    @_shared
    def sitemap_url(self):
        from .models import SitemapPage

        if not self.root:
            return None
        page = SitemapPage.objects.live().public().descendant_of(self.root).first()
        return page.url if page else None

    @_shared
    def policy_links(self):
        """The footer's お問い合わせ and policy pages, in policies.POLICIES order: (title, url)."""
        from .models import PolicyPage
        from .policies import POLICIES

        if not self.root:
            return []
        pages = {}
        for page in PolicyPage.objects.live().public().child_of(self.root).order_by("path"):
            pages.setdefault(page.kind, page)
        return [(pages[p.kind].title, pages[p.kind].url) for p in POLICIES if p.kind in pages]

    @_shared
    def contact_url(self):
        """The お問い合わせ page (every 「お問い合わせください」 links it), or None."""
        from .models import PolicyPage

        if not self.root:
            return None
        page = PolicyPage.objects.live().public().child_of(self.root).filter(kind="contact").first()
        return page.url if page else None

    @_shared
    def menu(self):
        if not self.root:
            return []
        if self.structure == "grouped":
            return navigation.grouped_menu(self.root, self.sitemap_url)  # three queries
        if self.static_export:
            return navigation.flat_menu(self.root)  # once per export (see _shared)
        # The flat menu costs a query per menu; on the live site it is cached until the
        # public page tree changes.
        key = f"kokasen-menu-{navigation.public_version(self.root)}-{settings.PORTAL_MENU_DROPDOWN_LIMIT}"
        menu = cache.get(key)
        if menu is None:
            menu = navigation.flat_menu(self.root)
            cache.set(key, menu, 60 * 60)
        return menu

    @_shared
    def _pages_by_path(self):
        from wagtail.models import Page

        if not self.root:
            return {}
        pages = Page.objects.live().descendant_of(self.root, inclusive=True)
        return {p.path: p for p in pages}

    def trail(self, page) -> list:
        """The page's ancestors below the tree root, then the page itself.

        During a static export all of them come from one query per export instead of one
        per page."""
        if page is None or not getattr(page, "pk", None):
            return []
        trails = self.__dict__.setdefault("_trails", {})  # header and breadcrumbs ask for the same
        if page.pk not in trails:
            trails[page.pk] = self._trail(page)
        return trails[page.pk]

    def _trail(self, page) -> list:
        if self.static_export:
            index = self._pages_by_path
            steps = range(Page.steplen * 2, len(page.path) + 1, Page.steplen)
            found = [index.get(page.path[:end]) for end in steps]
            if all(found):
                return found
        return list(page.get_ancestors(inclusive=True).filter(depth__gt=1))

    @property
    def shows_userbar(self) -> bool:
        """Wagtail's user bar is for people who may enter the admin (roles.requires_two_factor
        covers them, from facts already read for the request); asking the user bar itself
        would load every permission of every member on every page."""
        from kokasen.accounts import roles

        return not self.static_export and roles.requires_two_factor(getattr(self.request, "user", None))

    @property
    def search_url(self):
        return reverse("search")


def portal(request):
    return {"portal": Portal(request)}
