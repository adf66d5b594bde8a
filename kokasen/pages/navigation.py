"""Menus, breadcrumbs and the sitemap tree: only live, public pages ever appear."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Max
from wagtail.models import Page, PageLogEntry, Site


@dataclass
class MenuItem:
    title: str
    url: str
    page_id: int | None = None
    children: list["MenuItem"] = field(default_factory=list)
    more_url: str | None = None  # "一覧を見る" when the dropdown is cut short


def _public(qs):
    return qs.live().public()


def public_version(root: Page) -> str:
    """A stamp of the public page tree below root, in two cheap queries: it changes whenever
    a page is published, unpublished, moved or restricted (each writes a PageLogEntry), or
    created or saved live without a revision. Caches of menus and search documents use it
    as their key."""
    pages = Page.objects.live().aggregate(n=Count("pk"), last=Max("last_published_at"))
    log = PageLogEntry.objects.aggregate(last=Max("pk"))
    return f"{root.pk}-{pages['n']}-{pages['last'].timestamp() if pages['last'] else 0}-{log['last']}"


def with_root_paths(pages):
    """``pages`` (a list), each given the sites' root paths that ``page.url`` needs, read once.

    Without a request, Wagtail's ``get_url`` caches ``Site.get_site_root_paths()`` on the page
    itself, so each page of a fresh query asks the cache (Redis) once: 1,300 round trips for the
    sitemap of the benchmark site, a third of a publish's work in the worker (decision 0062,
    addendum). Wagtail reads them from ``_wagtail_cached_site_root_paths`` when it is set (its
    per-request cache uses the same attribute)."""
    if pages:
        paths = Site.get_site_root_paths()
        for page in pages:
            page._wagtail_cached_site_root_paths = paths
    return pages


def menu_pages(root: Page) -> list[Page]:
    return with_root_paths(list(_public(root.get_children()).in_menu().specific()))


def flat_menu(root: Page) -> list[MenuItem]:
    """Pattern A: the eleven menus, each with a drop-down of its first pages."""
    limit = settings.PORTAL_MENU_DROPDOWN_LIMIT
    items = []
    for page in menu_pages(root):
        children = list(_public(page.get_children()).filter(show_in_menus=True)[: limit + 1])
        if not children and page.specific_class.__name__ == "SectionPage":
            children = list(_public(page.get_children())[: limit + 1])
        with_root_paths(children)
        item = MenuItem(title=page.title, url=page.url, page_id=page.pk)
        item.children = [MenuItem(title=c.title, url=c.url, page_id=c.pk) for c in children[:limit]]
        if len(children) > limit:
            item.more_url = page.url
        items.append(item)
    return items


def grouped_menu(root: Page, sitemap_url: str | None) -> list[MenuItem]:
    """Pattern B: a few categories, each opening onto its menus."""
    from .models import MenuGroup

    pages = menu_pages(root)
    groups = []
    for group in MenuGroup.objects.all():
        members = [p for p in pages if getattr(p, "menu_group_id", None) == group.pk]
        if not members:
            continue
        anchor = f"group-{group.slug}"
        url = f"{sitemap_url}#{anchor}" if sitemap_url else members[0].url
        groups.append(
            MenuItem(
                title=group.title,
                url=url,
                children=[MenuItem(title=p.title, url=p.url, page_id=p.pk) for p in members],
            )
        )
    ungrouped = [p for p in pages if getattr(p, "menu_group_id", None) is None]
    groups.extend(MenuItem(title=p.title, url=p.url, page_id=p.pk) for p in ungrouped)
    return groups


@dataclass
class TreeNode:
    title: str
    url: str
    children: list["TreeNode"]
    group_id: int | None = None


@dataclass
class TreeGroup:
    title: str | None
    anchor: str | None
    nodes: list[TreeNode]


def group_nodes(nodes: list[TreeNode]) -> list[TreeGroup]:
    """Top-level nodes under their menu groups (pattern B), ungrouped ones last."""
    from .models import MenuGroup

    groups = [
        TreeGroup(title=g.title, anchor=f"group-{g.slug}", nodes=[n for n in nodes if n.group_id == g.pk])
        for g in MenuGroup.objects.all()
    ]
    groups = [g for g in groups if g.nodes]
    known = {n.group_id for g in groups for n in g.nodes}
    rest = [n for n in nodes if n.group_id is None or n.group_id not in known]
    if rest:
        groups.append(TreeGroup(title=None, anchor=None, nodes=rest))
    return groups


def public_tree(root: Page) -> list[TreeNode]:
    """Every live public page below root, in tree order (two queries, whatever the size)."""
    from .models import NewsIndexPage, SectionPage

    pages = with_root_paths(list(_public(Page.objects.descendant_of(root)).order_by("path")))
    groups = {
        pk: group
        for model in (SectionPage, NewsIndexPage)
        for pk, group in model.objects.values_list("pk", "menu_group_id")
    }
    nodes: dict[str, TreeNode] = {}
    top: list[TreeNode] = []
    root_path = root.path
    for page in pages:
        node = TreeNode(title=page.title, url=page.url, children=[], group_id=groups.get(page.pk))
        nodes[page.path] = node
        parent_path = page.path[: -Page.steplen]
        if parent_path == root_path:
            top.append(node)
        elif parent_path in nodes:
            nodes[parent_path].children.append(node)
        # A page whose parent is not public is skipped with its whole branch.
    return top
