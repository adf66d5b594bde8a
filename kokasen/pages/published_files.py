"""Public pages as files that nginx serves to anonymous visitors (issue 19 item 2, decision 0061).

The live site's anonymous rendering of every public page is kept in ``PUBLISHED_PAGES_ROOT`` as
``<root>/<page path>/index.html`` (and ``index.html.gz`` beside it for nginx's gzip_static).
nginx answers a GET or HEAD without the session or messages cookie and without a query string
from that file when it exists, and asks the app otherwise (deploy/nginx/portal.conf).

What may be a file (``refusal``): a live page of this app's own page types (never the members'
area or any other app's pages) in the default site, with no view restriction on it or any
ancestor, whose anonymous response is a plain 200 HTML page that sets no cookie, is not marked
private or no-store and carries no CSRF token. The file is the app's own answer to an anonymous
GET: the request goes through the whole middleware stack (``render_anonymous``), so a page that
cannot be a file is simply not written and the app keeps answering it.

When (receivers in ``connect``):

- publishing a page rewrites its file at once, after the transaction commits, in the publishing
  request (one render); the pages that show it (its ancestors, the sitemap, the news index, its
  descendants' breadcrumbs) are rewritten by the ``refresh_published_pages`` task, and every file
  when what all pages show changed (menus, footer, settings, site name: ``chrome_fingerprint``);
- unpublishing, deleting, moving, a changed slug or a view restriction saved on the page or an
  ancestor removes the affected files at once, in the signal (before the response), and again
  after the commit, so that a writer that read the database before the commit cannot leave one;
- ``write_published_pages`` (deploys) writes every file and removes those of pages that are no
  longer public.

Every file is written to a temporary name and renamed into place; the rename, and every removal,
happens under one lock file, and the writer checks again under that lock, with a fresh query,
that the page is still live, unrestricted, at the same address and at the same revision. A
removal therefore either comes after the write (and removes it) or the write sees the
restriction and writes nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import gzip
import logging
import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

log = logging.getLogger(__name__)

APP_LABEL = "pages"  # only this app's page types may ever be files
INDEX = "index.html"
GZIP = "index.html.gz"
LOCK_NAME = ".kokasen-lock"
TEMP_DIR = ".kokasen-tmp"
FINGERPRINT_NAME = ".kokasen-chrome"
RESERVED = {LOCK_NAME, TEMP_DIR, FINGERPRINT_NAME}


# --- Where -------------------------------------------------------------------------------------


def root() -> Path | None:
    """The folder nginx serves, or None when the files are off (development, tests)."""
    value = getattr(settings, "PUBLISHED_PAGES_ROOT", "")
    return Path(value) if value else None


def enabled() -> bool:
    return root() is not None


def _default_site():
    from wagtail.models import Site

    return Site.objects.filter(is_default_site=True).select_related("root_page").first()


def path_for_url_path(url_path: str) -> str | None:
    """The address ("/about/") of a page with Wagtail's ``url_path`` in the default site, or None."""
    site = _default_site()
    if site is None or not url_path.startswith(site.root_page.url_path):
        return None
    return "/" + url_path[len(site.root_page.url_path) :]


def folder_for(base: Path, address: str) -> Path:
    """``base`` + the page's address, refusing anything that would leave ``base``."""
    parts = [part for part in unquote(address).split("/") if part]
    if any(part in (".", "..") or part in RESERVED or "\x00" in part for part in parts):
        raise ValueError(f"not a page address: {address!r}")
    folder = base.joinpath(*parts)
    if base.resolve() not in (folder.resolve(), *folder.resolve().parents):
        raise ValueError(f"outside {base}: {address!r}")
    return folder


