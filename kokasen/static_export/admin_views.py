"""Wagtail admin screens 「静的サイトの書き出し」 (decision 0054), for 管理者 and 受託者:

- the builds: a button per variant (2 structures × 2 designs), the build in progress with its
  progress (the page reloads itself with a meta refresh while one runs: no script), the last
  ZIPs with date, size, variant and who built them, each downloadable through the staff check;
- 「見比べる」: two variants of one page side by side, each in an iframe of ``preview``, which
  renders a live public page in the variant asked for without changing the portal's settings.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST
from wagtail.models import Page, Site

from kokasen.accounts.access import staff_required
from kokasen.accounts.admin_screens import screen_context
from kokasen.core.refusals import Refused, show_as_messages
from kokasen.pages import rendering
from kokasen.pages.models import PortalSettings

from . import builds
from .models import ExportBuild, variant_label

TITLE = "静的サイトの書き出し"
COMPARE = "メニュー構成とデザインを見比べる"
REFRESH_SECONDS = 5
PREVIEW_PAGES = 60  # pages offered in the compare screen's list (the home page first)
# How wide the compared pages are drawn: a computer's width shrunk to the pane (CSS scale), or
# the pane's own width (what a phone shows).
WIDTHS = [("desktop", "パソコンの幅（縮小して表示）"), ("phone", "スマートフォンの幅")]


def _parents():
    return [(reverse("static_export_admin:index"), TITLE)]


def _live_variant(request) -> tuple[str, str]:
    portal = PortalSettings.for_site(Site.find_for_request(request) or Site.objects.get(is_default_site=True))
    return portal.structure, portal.design


@never_cache
@staff_required
def index(request):
    running = builds.current_build()
    live = _live_variant(request)
    variants = [
        {"structure": s, "design": d, "label": label, "live": (s, d) == live} for s, d, label in builds.variants()
    ]
    context = screen_context(
        TITLE,
        icon="download",
        running=running,
        refresh=REFRESH_SECONDS if running else None,
        variants=variants,
        finished=builds.finished_builds(),
        keep=settings.STATIC_EXPORT_KEEP,
        stale_minutes=settings.STATIC_EXPORT_STALE_MINUTES,
    )
    return TemplateResponse(request, "static_export/admin/index.html", context)


@require_POST
@staff_required
def start(request):
    try:
        build = builds.request_build(
            user=request.user,
            structure=request.POST.get("structure", ""),
            design=request.POST.get("design", ""),
            request=request,
        )
    except Refused as refused:
        show_as_messages(request, refused)
    else:
        messages.success(
            request,
            f"「{build.variant_label}」の書き出しを受け付けました。30秒ほどで始まり、この画面に進み具合が表示されます。",
        )
    return redirect("static_export_admin:index")


@require_GET
@staff_required
def download(request, pk):
    return builds.download(build=get_object_or_404(ExportBuild, pk=pk), user=request.user, request=request)


# --- comparing variants ------------------------------------------------------------------------------


def preview_pages(request):
    site = Site.find_for_request(request) or Site.objects.get(is_default_site=True)
    pages = list(
        Page.objects.live().public().descendant_of(site.root_page, inclusive=True).order_by("path")[:PREVIEW_PAGES]
    )
    for page in pages:  # the list shows the tree by indenting (full-width spaces)
        page.indent = "\u3000" * (page.depth - site.root_page.depth)
    return pages


def _variant(value: str, default: tuple[str, str]) -> tuple[str, str]:
    structure, _, design = value.partition("-")
    if structure in PortalSettings.Structure.values and design in PortalSettings.Design.values:
        return structure, design
    return default


@never_cache
@staff_required
def compare(request):
    live = _live_variant(request)
    others = [(s, d) for s, d, _ in builds.variants() if s != live[0] and d != live[1]]
    left = _variant(request.GET.get("left", ""), live)
    right = _variant(request.GET.get("right", ""), others[0] if others else live)
    pages = preview_pages(request)
    chosen = next((p for p in pages if str(p.pk) == request.GET.get("page")), pages[0] if pages else None)
    panes = [
        {
            "side": side,
            "label": variant_label(*variant),
            "live": variant == live,
            "url": reverse("static_export_admin:preview", args=(*variant, chosen.pk)) if chosen else "",
        }
        for side, variant in (("左", left), ("右", right))
    ]
    width = request.GET.get("width") if request.GET.get("width") in dict(WIDTHS) else WIDTHS[0][0]
    context = screen_context(
        COMPARE,
        icon="view",
        parents=_parents(),
        variants=[{"value": f"{s}-{d}", "label": label, "live": (s, d) == live} for s, d, label in builds.variants()],
        sides=[
            {"name": "left", "label": "左に表示する組み合わせ", "value": f"{left[0]}-{left[1]}"},
            {"name": "right", "label": "右に表示する組み合わせ", "value": f"{right[0]}-{right[1]}"},
        ],
        pages=pages,
        chosen=chosen,
        panes=panes,
        widths=WIDTHS,
        width=width,
    )
    return TemplateResponse(request, "static_export/admin/compare.html", context)


@never_cache
@xframe_options_sameorigin
@require_GET
@staff_required
def preview(request, structure, design, page_id):
    """A live public page drawn in the variant asked for, for the compare screen's iframes only:
    staff only, never cached, framable by the portal itself and nobody else."""
    if structure not in PortalSettings.Structure.values or design not in PortalSettings.Design.values:
        raise Http404
    page = next((p for p in preview_pages(request) if p.pk == page_id), None)
    if page is None:
        raise Http404
    with rendering.rendering(rendering.RenderMode(structure=structure, design=design)):
        response = page.specific.serve(request)
        if hasattr(response, "render"):
            response.render()
    # The public site's strict policy (no inline script or style), framable by our own pages only.
    response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
