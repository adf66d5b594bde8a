"""Every URL form that can return the bytes of an image or a document, for every persona
(issue 10, items 5 and 7: "walks every media and document URL form with anonymous, member
and staff sessions").

One table: a row is a URL form, a column a persona, a cell the expected answer. The world
has a public and a restricted image (uploaded into 「会員限定資料」) with a rendition each,
and a public and a restricted document. Requests go through the portal's URLs with the
development media helper in front (tests/urls_with_media.py), i.e. what answers /media/
on a developer's machine; in production nginx answers /media/ with the same rules
(deploy/nginx/portal.conf; checked in test_nginx_media.py).

Two more tests keep the table complete: every form has a rule for every persona, and every
route of the URLconf that serves images, documents or media is reached by some form (a new
route, e.g. Wagtail's dynamic image serve view, fails until it gets rows here).
"""

import secrets
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from wagtail.documents import get_document_model
from wagtail.models import Collection, CollectionViewRestriction

from kokasen.accounts import roles
from kokasen.members.models import RoundtablePage
from kokasen.members.services import members_collection
from kokasen.testing import CODE_A, login_member, login_staff, make_member, make_staff

from .imaging import make_image, stored_bytes

pytestmark = pytest.mark.django_db

WALK_URLCONF = "kokasen.members.tests.urls_with_media"
PERSONAS = ("anonymous", "member", "operator", "agency_admin", "disabled_member", "staff_without_totp", "no_role")
LOGIN = "login"  # 302 to /login/?next=<the URL>
ADMIN_HOME = "admin_home"  # 302 to /admin/ (Wagtail: an admin user without the permission)
TOTP = "totp"  # 302 to the TOTP step of the login
L, H, T = LOGIN, ADMIN_HOME, TOTP

# fmt: off
# Columns in PERSONAS order: anonymous, member (自治体), operator (受託者), agency admin (管理者),
# disabled member, staff who stopped before the TOTP step ("otp?"), a logged-in user without a role.
#  URL form                                            anon memb oper admn disa otp? role
MATRIX = [
    # Images of a restricted collection: no /media/ URL at all, only the app's view.
    ("restricted_image_media_original",                404, 404, 404, 404, 404, 404, 404),
    ("restricted_image_media_upload_name",             404, 404, 404, 404, 404, 404, 404),
    ("restricted_image_media_rendition",               404, 404, 404, 404, 404, 404, 404),
    ("restricted_image_media_wagtail_rendition_name",  404, 404, 404, 404, 404, 404, 404),
    ("restricted_image_media_protected_folder",        404, 404, 404, 404, 404, 404, 404),
    ("restricted_image_media_dotdot",                  404, 404, 404, 404, 404, 404, 404),
    ("restricted_image_media_encoded_dotdot",          404, 404, 404, 404, 404, 404, 404),
    ("restricted_image_x_accel_path",                  404, 404, 404, 404, 404, 404, 404),
    ("restricted_image_view_original",                 L,   200, 200, 200, L,   L,   L),
    ("restricted_image_view_rendition",                L,   200, 200, 200, L,   L,   L),
    ("restricted_image_view_head",                     L,   200, 200, 200, L,   L,   L),
    ("restricted_image_admin_preview",                 L,   L,   H,   200, L,   T,   L),
    # Public images: Wagtail's folders, as before.
    ("public_image_media_original",                    200, 200, 200, 200, 200, 200, 200),
    ("public_image_media_rendition",                   200, 200, 200, 200, 200, 200, 200),
    ("public_image_admin_preview",                     L,   L,   H,   200, L,   T,   L),
    # The image view only knows the names it made.
    ("image_view_public_image_name",                   404, 404, 404, 404, 404, 404, 404),
    ("image_view_unknown_name",                        404, 404, 404, 404, 404, 404, 404),
    ("image_view_dotdot_to_documents",                 404, 404, 404, 404, 404, 404, 404),
    ("image_view_encoded_dotdot",                      404, 404, 404, 404, 404, 404, 404),
    ("image_view_dotdot_within_folder",                404, 404, 404, 404, 404, 404, 404),
    # Documents.
    ("restricted_document_view",                       L,   200, 200, 200, L,   L,   L),
    ("restricted_document_wrong_name",                 404, 404, 404, 404, 404, 404, 404),
    ("restricted_document_media",                      404, 404, 404, 404, 404, 404, 404),
    ("restricted_document_media_dotdot",               404, 404, 404, 404, 404, 404, 404),
    ("restricted_document_x_accel_path",               404, 404, 404, 404, 404, 404, 404),
    ("public_document_view",                           200, 200, 200, 200, 200, 200, 200),
    # A video's caption track (WebVTT, issue 18): the video's own rule.
    ("roundtable_video_view",                          L,   200, 200, 200, L,   L,   L),
    ("roundtable_captions_view",                       L,   200, 200, 200, L,   L,   L),
    ("roundtable_captions_media",                      404, 404, 404, 404, 404, 404, 404),
    ("public_document_media",                          404, 404, 404, 404, 404, 404, 404),
    # Wagtail's password form for collection restrictions: the area never uses password
    # restrictions, so the form does not exist (kokasen/urls.py).
    ("document_password_form",                         404, 404, 404, 404, 404, 404, 404),
]
# fmt: on
CASES = [
    pytest.param(form, persona, expected, id=f"{form}-{persona}")
    for form, *row in MATRIX
    for persona, expected in zip(PERSONAS, row, strict=True)
]