@contextlib.contextmanager
def _locked(base: Path):
    base.mkdir(parents=True, exist_ok=True)
    with open(base / LOCK_NAME, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- What may be a file --------------------------------------------------------------------------


def why_not(page) -> str | None:
    """Why ``page`` (as it is in the database now) cannot be a file, or None."""
    if page.specific_class is None or page.specific_class._meta.app_label != APP_LABEL:
        return "not a public page type"
    if not page.live:
        return "not live"
    if page.get_view_restrictions().exists():  # on the page or any ancestor
        return "view restriction"
    if path_for_url_path(page.url_path) is None:
        return "not in the default site"
    return None


def refusal(response) -> str | None:
    """Why the app's anonymous answer cannot be shared by every anonymous visitor, or None."""
    if response.status_code != 200:
        return f"status {response.status_code}"
    if getattr(response, "streaming", False):
        return "streaming"
    if not response.get("Content-Type", "").startswith("text/html"):
        return "not HTML"
    if response.cookies:
        return "sets a cookie"
    cache_control = response.get("Cache-Control", "").lower()
    if "private" in cache_control or "no-store" in cache_control:
        return "private"
    if b"csrfmiddlewaretoken" in response.content:
        return "CSRF token"
    return None


# --- Rendering -----------------------------------------------------------------------------------

_handler: BaseHandler | None = None


def _get_handler() -> BaseHandler:
    global _handler
    if _handler is None:
        handler = BaseHandler()
        handler.load_middleware()
        _handler = handler
    return _handler


def host_of(site) -> str:
    """The host the anonymous request names: the portal's own (PORTAL_BASE_URL, the name nginx
    serves and ALLOWED_HOSTS allows; Wagtail then answers from the default site), else the
    default site's hostname."""
    from django.http.request import split_domain_port, validate_host

    netloc = urlsplit(getattr(settings, "PORTAL_BASE_URL", "") or "").netloc
    if netloc and validate_host(split_domain_port(netloc)[0], settings.ALLOWED_HOSTS):
        return netloc
    return site.hostname if site.port in (80, 443) else f"{site.hostname}:{site.port}"


def render_anonymous(address: str, host: str):
    """The app's whole answer (middleware, view, headers) to an anonymous GET of ``address``.

    It runs in a copy of the current context, so that the request id and render mode of the
    request that publishes stay as they were."""
    request = RequestFactory().get(quote(unquote(address)), secure=True, HTTP_HOST=host)
    return contextvars.copy_context().run(_get_handler().get_response, request)


# --- Writing and removing -----------------------------------------------------------------------


def _still_writable(page_id: int, url_path: str, revision_id) -> bool:
    """Checked under the lock, with a fresh query: the page is what was rendered, and public."""
    from wagtail.models import Page

    page = Page.objects.filter(pk=page_id).first()
    return (
        page is not None
        and page.url_path == url_path
        and page.live_revision_id == revision_id
        and why_not(page) is None
    )


def write_page(page) -> Path | None:
    """Write ``page``'s file from the app's anonymous answer; remove it when it cannot be one.
    Returns the file written, or None."""
    base = root()
    if base is None:
        return None
    address = path_for_url_path(page.url_path)
    reason = why_not(page)
    if reason is None:
        response = render_anonymous(address, host_of(_default_site()))
        reason = refusal(response)
    if reason is not None:
        if address is not None:
            remove_page(address)
        # An error answer for a public page (a DisallowedHost, a broken template) is worth a warning.
        level = logging.WARNING if reason.startswith(("status 4", "status 5")) else logging.INFO
        log.log(level, "published page %s is not a file: %s", page.pk, reason)
        return None
    content = response.content
    folder = folder_for(base, address)
    temporary = base / TEMP_DIR
    temporary.mkdir(parents=True, exist_ok=True)
    files = []
    try:
        for name, data in ((GZIP, gzip.compress(content, 9, mtime=0)), (INDEX, content)):
            handle = tempfile.NamedTemporaryFile(dir=temporary, prefix=f"{page.pk}-", suffix=".tmp", delete=False)
            with handle:
                handle.write(data)
            os.chmod(handle.name, 0o644)
            files.append((name, handle.name))
        with _locked(base):
            if not _still_writable(page.pk, page.url_path, page.live_revision_id):
                return None
            folder.mkdir(parents=True, exist_ok=True)
            for name, temporary_name in files:  # the .gz first: index.html is what nginx looks for
                os.replace(temporary_name, folder / name)
        return folder / INDEX
    except OSError:
        log.exception("published page %s: the file could not be written; the app answers it", page.pk)
        remove_page(address)  # never leave an older copy behind
        return None
    finally:
        for _, temporary_name in files:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary_name)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def remove_page(address: str) -> None:
    """Remove one page's file (not its descendants'). Errors propagate: a copy that cannot be
    removed must not pass unnoticed."""
    base = root()
    if base is None or address is None:
        return
    folder = folder_for(base, address)
    with _locked(base):
        _unlink(folder / INDEX)  # first: nginx looks for index.html
        _unlink(folder / GZIP)


