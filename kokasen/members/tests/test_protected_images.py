"""Images of restricted collections (issue 10, item 5; docs/decisions/0019-protected-images.md):
stored under random names in protected_images/, renditions included, served only by the
image view after the documents' access check, moved when they change sides."""

import re
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Collection, CollectionViewRestriction

from kokasen.accounts import roles
from kokasen.core.models import AuditEvent
from kokasen.members import images as protected_images
from kokasen.members.models import MembersHomePage
from kokasen.members.services import members_collection
from kokasen.testing import CODE_A, login_member, login_staff, make_member, make_staff

from .imaging import make_image, media_files, png_bytes, stored_bytes

pytestmark = pytest.mark.django_db

PROTECTED_ORIGINAL = re.compile(r"^protected_images/[0-9a-f]{32}\.png$")
PROTECTED_RENDITION = re.compile(r"^protected_images/renditions/[0-9a-f]{32}\.png$")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30"/></svg>'


@pytest.fixture
def restricted_image(demo_site):
    return make_image("会員限定の図（テスト）", members_collection(), "member-chart.png")


@pytest.fixture
def public_image(demo_site):
    return make_image("公開の図（テスト）", Collection.get_first_root_node(), "public-chart.png")


@pytest.fixture
def admin_client(client, demo_site):
    login_staff(client, make_staff(roles.AGENCY_ADMIN))
    return client


def renditions_of(image):
    return list(get_image_model().get_rendition_model().objects.filter(image=image))


def storage_has(name) -> bool:
    return get_image_model()._meta.get_field("file").storage.exists(name)


# --------------------------------------------------------------------------- storage


def test_an_upload_into_the_members_collection_is_stored_under_a_random_name_in_the_protected_folder(demo_site):
    before = media_files()
    image = make_image("会員限定の図（テスト）", members_collection(), "member-chart.png")
    assert PROTECTED_ORIGINAL.match(image.file.name), image.file.name
    assert media_files() - before == {image.file.name}  # nothing was written anywhere else
    assert not any("member-chart" in name for name in media_files())
    assert image.file.url == "/members/images/" + image.file.name.removeprefix("protected_images/")
    assert stored_bytes(image.file) == png_bytes()


def test_two_uploads_of_the_same_file_get_different_names(demo_site):
    first = make_image("図1", members_collection(), "chart.png")
    second = make_image("図2", members_collection(), "chart.png")
    assert first.file.name != second.file.name


def test_renditions_are_stored_next_to_their_original_one_at_a_time_and_in_batches(restricted_image):
    before = media_files()
    single = restricted_image.get_rendition("width-20")
    # Several at once: Wagtail makes them in worker threads and saves them with bulk_create.
    batch = restricted_image.get_renditions("width-10", "width-30", "fill-10x10")
    renditions = [single, *batch.values()]
    for rendition in renditions:
        assert PROTECTED_RENDITION.match(rendition.file.name), rendition.file.name
        assert rendition.url == "/members/images/" + rendition.file.name.removeprefix("protected_images/")
    assert media_files() - before == {r.file.name for r in renditions}
    assert {r.file.name for r in renditions_of(restricted_image)} == {r.file.name for r in renditions}


def test_public_images_keep_wagtails_folders_and_media_urls(public_image):
    rendition = public_image.get_rendition("width-20")
    # Wagtail's name (with Django's suffix if an earlier test left a file of that name).
    assert re.match(r"^original_images/public-chart(_\w+)?\.png$", public_image.file.name), public_image.file.name
    assert public_image.file.url == "/media/" + public_image.file.name
    assert rendition.file.name.startswith("images/public-chart") and rendition.url == "/media/" + rendition.file.name