class World:
    """The files every URL form is built from."""

    def __init__(self):
        self.restricted_image = make_image("会員限定の図（テスト）", members_collection(), "member-chart.png")
        self.restricted_rendition = self.restricted_image.get_rendition("width-20")
        self.public_image = make_image(
            "公開の図（テスト）", Collection.get_first_root_node(), "public-chart.png", colour=(30, 30, 200)
        )
        self.public_rendition = self.public_image.get_rendition("width-20")
        roundtable = RoundtablePage.objects.get(slug="roundtable-01")
        self.restricted_document = roundtable.handouts.first().document
        self.video, self.captions = roundtable.video, roundtable.captions
        restricted = CollectionViewRestriction.objects.values_list("collection", flat=True)
        self.public_document = (
            get_document_model()
            .objects.exclude(collection__in=restricted)
            .exclude(collection__members_protection__isnull=False)
            .first()
        )
        self.members_restriction = CollectionViewRestriction.objects.get(collection=members_collection())


def _below(name: str, folder: str) -> str:
    assert name.startswith(folder + "/"), name
    return name[len(folder) + 1 :]


TARGETS = {
    "restricted_image_media_original": lambda w: "/media/" + w.restricted_image.file.name,
    "restricted_image_media_upload_name": lambda w: "/media/original_images/member-chart.png",
    "restricted_image_media_rendition": lambda w: "/media/" + w.restricted_rendition.file.name,
    # Where Wagtail would have put the rendition, named after the upload.
    "restricted_image_media_wagtail_rendition_name": lambda w: "/media/images/member-chart.width-20.png",
    "restricted_image_media_protected_folder": lambda w: (
        "/media/protected_images/" + _below(w.restricted_rendition.file.name, "protected_images")
    ),
    "restricted_image_media_dotdot": lambda w: "/media/images/../" + w.restricted_image.file.name,
    "restricted_image_media_encoded_dotdot": lambda w: (
        "/media/original_images/..%2F" + quote(w.restricted_image.file.name, safe="")
    ),
    "restricted_image_x_accel_path": lambda w: "/protected-media/" + w.restricted_image.file.name,
    "restricted_image_view_original": lambda w: w.restricted_image.file.url,
    "restricted_image_view_rendition": lambda w: w.restricted_rendition.url,
    "restricted_image_view_head": lambda w: w.restricted_rendition.url,
    "restricted_image_admin_preview": lambda w: f"/admin/images/{w.restricted_image.pk}/preview/width-20/",
    "public_image_media_original": lambda w: w.public_image.file.url,
    "public_image_media_rendition": lambda w: w.public_rendition.url,
    "public_image_admin_preview": lambda w: f"/admin/images/{w.public_image.pk}/preview/width-20/",
    "image_view_public_image_name": lambda w: "/members/images/" + _below(w.public_image.file.name, "original_images"),
    "image_view_unknown_name": lambda w: f"/members/images/{secrets.token_hex(16)}.png",
    "image_view_dotdot_to_documents": lambda w: "/members/images/../../media/" + w.restricted_document.file.name,
    "image_view_encoded_dotdot": lambda w: "/members/images/..%2F..%2F" + quote(w.restricted_image.file.name, safe=""),
    "image_view_dotdot_within_folder": lambda w: (
        "/members/images/renditions/../" + _below(w.restricted_image.file.name, "protected_images")
    ),
    "restricted_document_view": lambda w: w.restricted_document.url,
    "restricted_document_wrong_name": lambda w: f"/documents/{w.restricted_document.pk}/other-name.pdf",
    "restricted_document_media": lambda w: "/media/" + w.restricted_document.file.name,
    "restricted_document_media_dotdot": lambda w: "/media/original_images/../" + w.restricted_document.file.name,
    "restricted_document_x_accel_path": lambda w: "/protected-media/" + w.restricted_document.file.name,
    "public_document_view": lambda w: w.public_document.url,
    "public_document_media": lambda w: "/media/" + w.public_document.file.name,
    "roundtable_video_view": lambda w: w.video.url,
    "roundtable_captions_view": lambda w: w.captions.url,
    "roundtable_captions_media": lambda w: "/media/" + w.captions.file.name,
    "document_password_form": lambda w: f"/documents/authenticate_with_password/{w.members_restriction.pk}/",
}
HEAD_FORMS = {"restricted_image_view_head"}
# What a 200 must contain: the bytes of this stored file.
BODIES = {
    "restricted_image_view_original": lambda w: w.restricted_image.file,
    "restricted_image_view_rendition": lambda w: w.restricted_rendition.file,
    "public_image_media_original": lambda w: w.public_image.file,
    "public_image_media_rendition": lambda w: w.public_rendition.file,
    "restricted_document_view": lambda w: w.restricted_document.file,
    "public_document_view": lambda w: w.public_document.file,
    "roundtable_captions_view": lambda w: w.captions.file,
}