def remove_subtree(address: str) -> None:
    """Remove the files of the page at ``address`` and of every page below it."""
    base = root()
    if base is None or address is None:
        return
    folder = folder_for(base, address)
    with _locked(base):
        if folder == base:
            _unlink(base / INDEX)
            _unlink(base / GZIP)
            for child in base.iterdir():
                if child.name not in RESERVED and child.is_dir():
                    shutil.rmtree(child)
                elif child.name not in RESERVED:
                    _unlink(child)
        elif folder.exists():
            _unlink(folder / INDEX)
            _unlink(folder / GZIP)
            shutil.rmtree(folder)


def remove_now_and_after_commit(address: str | None, *, subtree: bool) -> None:
    """At once (before the response), and again once the transaction commits (a writer that
    checked before the commit may have written in between)."""
    if address is None or not enabled():
        return
    remove = remove_subtree if subtree else remove_page
    remove(address)
    transaction.on_commit(lambda: remove(address))


# --- Everything, and what changed ---------------------------------------------------------------


def public_pages():
    """The pages that may be files, from one query (``why_not`` checks each again)."""
    from wagtail.models import Page

    site = _default_site()
    if site is None:
        return Page.objects.none()
    return (
        Page.objects.live()
        .public()
        .descendant_of(site.root_page, inclusive=True)
        .filter(content_type__app_label=APP_LABEL)
        .order_by("path")
    )


def write_pages(page_ids) -> int:
    from wagtail.models import Page

    written = 0
    for page in Page.objects.filter(pk__in=list(page_ids)).order_by("path"):
        if write_page(page) is not None:
            written += 1
    return written


def write_all() -> dict:
    """Write every page's file, remove every other ``index.html`` under the root (pages no
    longer public), and record the chrome fingerprint. Files written while this runs (a publish)
    are kept."""
    base = root()
    if base is None:
        return {"written": 0, "removed": 0}
    started = timezone.now().timestamp()
    store_fingerprint(chrome_fingerprint())
    written = set()
    for page in public_pages():
        try:
            path = write_page(page)
        except Exception:  # one page's failure leaves the others written; the app answers it
            log.exception("published page %s: the file could not be written", page.pk)
            continue
        if path is not None:
            written.add(path)
    removed = 0
    for path in sorted(base.rglob(INDEX)):
        if path in written or any(part in RESERVED for part in path.relative_to(base).parts):
            continue
        with _locked(base):
            try:
                if path.stat().st_mtime >= started:
                    continue
            except FileNotFoundError:
                continue
            _unlink(path)
            _unlink(path.with_name(GZIP))
            removed += 1
    return {"written": len(written), "removed": removed}


