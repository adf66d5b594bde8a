"""The admin lists' pager (templates/admin_shared/pager.html): the other filters stay."""

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory


def render(url: str, number: int, anchor: str = "") -> str:
    request = RequestFactory().get(url)
    page = Paginator(range(95), 20).get_page(number)
    return render_to_string("admin_shared/pager.html", {"page": page, "anchor": anchor}, request=request)


def test_the_links_keep_every_filter_and_replace_the_page():
    html = render("/admin/outbox/?status=failed&kind=%E5%B0%8F&p=2", 2)
    assert "2 / 5 ページ" in html
    assert 'href="?status=failed&amp;kind=%E5%B0%8F&amp;p=1">前へ' in html
    assert 'href="?status=failed&amp;kind=%E5%B0%8F&amp;p=3">次へ' in html


def test_typed_filter_text_is_encoded_and_the_anchor_follows():
    html = render('/admin/login-security/?q="><script>&p=1', 1, anchor="#events")
    assert "<script>" not in html and "前へ" not in html
    assert 'href="?q=%22%3E%3Cscript%3E&amp;p=2#events">次へ' in html


def test_one_page_shows_no_pager():
    request = RequestFactory().get("/admin/outbox/")
    page = Paginator(range(5), 20).get_page(1)
    assert render_to_string("admin_shared/pager.html", {"page": page}, request=request).strip() == ""
