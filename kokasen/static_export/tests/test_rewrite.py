from kokasen.static_export import rewrite

KNOWN = {
    "/": "index.html",
    "/news/": "news/index.html",
    "/news/item/": "news/item/index.html",
    "/careers/はたらく魅力/": "careers/はたらく魅力/index.html",
    "/static/css/portal.css": "static/css/portal.css",
    "/static/css/parts/nav.css": "static/css/parts/nav.css",
    "/static/img/logo.svg": "static/img/logo.svg",
    "/media/images/a.png": "media/images/a.png",
    "/media/images/b.png": "media/images/b.png",
    "/search/": "search/index.html",
}


def html(text, file_path="news/item/index.html", base_url="/news/item/"):
    return rewrite.rewrite_html(
        text, file_path=file_path, base_url=base_url, resolve=KNOWN.get, internal_hosts={"portal.example.jp"}
    )


def test_it_makes_root_relative_links_document_relative_with_index_html():
    result = html('<a href="/news/">一覧</a><a href="/">ホーム</a>')
    assert result.text == '<a href="../index.html">一覧</a><a href="../../index.html">ホーム</a>'
    assert result.references == {"news/index.html", "index.html"}


def test_it_rewrites_absolute_urls_of_the_site_itself():
    assert html('<a href="https://portal.example.jp/news/">x</a>').text == '<a href="../index.html">x</a>'


def test_it_leaves_external_and_special_urls_alone():
    source = (
        '<a href="https://www.cfa.go.jp/">a</a><a href="mailto:x@example.jp">b</a>'
        '<a href="#part">c</a><img src="data:image/png;base64,AA" alt="">'
    )
    assert html(source).text == source


def test_it_keeps_fragments_and_drops_queries():
    assert html('<a href="/news/#top">x</a>').text == '<a href="../index.html#top">x</a>'
    assert html('<form action="/search/?q=1"></form>').text == '<form action="../../search/index.html"></form>'


def test_it_rewrites_src_srcset_and_style_urls():
    result = html(
        '<img src="/media/images/a.png" srcset="/media/images/a.png 480w, /media/images/b.png 800w" alt="">'
        "<div style=\"background: url('/media/images/b.png')\"></div>"
    )
    assert 'src="../../media/images/a.png"' in result.text
    assert 'srcset="../../media/images/a.png 480w, ../../media/images/b.png 800w"' in result.text
    assert "url(&#x27;../../media/images/b.png&#x27;)" in result.text


def test_it_rewrites_style_elements():
    result = html("<style>.x{background:url(/static/img/logo.svg)}</style>")
    assert result.text == "<style>.x{background:url(../../static/img/logo.svg)}</style>"


def test_it_percent_encodes_japanese_paths():
    result = html('<a href="/careers/%E3%81%AF%E3%81%9F%E3%82%89%E3%81%8F%E9%AD%85%E5%8A%9B/">x</a>')
    assert (
        result.text == '<a href="../../careers/%E3%81%AF%E3%81%9F%E3%82%89%E3%81%8F%E9%AD%85%E5%8A%9B/index.html">x</a>'
    )
    assert html('<a href="/careers/はたらく魅力/">x</a>').references == {"careers/はたらく魅力/index.html"}


def test_it_removes_links_to_what_is_not_exported():
    result = html('<p><a class="l" href="/members/secret-draft/">非公開</a></p><img src="/admin/x.png" alt="">')
    assert result.text == '<p><a class="l">非公開</a></p><img alt="">'
    assert result.unresolved == {"/members/secret-draft/", "/admin/x.png"}


def test_it_does_not_touch_text_that_looks_like_an_attribute():
    source = '<p>例: href="/news/" と書きます</p><a title="href=/news/" href="/news/">x</a>'
    assert html(source).text == '<p>例: href="/news/" と書きます</p><a title="href=/news/" href="../index.html">x</a>'


def test_it_unescapes_and_reescapes_ampersands():
    result = html('<a href="/search/?q=a&amp;page=2">x</a>', file_path="index.html", base_url="/")
    assert result.text == '<a href="search/index.html">x</a>'


def test_css_urls_and_imports_resolve_against_the_css_file():
    result = rewrite.rewrite_css(
        '@import "parts/nav.css";\n.a{background:url("../img/logo.svg")}\n.b{background:url(/media/images/a.png)}',
        file_path="static/css/portal.css",
        base_url="/static/css/portal.css",
        resolve=KNOWN.get,
        internal_hosts=set(),
    )
    assert result.text == (
        '@import "parts/nav.css";\n.a{background:url("../img/logo.svg")}\n.b{background:url(../../media/images/a.png)}'
    )
    assert result.references == {"static/css/parts/nav.css", "static/img/logo.svg", "media/images/a.png"}


def test_an_empty_css_url_is_left_alone():
    # "url()" in a comment names no file: when its sheet is inlined it must stay as it is, not
    # become the sheet's own folder ("/static/css"), which the export then tried to copy as a file.
    sheets = {"/static/css/base.css": "/* clip-path with url() or shapes */\n.b{background:url(../img/a.png)}"}
    text = rewrite.inline_css_imports('@import "base.css";', base_url="/static/css/portal.css", load=sheets.get)
    assert text == "/* clip-path with url() or shapes */\n.b{background:url(/static/img/a.png)}"


def test_output_paths_get_index_html_and_never_escape_the_folder():
    assert rewrite.output_path_for("/") == "index.html"
    assert rewrite.output_path_for("/a/b/") == "a/b/index.html"
    assert rewrite.output_path_for("/feed.atom") == "feed.atom"
    assert rewrite.output_path_for("/%E7%A0%94%E4%BF%AE/") == "研修/index.html"
    assert rewrite.output_path_for("/../../etc/passwd") == "etc/passwd"
    assert rewrite.output_path_for("relative") is None


def test_css_imports_are_inlined_with_their_urls_rebased():
    sheets = {
        "/static/css/parts/nav.css": '@import url("deeper/x.css");\n.nav{background:url("../../img/logo.svg")}',
        "/static/css/parts/deeper/x.css": ".x{color:red}",
    }
    text = rewrite.inline_css_imports(
        '@import url("parts/nav.css");\n@import "https://cdn.example/evil.css";\n.a{}',
        base_url="/static/css/portal.css",
        load=sheets.get,
    )
    assert text == (
        '.x{color:red}\n.nav{background:url("/static/img/logo.svg")}\n@import "https://cdn.example/evil.css";\n.a{}'
    )


def test_relative_path_agrees_with_posixpath():
    import posixpath

    cases = [
        ("index.html", ""),
        ("index.html", "a/b"),
        ("a/b/index.html", "a/b"),
        ("a/b/index.html", "a"),
        ("a/index.html", "a/b/c"),
        ("x/y/index.html", "a/b"),
        ("a/bb/index.html", "a/b"),
        ("static/css/p.css", "static/css"),
    ]
    for target, folder in cases:
        assert rewrite.relative_path(target, folder) == posixpath.relpath(target, folder or "."), (target, folder)