def chrome_fingerprint() -> str:
    """A digest of what every page shows: the site, the portal settings, the menu groups and the
    live public pages of the two menu levels (titles, addresses, menu flags, groups)."""
    import hashlib

    from wagtail.models import Page

    from .models import MenuGroup, NewsIndexPage, PortalSettings, SectionPage

    site = _default_site()
    if site is None:
        return ""
    root_page = site.root_page
    facts = [
        (site.hostname, site.port, site.site_name, site.root_page_id),
        list(PortalSettings.objects.filter(site=site).values_list()),
        list(MenuGroup.objects.order_by("pk").values_list()),
        list(
            Page.objects.live()
            .public()
            .descendant_of(root_page, inclusive=True)
            .filter(depth__lte=root_page.depth + 2)
            .order_by("path")
            .values_list("pk", "path", "title", "url_path", "show_in_menus")
        ),
        list(SectionPage.objects.order_by("pk").values_list("pk", "menu_group_id")),
        list(NewsIndexPage.objects.order_by("pk").values_list("pk", "menu_group_id")),
    ]
    return hashlib.sha256(repr(facts).encode()).hexdigest()


def stored_fingerprint() -> str | None:
    base = root()
    try:
        return (base / FINGERPRINT_NAME).read_text(encoding="ascii").strip() if base else None
    except FileNotFoundError:
        return None


def store_fingerprint(value: str) -> None:
    base = root()
    if base is None:
        return
    base.mkdir(parents=True, exist_ok=True)
    temporary = base / f"{FINGERPRINT_NAME}.tmp"
    temporary.write_text(value + "\n", encoding="ascii")
    os.replace(temporary, base / FINGERPRINT_NAME)


def dependents(page) -> list[int]:
    """Pages whose anonymous answer shows ``page``: its ancestors (child lists, the home page's
    news), the sitemap and news index, and its descendants (breadcrumbs)."""
    from wagtail.models import Page

    from .models import NewsIndexPage, SitemapPage

    ids = set(page.get_ancestors().filter(depth__gt=1).live().values_list("pk", flat=True))
    ids |= set(SitemapPage.objects.live().values_list("pk", flat=True))
    ids |= set(NewsIndexPage.objects.live().values_list("pk", flat=True))
    ids |= set(Page.objects.live().descendant_of(page).values_list("pk", flat=True))
    ids.discard(page.pk)
    return sorted(ids)


def queue_refresh(page_ids: list[int] | None) -> None:
    """Rewrite ``page_ids`` (None: every file) through the task backend (never inline)."""
    from .tasks import refresh_published_pages

    refresh_published_pages.enqueue(page_ids=page_ids)


def refresh_after_change(page_id: int | None) -> None:
    """After a commit: every file when the chrome changed, else the pages that show ``page_id``."""
    from wagtail.models import Page

    current = chrome_fingerprint()
    if current != stored_fingerprint():
        store_fingerprint(current)
        queue_refresh(None)
        return
    page = Page.objects.filter(pk=page_id).first() if page_id else None
    if page is not None:
        queue_refresh([page.pk, *dependents(page)])


def after_publish(page_id: int) -> None:
    """In the publishing request, once committed: the page's file now, the rest queued."""
    from wagtail.models import Page

    page = Page.objects.filter(pk=page_id).first()
    if page is None:
        return
    try:
        write_page(page)
    except Exception:  # the page is published: the app answers it; an older copy must not stay
        log.exception("published page %s: the file could not be written", page_id)
        remove_page(path_for_url_path(page.url_path))
    refresh_after_change(page_id)


# --- Signals -------------------------------------------------------------------------------------


def _address(page) -> str | None:
    return path_for_url_path(page.url_path) if getattr(page, "url_path", None) else None


def on_published(sender, instance, **kwargs):
    if enabled():
        transaction.on_commit(lambda: after_publish(instance.pk))


def on_unpublished(sender, instance, **kwargs):
    if enabled():
        remove_now_and_after_commit(_address(instance), subtree=False)
        transaction.on_commit(lambda: refresh_after_change(instance.pk))


def on_page_pre_save(sender, instance, update_fields=None, **kwargs):
    """A changed slug (or any change of address): the old files go at once."""
    from wagtail.models import Page

    if not enabled() or not isinstance(instance, Page) or instance.pk is None:
        return
    if update_fields is not None and "url_path" not in update_fields and "slug" not in update_fields:
        return
    before = Page.objects.filter(pk=instance.pk).values_list("url_path", flat=True).first()
    if before and before != instance.url_path:
        remove_now_and_after_commit(path_for_url_path(before), subtree=True)
        transaction.on_commit(lambda: _refresh_subtree(instance.pk))


