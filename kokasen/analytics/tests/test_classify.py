"""What a request is, and the one name of a page (decision 0036). Django-free."""

import pytest

from kokasen.analytics import classify


@pytest.mark.parametrize(
    "raw,normal",
    [
        ("/", "/"),
        ("/news/", "/news/"),
        ("/news/index.html", "/news/"),
        ("/news/index.htm", "/news/"),
        ("/index.html", "/"),
        ("/news", "/news/"),
        ("//news//2026/", "/news/2026/"),
        ("/news/%E5%85%90%E7%AB%A5%E7%A6%8F%E7%A5%89/", "/news/児童福祉/"),
        ("/news/%E5%85%90%E7%AB%A5%E7%A6%8F%E7%A5%89/index.html", "/news/児童福祉/"),
        ("/bad/%FF%FE/", "/bad/\ufffd\ufffd/"),
        ("/documents/12/%E8%B3%87%E6%96%99.pdf", "/documents/12/資料.pdf"),
        ("/feed.atom", "/feed.atom"),
    ],
)
def test_normalise(raw, normal):
    assert classify.normalise(raw) == normal


@pytest.mark.parametrize(
    "path,method,status,kind",
    [
        ("/", "GET", 200, "page"),
        ("/news/index.html", "HEAD", 304, "page"),
        ("/news/", "POST", 200, "other"),
        ("/news/", "GET", 301, "other"),
        ("/top.html", "GET", 404, "other"),
        ("/documents/12/report.pdf", "GET", 200, "download"),
        ("/documents/31/roundtable.mp4", "GET", 206, "download"),
        ("/documents/5/名簿.xlsx", "GET", 200, "download"),
        ("/documents/6/plan.docx", "GET", 304, "download"),
        ("/documents/6/plan.docx", "HEAD", 200, "other"),
        ("/static/css/portal.css", "GET", 200, "asset"),
        ("/media/images/kodomo.width-800.jpg", "GET", 200, "asset"),
        ("/favicon.ico", "GET", 404, "asset"),
        ("/members/", "GET", 200, "members"),
        ("/members/tips/3/", "POST", 302, "members"),
        ("/login/", "POST", 302, "members"),
        ("/admin/pages/12/edit/", "GET", 200, "admin"),
        ("/healthz", "GET", 200, "health"),
        ("/robots.txt", "GET", 200, "other"),
        ("/wp-login.php", "GET", 404, "other"),
        ("/feed.atom", "GET", 200, "other"),
    ],
)
def test_kinds(path, method, status, kind):
    path_kind, _, _ = classify.path_class(path)
    assert classify.request_kind(path_kind, method, status) == kind


def test_scanner_paths():
    assert classify.path_class("/.env")[2]
    assert classify.path_class("/wp-admin/setup-config.php")[2]
    assert not classify.path_class("/news/")[2]


def test_campaign_and_referrers():
    assert classify.campaign("c=m11") == "m11"
    assert classify.campaign("page=2&utm_campaign=kaigi") == "kaigi"
    assert classify.campaign("page=2") == ""
    assert classify.campaign("c=" + "x" * 100) == "x" * classify.CAMPAIGN_MAX
    assert classify.referrer_host("https://www.pref.example.lg.jp/a?b=c") == "www.pref.example.lg.jp"
    assert classify.referrer_host("-") == ""
    assert classify.referrer_host("http://[::1") == ""
    assert (
        classify.referrer_page("https://www.city.example.lg.jp/%E5%AD%90/?q=1#x")
        == "https://www.city.example.lg.jp/子/"
    )


def test_response_time_percentiles():
    from kokasen.analytics import aggregate

    histogram = {}
    for ms in [5] * 50 + [100] * 45 + [2000] * 5:
        bucket = aggregate.time_bucket(ms / 1000)
        histogram[bucket] = histogram.get(bucket, 0) + 1
    assert aggregate.percentile(histogram, 0.5) == 0.006
    assert 0.1 <= aggregate.percentile(histogram, 0.95) <= 0.105
    assert 2.0 <= aggregate.percentile({str(k): v for k, v in histogram.items()}, 0.99) <= 2.1
    assert aggregate.percentile({}, 0.5) is None