def test_the_admin_upload_form_never_writes_a_public_file(admin_client):
    before = media_files()
    response = admin_client.post(
        "/admin/images/add/",
        {
            "title": "会議の写真（会員限定）",
            "file": SimpleUploadedFile("meeting-photo.png", png_bytes(), content_type="image/png"),
            "collection": members_collection().pk,
            "description": "",
            "tags": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    image = get_image_model().objects.get(title="会議の写真（会員限定）")
    assert PROTECTED_ORIGINAL.match(image.file.name)
    edit = admin_client.get(f"/admin/images/{image.pk}/")  # shows a preview rendition
    listing = admin_client.get("/admin/images/")  # and a thumbnail
    assert edit.status_code == listing.status_code == 200
    new_files = media_files() - before
    Rendition = get_image_model().get_rendition_model()
    ours = {image.file.name} | {r.file.name for r in renditions_of(image)}
    assert len(ours) >= 3 and ours <= new_files
    assert all(name.startswith("protected_images/") for name in ours), ours
    for name in new_files - ours:  # the listing's thumbnails of the demo's public images
        assert Rendition.objects.get(file=name).image.collection == Collection.get_first_root_node(), name
    html = edit.content.decode() + listing.content.decode()
    assert "meeting-photo" not in html
    assert not any(f"/media/{name}" in html for name in ours)
    assert "/members/images/" in html


def test_the_admin_multiple_upload_never_writes_a_public_file(admin_client):
    before = media_files()
    response = admin_client.post(
        "/admin/images/multiple/add/",
        {
            "files[]": SimpleUploadedFile("group-photo.png", png_bytes(), content_type="image/png"),
            "collection": members_collection().pk,
        },
    )
    assert response.status_code == 200 and response.json()["success"], response.content.decode()[:2000]
    image = get_image_model().objects.get(pk=response.json()["image_id"])
    assert PROTECTED_ORIGINAL.match(image.file.name)
    assert media_files() - before == {image.file.name}


def test_replacing_the_file_of_a_protected_image_in_the_admin_keeps_it_protected(admin_client, restricted_image):
    old_name = restricted_image.file.name
    response = admin_client.post(
        f"/admin/images/{restricted_image.pk}/",
        {
            "title": restricted_image.title,
            "file": SimpleUploadedFile("new-version.png", png_bytes((0, 120, 0)), content_type="image/png"),
            "collection": members_collection().pk,
            "description": "",
            "tags": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    restricted_image.refresh_from_db()
    assert PROTECTED_ORIGINAL.match(restricted_image.file.name) and restricted_image.file.name != old_name
    assert stored_bytes(restricted_image.file) == png_bytes((0, 120, 0))
    assert not any("new-version" in name for name in media_files())


# --------------------------------------------------------------------------- pages


def test_a_members_page_shows_a_protected_image_only_through_the_view(member_client, restricted_image):
    svg_image = make_image("会員限定のSVG（テスト）", members_collection(), "diagram.svg", content=SVG)
    home = MembersHomePage.objects.get()
    home.body = [
        ("image", {"image": restricted_image, "alt": "会員限定の図", "caption": ""}),
        ("image", {"image": svg_image, "alt": "会員限定の図（SVG）", "caption": ""}),
    ]
    home.save_revision().publish()

    html = member_client.get(home.url).content.decode()
    urls = re.findall(r'src="([^"]+)"', html) + [
        candidate.split()[0] for srcset in re.findall(r'srcset="([^"]+)"', html) for candidate in srcset.split(",")
    ]
    image_urls = [url for url in urls if "/static/" not in url]
    assert len(image_urls) >= 4  # the PNG's src and three srcset widths, the SVG's src
    assert "/media/" not in html
    for url in image_urls:
        assert url.startswith("/members/images/"), url
        response = member_client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] in ("image/png", "image/svg+xml")
        assert response["Content-Security-Policy"] == "default-src 'none'"
    svg_url = next(url for url in image_urls if url.endswith(".svg"))
    assert b"".join(member_client.get(svg_url).streaming_content).startswith(b"<svg")


# --------------------------------------------------------------------------- serving


def test_the_view_answers_like_the_document_view(member_client, restricted_image):
    url = restricted_image.file.url
    response = member_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == "inline; filename*=utf-8''" + quote("会員限定の図（テスト）.png")
    assert response["Cache-Control"] == "private, no-cache"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert response["ETag"] == f'"{restricted_image.file_hash}"'
    assert member_client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    partial = member_client.get(url, HTTP_RANGE="bytes=0-7")
    assert partial.status_code == 206 and b"".join(partial.streaming_content) == png_bytes()[:8]
    assert member_client.post(url).status_code == 405


def test_x_accel_redirect_mode_hands_protected_images_to_nginx(member_client, restricted_image, settings):
    settings.PROTECTED_FILES_X_ACCEL_PREFIX = "/protected-media"
    rendition = restricted_image.get_rendition("width-20")
    for fieldfile, url in ((restricted_image.file, restricted_image.file.url), (rendition.file, rendition.url)):
        response = member_client.get(url)
        assert response.status_code == 200 and response.content == b""
        assert response["X-Accel-Redirect"] == f"/protected-media/{fieldfile.name}"
        assert response["Content-Type"] == "image/png"
        assert "private" in response["Cache-Control"]


def test_x_accel_redirect_mode_still_refuses_visitors(client, restricted_image, settings):
    settings.PROTECTED_FILES_X_ACCEL_PREFIX = "/protected-media"
    response = client.get(restricted_image.file.url)
    assert response.status_code == 302 and "X-Accel-Redirect" not in response


PERSONAS = ("anonymous", "member", "operator", "agency_admin")


@pytest.mark.parametrize("persona", PERSONAS)
def test_an_image_and_a_document_of_the_same_collection_get_the_same_answer(client, demo_site, persona):
    """Another restricted collection (自治体 only, as in conftest's hidden content): the image
    follows Wagtail's restriction and ours exactly like the document next to it."""
    from django.core.files.base import ContentFile

    vault = Collection.get_first_root_node().add_child(name="自治体限定の資料（テスト）")
    restriction = CollectionViewRestriction.objects.create(collection=vault, restriction_type="groups")
    restriction.groups.add(roles.ensure_role_groups()[roles.MEMBER])
    image = make_image("自治体限定の図", vault, "vault-chart.png")
    document = get_document_model()(title="自治体限定の資料", collection=vault)
    document.file.save("vault-handout.pdf", ContentFile(b"%PDF-1.4 vault"), save=False)
    document.save()
    assert PROTECTED_ORIGINAL.match(image.file.name)

    if persona == "member":
        login_member(client, make_member(CODE_A))
    elif persona != "anonymous":
        login_staff(client, make_staff(roles.OPERATOR if persona == "operator" else roles.AGENCY_ADMIN))
    image_response = client.get(image.file.url)
    document_response = client.get(document.url)
    assert image_response.status_code == document_response.status_code
    assert image_response.status_code == (200 if persona == "member" else 302)
    if image_response.status_code == 302:
        assert image_response["Location"] == "/login/?next=" + quote(image.file.url, safe="/")


# --------------------------------------------------------------------------- moving


def test_moving_an_image_into_the_members_collection_moves_its_files(public_image, django_capture_on_commit_callbacks):
    old_name = public_image.file.name
    old_rendition = public_image.get_rendition("width-20").file.name
    assert storage_has(old_name) and storage_has(old_rendition)
    with django_capture_on_commit_callbacks(execute=True):
        public_image.collection = members_collection()
        public_image.save()
    public_image.refresh_from_db()
    assert PROTECTED_ORIGINAL.match(public_image.file.name)
    assert stored_bytes(public_image.file) == png_bytes()
    assert not storage_has(old_name) and not storage_has(old_rendition)
    assert renditions_of(public_image) == []
    assert PROTECTED_RENDITION.match(public_image.get_rendition("width-20").file.name)
    event = AuditEvent.objects.get(action="members.image_protected", target_id=str(public_image.pk))
    assert event.detail == {"from": "original_images", "to": "protected_images"}


def test_the_public_copy_is_gone_before_the_commit(public_image):
    """Moving into protection deletes the public file at once, not after the commit."""
    old_name = public_image.file.name
    public_image.collection = members_collection()
    public_image.save()
    assert not storage_has(old_name)


def test_moving_an_image_out_of_protection_moves_it_back_to_a_public_folder(
    restricted_image, django_capture_on_commit_callbacks
):
    old_name = restricted_image.file.name
    old_rendition = restricted_image.get_rendition("width-20").file.name
    with django_capture_on_commit_callbacks(execute=True):
        restricted_image.collection = Collection.get_first_root_node()
        restricted_image.save()
    restricted_image.refresh_from_db()
    assert re.match(r"^original_images/[0-9a-f]{32}\.png$", restricted_image.file.name)
    assert restricted_image.file.url.startswith("/media/original_images/")
    assert not storage_has(old_name) and not storage_has(old_rendition)
    assert AuditEvent.objects.filter(action="members.image_unprotected", target_id=str(restricted_image.pk)).exists()


def test_the_admins_bulk_add_to_collection_moves_files(admin_client, public_image):
    old_name = public_image.file.name
    response = admin_client.post(
        f"/admin/bulk/wagtailimages/image/add_to_collection/?id={public_image.pk}&next=/admin/images/",
        {"collection": members_collection().pk},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    public_image.refresh_from_db()
    assert public_image.collection == members_collection()
    assert PROTECTED_ORIGINAL.match(public_image.file.name)
    assert not storage_has(old_name)


def test_restricting_a_collection_moves_its_images_and_lifting_it_moves_them_back(
    demo_site, django_capture_on_commit_callbacks
):
    training = Collection.get_first_root_node().add_child(name="研修資料（テスト）")
    image = make_image("研修の図", training, "training-chart.png")
    public_name = image.file.name
    assert public_name.startswith("original_images/training-chart")
    with django_capture_on_commit_callbacks(execute=True):
        restriction = CollectionViewRestriction.objects.create(collection=training, restriction_type="login")
    image.refresh_from_db()
    assert PROTECTED_ORIGINAL.match(image.file.name)
    assert not storage_has(public_name)
    with django_capture_on_commit_callbacks(execute=True):
        restriction.delete()
    image.refresh_from_db()
    assert image.file.name.startswith("original_images/")


def test_moving_a_collection_under_the_members_collection_moves_its_images(
    client, demo_site, django_capture_on_commit_callbacks
):
    """Wagtail's collection form saves, then moves the node in the tree (no signal of its own)."""
    superuser = make_staff(roles.AGENCY_ADMIN)
    superuser.is_superuser = True  # only superusers manage collections here
    superuser.save()
    login_staff(client, superuser)
    child = Collection.get_first_root_node().add_child(name="写真（テスト）")
    image = make_image("写真", child, "photo.png")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/collections/{child.pk}/", {"name": "写真（テスト）", "parent": members_collection().pk}
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    image.refresh_from_db()
    assert image.collection.get_parent() == members_collection()
    assert PROTECTED_ORIGINAL.match(image.file.name), image.file.name


def test_the_setup_command_moves_images_that_missed_their_move(public_image, capsys):
    """An UPDATE that bypassed every signal (a script, an import) is repaired by the deploy's
    ``setup_members_area``."""
    Image = get_image_model()
    Image.objects.filter(pk=public_image.pk).update(collection=members_collection())
    call_command("setup_members_area")
    assert "画像 1 件のファイルを" in capsys.readouterr().out
    public_image.refresh_from_db()
    assert PROTECTED_ORIGINAL.match(public_image.file.name)
    call_command("setup_members_area")
    assert "すべて公開されない保存場所にあります" in capsys.readouterr().out


def test_deleting_a_protected_image_deletes_its_files(restricted_image, django_capture_on_commit_callbacks):
    names = [restricted_image.file.name, restricted_image.get_rendition("width-20").file.name]
    with django_capture_on_commit_callbacks(execute=True):
        restricted_image.delete()
    assert not any(storage_has(name) for name in names)


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("in_url", "stored"),
    [
        ("0123456789abcdef0123456789abcdef.png", "protected_images/0123456789abcdef0123456789abcdef.png"),
        (
            "renditions/0123456789abcdef0123456789abcdef.webp",
            "protected_images/renditions/0123456789abcdef0123456789abcdef.webp",
        ),
        ("../documents/0123456789abcdef0123456789abcdef.pdf", None),
        ("renditions/../0123456789abcdef0123456789abcdef.png", None),
        ("0123456789ABCDEF0123456789abcdef.png", None),
        ("member-chart.png", None),
        ("0123456789abcdef0123456789abcdef.png/", None),
        ("0123456789abcdef0123456789abcdef.png\n", None),
        ("other/0123456789abcdef0123456789abcdef.png", None),
    ],
)
def test_the_view_only_accepts_names_it_made(in_url, stored):
    assert protected_images.stored_name(in_url) == stored