@pytest.fixture
def world(demo_site, settings):
    settings.ROOT_URLCONF = WALK_URLCONF
    return World()


def sign_in(client, persona):
    if persona == "anonymous":
        return
    if persona in ("member", "disabled_member"):
        user = make_member(CODE_A)
        login_member(client, user)
        if persona == "disabled_member":
            get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    elif persona == "staff_without_totp":
        client.force_login(make_staff(roles.AGENCY_ADMIN))  # password step only
    elif persona == "no_role":
        client.force_login(get_user_model().objects.create_user("no-role-user", password=secrets.token_urlsafe(16)))
    else:
        login_staff(client, make_staff(roles.OPERATOR if persona == "operator" else roles.AGENCY_ADMIN))


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content


@pytest.mark.parametrize(("form", "persona", "expected"), CASES)
def test_every_media_and_document_url_form(client, world, form, persona, expected):
    url = TARGETS[form](world)
    sign_in(client, persona)
    response = client.head(url) if form in HEAD_FORMS else client.get(url)
    if expected == LOGIN:
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"] == "/login/?next=" + quote(url, safe="/"), response["Location"]
    elif expected == ADMIN_HOME:
        assert (response.status_code, response["Location"]) == (302, "/admin/"), url
    elif expected == TOTP:
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"].startswith("/login/totp/"), response["Location"]
    else:
        assert response.status_code == expected, (url, response.status_code, response.get("Location"))
    if expected != 200:
        assert not getattr(response, "streaming", False), f"{url}: a refused request streamed a file"
    data = body_of(response)
    if expected == 200 and form in BODIES:
        assert data == (b"" if form in HEAD_FORMS else stored_bytes(BODIES[form](world)))
    elif expected == 200 and form.endswith("_admin_preview"):
        assert data.startswith(b"\x89PNG") and response["Content-Type"] == "image/png"  # made on the fly
    else:
        restricted = (world.restricted_image, world.restricted_rendition, world.restricted_document, world.captions)
        for source in (item.file for item in restricted):
            assert stored_bytes(source) not in data, f"{url}: the bytes of {source.name}"
        return
    if form.startswith("restricted_"):
        assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
        assert response["X-Content-Type-Options"] == "nosniff"
    if "_view_" in form and "image" in form:
        assert response["Content-Type"] == "image/png"
        assert response["Content-Security-Policy"] == "default-src 'none'"