def on_page_moved(sender, instance, url_path_before=None, url_path_after=None, **kwargs):
    if enabled() and url_path_before and url_path_before != url_path_after:
        remove_now_and_after_commit(path_for_url_path(url_path_before), subtree=True)
        transaction.on_commit(lambda: _refresh_subtree(instance.pk))


def _refresh_subtree(page_id: int) -> None:
    from wagtail.models import Page

    page = Page.objects.filter(pk=page_id).first()
    if page is None:
        return
    current = chrome_fingerprint()
    if current != stored_fingerprint():
        store_fingerprint(current)
        queue_refresh(None)
    else:
        queue_refresh([page.pk, *dependents(page)])


def on_page_pre_delete(sender, instance, **kwargs):
    from wagtail.models import Page

    if enabled() and isinstance(instance, Page):
        remove_now_and_after_commit(_address(instance), subtree=True)
        parent_path = instance.path[: -Page.steplen] if instance.depth > 1 else None
        if parent_path:
            transaction.on_commit(lambda: _refresh_parent(parent_path))


def _refresh_parent(parent_path: str) -> None:
    from wagtail.models import Page

    parent = Page.objects.filter(path=parent_path).first()
    refresh_after_change(parent.pk if parent else None)


def on_restriction_saved(sender, instance, **kwargs):
    """A view restriction on a page: its files and its descendants' go at once."""
    if enabled():
        page = instance.page
        remove_now_and_after_commit(_address(page), subtree=True)
        transaction.on_commit(lambda: refresh_after_change(page.pk))


def on_restriction_deleted(sender, instance, **kwargs):
    """The pages below may be public now: written by the task (never inline)."""
    if not enabled():
        return
    page_id = instance.page_id
    transaction.on_commit(lambda: _refresh_subtree(page_id))


def on_chrome_model_changed(sender, instance, **kwargs):
    """The site, the portal settings or a menu group: every file, through the task backend."""
    if enabled():
        transaction.on_commit(_refresh_everything)


def _refresh_everything() -> None:
    store_fingerprint(chrome_fingerprint())
    queue_refresh(None)


def connect() -> None:
    from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
    from wagtail.models import Page, PageViewRestriction, Site
    from wagtail.signals import page_published, page_unpublished, post_page_move

    from .models import MenuGroup, PortalSettings

    page_published.connect(on_published, dispatch_uid="kokasen-published-files-published")
    page_unpublished.connect(on_unpublished, dispatch_uid="kokasen-published-files-unpublished")
    post_page_move.connect(on_page_moved, dispatch_uid="kokasen-published-files-moved")

    def page_pre_save(sender, instance, **kwargs):
        if isinstance(instance, Page):
            on_page_pre_save(sender, instance, **kwargs)

    def page_pre_delete(sender, instance, **kwargs):
        if isinstance(instance, Page):
            on_page_pre_delete(sender, instance, **kwargs)

    pre_save.connect(page_pre_save, weak=False, dispatch_uid="kokasen-published-files-page-save")
    pre_delete.connect(page_pre_delete, weak=False, dispatch_uid="kokasen-published-files-page-delete")
    post_save.connect(on_restriction_saved, sender=PageViewRestriction, dispatch_uid="kokasen-published-files-r-save")
    post_delete.connect(
        on_restriction_deleted, sender=PageViewRestriction, dispatch_uid="kokasen-published-files-r-delete"
    )
    for model in (Site, PortalSettings, MenuGroup):
        for signal in (post_save, post_delete):
            signal.connect(
                on_chrome_model_changed,
                sender=model,
                dispatch_uid=f"kokasen-published-files-{model.__name__}-{id(signal)}",
            )
