from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.feedgenerator import Atom1Feed
from wagtail.models import Site

from . import rendering, signals, textsearch
from . import search as page_search

MAX_QUERY_LENGTH = 100


def search(request):
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    results = None
    if query and not rendering.current().static_export:
        site = Site.find_for_request(request)
        documents = page_search.documents_for(site.root_page) if site else []
        hits = textsearch.search(documents, query, limit=200)
        if not hits and request.method == "GET":
            signals.search_found_nothing.send(sender=search, request=request, query=query)
        page = Paginator(hits, 20).get_page(request.GET.get("page"))
        terms = textsearch.query_terms(query)
        results = {
            "count": len(hits),
            "page": page,
            "items": [
                {"doc": d, "title": textsearch.highlight(d.title, terms), "excerpt": textsearch.excerpt(d, query)}
                for d in page.object_list
            ],
        }
    return render(request, "pages/search.html", {"query": query, "results": results})


FEED_ITEMS = 30


def news_feed(request):
    """Atom feed of the お知らせ (news) of the requested site."""
    from .models import NewsIndexPage

    site = Site.find_for_request(request)
    index = NewsIndexPage.objects.live().public().descendant_of(site.root_page).first() if site else None
    if index is None:
        raise Http404
    feed = Atom1Feed(
        title=f"{site.site_name}：{index.title}",
        link=index.get_full_url(request),
        description=index.summary,
        language="ja",
        feed_url=request.build_absolute_uri(),
        # tag: URIs (RFC 4151) as ids: stable, and not links (the static export has none).
        feed_guid=f"tag:{site.hostname},2025:news-feed",
    )
    for item in index.news()[:FEED_ITEMS]:
        url = item.get_full_url(request)
        feed.add_item(
            title=item.title,
            link=url,
            description=item.summary,
            pubdate=item.first_published_at,
            updateddate=item.last_published_at,
            categories=[item.get_category_display()],
            unique_id=f"tag:{site.hostname},{item.date:%Y-%m-%d}:page-{item.pk}",
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response
