"""Members pages and their files never reach the static export (the public ZIP), even when a
public page links to them, and even if an editor removed the area's restriction: then the
export stops with an error instead of writing a members page."""

import pytest
from wagtail.models import PageViewRestriction

from kokasen.members.models import MembersHomePage, RoundtablePage
from kokasen.pages.models import ArticlePage, SectionPage
from kokasen.static_export import builder

pytestmark = pytest.mark.django_db

MEMBER_STRINGS = [
    "座談会アーカイブ",
    "第1回 こども家庭センター座談会（サンプル）",
    "【サンプル】妊娠期からの切れ目ない面談の取組",
    "サポートプラン様式（サンプル）",
    "第1回座談会 配布資料1",
    "会員限定",
]


def exported_files(folder):
    return [p for p in folder.rglob("*") if p.is_file()]


def test_members_pages_and_files_are_not_exported_even_when_linked(demo_site, tmp_path):
    roundtable = RoundtablePage.objects.get(slug="roundtable-01")
    handout = roundtable.handouts.first().document
    section = SectionPage.objects.get(slug="training")
    linking = ArticlePage(
        title="会員エリアへのリンクを含む公開ページ",
        slug="links-to-locked-area",
        body=[
            (
                "paragraph",
                f'<p><a linktype="page" id="{roundtable.pk}">座談会へ</a> '
                f'<a linktype="document" id="{handout.pk}">配布資料へ</a> '
                f'<a linktype="document" id="{roundtable.video.pk}">動画へ</a></p>',
            ),
            ("documents", {"title": "資料", "documents": [{"document": handout, "title": "会員の資料"}]}),
        ],
    )
    section.add_child(instance=linking)
    linking.save_revision().publish()

    out = tmp_path / "export"
    builder.export_site(out_dir=out, structure="flat", design="standard")

    files = exported_files(out)
    names = "\n".join(str(p.relative_to(out)) for p in files)
    assert (out / "training" / "links-to-locked-area" / "index.html").is_file()
    assert not any(part == "members" for p in files for part in p.relative_to(out).parts)
    for stored in (handout.filename, roundtable.video.filename, "roundtable-01"):
        assert stored not in names
    for path in files:
        data = path.read_bytes()
        for text in MEMBER_STRINGS:
            assert text.encode() not in data, f"{text} leaked into {path.relative_to(out)}"
        for stored in (handout.filename, roundtable.video.filename, "/members/"):
            assert stored.encode() not in data, f"{stored} leaked into {path.relative_to(out)}"
    page = (out / "training" / "links-to-locked-area" / "index.html").read_text(encoding="utf-8")
    assert "<a>座談会へ</a>" in page and "<a>配布資料へ</a>" in page and "<a>動画へ</a>" in page


def test_without_its_restriction_the_area_stops_the_export_instead_of_leaking(demo_site, tmp_path):
    PageViewRestriction.objects.filter(page__in=MembersHomePage.objects.all()).delete()
    with pytest.raises(builder.ExportError) as error:
        builder.export_site(out_dir=tmp_path / "export", structure="flat", design="standard")
    assert "/members/" in str(error.value) and "HTTP 302" in str(error.value)


def test_a_protected_image_on_a_public_page_never_reaches_the_export(demo_site, tmp_path):
    """An editor puts an image of 「会員限定資料」 on a public page: the page is exported, the
    image is not (its URL is the app's view, which the exporter does not follow), and no
    file of protected_images/ is copied."""
    from kokasen.members.services import members_collection

    from .imaging import make_image, stored_bytes

    image = make_image("会員限定の図（テスト）", members_collection(), "member-chart.png")
    rendition = image.get_rendition("width-480")
    section = SectionPage.objects.get(slug="training")
    page = ArticlePage(
        title="会員限定の画像を含む公開ページ",
        slug="page-with-protected-image",
        body=[("image", {"image": image, "alt": "会員限定の図", "caption": "図の説明"})],
    )
    section.add_child(instance=page)
    page.save_revision().publish()

    out = tmp_path / "export"
    builder.export_site(out_dir=out, structure="flat", design="standard")

    exported = out / "training" / "page-with-protected-image" / "index.html"
    html = exported.read_text(encoding="utf-8")
    assert "図の説明" in html and 'alt="会員限定の図"' in html  # the page itself is public
    secrets = [stored_bytes(image.file), stored_bytes(rendition.file)]
    for path in exported_files(out):
        assert "protected_images" not in str(path.relative_to(out))
        data = path.read_bytes()
        assert b"/members/images/" not in data and b"protected_images" not in data, path
        assert not any(secret in data for secret in secrets), f"protected image bytes in {path}"