def test_every_form_has_one_rule_per_persona():
    forms = [form for form, *_ in MATRIX]
    assert len(forms) == len(set(forms)), "a URL form is listed twice"
    assert set(forms) == set(TARGETS), "every URL form needs a row, every row a URL"
    assert all(len(row) == len(PERSONAS) + 1 for row in MATRIX)
    assert set(BODIES) <= set(TARGETS) and HEAD_FORMS <= set(TARGETS)


# Admin screens (HTML and JSON for staff, checked by Wagtail's own permissions and the
# admin tests) are not file URLs, except these, which answer with image bytes.
ADMIN_ROUTES_THAT_SEND_FILES = {"wagtailimages:preview"}
FILE_WORDS = ("image", "document", "media")


def _routes(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), f"{namespace}{pattern.name or ''}", pattern.callback


def _func_path(callback) -> str:
    """The view's dotted path, as Django's ResolverMatch writes it."""
    func = getattr(callback, "view_class", callback)
    if not hasattr(func, "__name__"):
        return f"{type(func).__module__}.{type(func).__name__}"
    return f"{func.__module__}.{func.__name__}"


def test_every_route_that_serves_images_documents_or_media_is_walked(world):
    """A route whose path or view mentions images, documents or media must be reached by a
    URL form of the table, unless it is an admin screen that sends no file."""
    walked = set()
    for form in TARGETS:
        path = TARGETS[form](world).split("?", 1)[0]
        try:
            match = resolve(path.replace("%2F", "/"), WALK_URLCONF)
        except Exception:  # noqa: BLE001 - no route at all is fine: nothing can serve it
            continue
        walked.add(f"{match.route} -> {_func_path(match.func)}")
    missing = []
    for route, name, callback in _routes(get_resolver(WALK_URLCONF).url_patterns):
        func_path = _func_path(callback)
        text = f"{route} {func_path}".lower()
        if not any(word in text for word in FILE_WORDS):
            continue
        if route.startswith(("admin/", "django-admin/")) and name not in ADMIN_ROUTES_THAT_SEND_FILES:
            continue
        if f"{route} -> {func_path}" not in walked and not _shadowed(route, walked):
            missing.append(f"{route} ({name or func_path})")
    assert not missing, "routes without rows in MATRIX: " + ", ".join(missing)


def _shadowed(route, walked) -> bool:
    """Wagtail's own /documents/<id>/<name> route and its password form sit behind ours
    (kokasen/urls.py) and are never reached; the walk proves it by resolving the same URLs to ours."""
    if route == "documents/authenticate_with_password/<int:restriction_id>/":
        return any(key.startswith("^documents/authenticate_with_password/ ->") for key in walked)
    return route == "documents/^(\\d+)/(.*)$" and any(key.startswith("^documents/(\\d+)/(.*)$ ->") for key in walked)
