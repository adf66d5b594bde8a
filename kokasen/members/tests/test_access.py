"""The permission matrix of the members area (issue 3, REQUIREMENTS P2.1–P2.3, S1).

Every members page type and every kind of file URL, for every persona: one table. A row is
(target, expected response for: anonymous, local government A, local government B, agency
admin, operator). "login" means a 302 to /login/?next=<the URL>.
"""

from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from wagtail.documents import get_document_model
from wagtail.models import Collection, CollectionViewRestriction, PageViewRestriction

from kokasen.accounts import roles
from kokasen.members.models import (
    FormsLibraryPage,
    InitiativeIndexPage,
    InitiativePage,
    MembersHomePage,
    RoundtableIndexPage,
    RoundtablePage,
)
from kokasen.members.services import members_area_secure, members_collection
from kokasen.testing import CODE_A, CODE_B, login_member, login_staff, make_member, make_staff

pytestmark = pytest.mark.django_db

PERSONAS = ("anonymous", "member_a", "member_b", "agency_admin", "operator")
LOGIN = "login"

#   target                    anonymous  member A  member B  agency admin  operator
MATRIX = [
    ("members_home", LOGIN, 200, 200, 200, 200),
    ("roundtable_index", LOGIN, 200, 200, 200, 200),
    ("roundtable_index_tag", LOGIN, 200, 200, 200, 200),
    ("roundtable", LOGIN, 200, 200, 200, 200),
    ("initiative_index", LOGIN, 200, 200, 200, 200),
    ("initiative_filtered", LOGIN, 200, 200, 200, 200),
    ("initiative", LOGIN, 200, 200, 200, 200),
    ("forms_library", LOGIN, 200, 200, 200, 200),
    ("handout_file", LOGIN, 200, 200, 200, 200),
    ("video_file", LOGIN, 200, 200, 200, 200),
    ("form_file", LOGIN, 200, 200, 200, 200),
    ("public_file", 200, 200, 200, 200, 200),
    ("raw_media_handout", 404, 404, 404, 404, 404),
    ("raw_media_video", 404, 404, 404, 404, 404),
]
CASES = [
    pytest.param(target, persona, expected, id=f"{target}-{persona}")
    for target, *expected_row in MATRIX
    for persona, expected in zip(PERSONAS, expected_row)
]


def _handout():
    return RoundtablePage.objects.get(slug="roundtable-01").handouts.first().document


def _video():
    return RoundtablePage.objects.get(slug="roundtable-01").video


def _public_document():
    restricted = CollectionViewRestriction.objects.values_list("collection", flat=True)
    return (
        get_document_model()
        .objects.exclude(collection__in=restricted)
        .exclude(collection__members_protection__isnull=False)
        .first()
    )


TARGETS = {
    "members_home": lambda: MembersHomePage.objects.get().url,
    "roundtable_index": lambda: RoundtableIndexPage.objects.get().url,
    "roundtable_index_tag": lambda: RoundtableIndexPage.objects.get().url + "?tag=" + quote("連携"),
    "roundtable": lambda: RoundtablePage.objects.get(slug="roundtable-01").url,
    "initiative_index": lambda: InitiativeIndexPage.objects.get().url,
    "initiative_filtered": lambda: InitiativeIndexPage.objects.get().url + "?population=lt10k&q=" + quote("相談"),
    "initiative": lambda: InitiativePage.objects.first().url,
    "forms_library": lambda: FormsLibraryPage.objects.get().url,
    "handout_file": lambda: _handout().url,
    "video_file": lambda: _video().url,
    "form_file": lambda: FormsLibraryPage.objects.get().entries.first().document.url,
    "public_file": lambda: _public_document().url,
    "raw_media_handout": lambda: "/media/" + _handout().file.name,
    "raw_media_video": lambda: "/media/" + _video().file.name,
}


def sign_in(client, persona):
    if persona == "anonymous":
        return None
    if persona == "member_a":
        user = make_member(CODE_A)
        login_member(client, user)
    elif persona == "member_b":
        user = make_member(CODE_B)
        login_member(client, user)
    else:
        user = make_staff(roles.AGENCY_ADMIN if persona == "agency_admin" else roles.OPERATOR)
        login_staff(client, user)
    return user


def assert_response(response, url, expected):
    if expected == LOGIN:
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"] == "/login/?next=" + quote(url, safe="/"), response["Location"]
        assert not getattr(response, "streaming", False)
    else:
        assert response.status_code == expected, (url, response.status_code)
    if expected != 200 and getattr(response, "streaming", False):
        pytest.fail(f"{url}: a refused request streamed a file")


@pytest.mark.parametrize(("target", "persona", "expected"), CASES)
def test_permission_matrix(client, demo_site, target, persona, expected):
    url = TARGETS[target]()
    sign_in(client, persona)
    response = client.get(url)
    assert_response(response, url, expected)
    if expected == 200 and target.endswith("_file"):
        document_body = b"".join(response.streaming_content)
        assert len(document_body) > 0
    if expected == 200 and not target.endswith("_file") and not target.startswith("raw_"):
        assert "private" in response["Cache-Control"]
        assert "会員限定" in response.content.decode()


def test_the_matrix_covers_every_members_page_type():
    from wagtail.models import get_page_models

    members_types = {m for m in get_page_models() if m._meta.app_label == "members"}
    covered = {
        MembersHomePage,
        RoundtableIndexPage,
        RoundtablePage,
        InitiativeIndexPage,
        InitiativePage,
        FormsLibraryPage,
    }
    assert members_types == covered


SAMPLE_PAGE_AND_FILE = ["members_home", "roundtable", "initiative_filtered", "handout_file", "video_file"]


@pytest.mark.parametrize("target", SAMPLE_PAGE_AND_FILE)
def test_a_disabled_local_government_account_is_treated_as_anonymous(client, demo_site, target):
    user = make_member(CODE_A)
    login_member(client, user)
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    url = TARGETS[target]()
    assert_response(client.get(url), url, LOGIN)


@pytest.mark.parametrize("target", SAMPLE_PAGE_AND_FILE)
def test_staff_who_stopped_before_the_totp_step_are_sent_to_log_in(client, demo_site, target):
    client.force_login(make_staff(roles.AGENCY_ADMIN))  # password only, no verified device
    url = TARGETS[target]()
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("target", SAMPLE_PAGE_AND_FILE)
def test_a_logged_in_user_without_a_role_gets_nothing(client, demo_site, target):
    client.force_login(get_user_model().objects.create_user("no-role-user", password="x" * 20))
    url = TARGETS[target]()
    response = client.get(url)
    assert response.status_code in (302, 403)
    assert not getattr(response, "streaming", False)


@pytest.mark.parametrize("target", ["members_home", "roundtable", "forms_library", "handout_file", "video_file"])
def test_pages_and_files_stay_closed_when_an_editor_removes_the_restrictions(client, demo_site, target):
    """Defence in depth: serve() and the document hook check the reader themselves."""
    PageViewRestriction.objects.filter(page__in=MembersHomePage.objects.all()).delete()
    CollectionViewRestriction.objects.filter(collection=members_collection()).delete()
    url = TARGETS[target]()
    assert_response(client.get(url), url, LOGIN)
    login_member(client, make_member(CODE_B))
    assert client.get(url).status_code == 200


def test_removed_or_weakened_restrictions_are_put_back(demo_site, django_capture_on_commit_callbacks):
    home = MembersHomePage.objects.get()
    readers = {roles.MEMBER, roles.AGENCY_ADMIN, roles.OPERATOR}
    with django_capture_on_commit_callbacks(execute=True):
        PageViewRestriction.objects.filter(page=home).delete()
    restriction = PageViewRestriction.objects.get(page=home)
    assert restriction.restriction_type == "groups"
    assert {g.name for g in restriction.groups.all()} == readers

    with django_capture_on_commit_callbacks(execute=True):
        restriction.restriction_type = "password"
        restriction.password = "shared-secret"
        restriction.save()
    restriction = PageViewRestriction.objects.get(page=home)
    assert restriction.restriction_type == "groups" and not restriction.password

    collection = members_collection()
    with django_capture_on_commit_callbacks(execute=True):
        CollectionViewRestriction.objects.get(collection=collection).groups.remove(
            roles.ensure_role_groups()[roles.MEMBER]
        )
    assert {g.name for g in CollectionViewRestriction.objects.get(collection=collection).groups.all()} == readers
    assert members_area_secure() == 0  # nothing left to repair


def test_a_new_members_home_gets_its_restriction_when_it_is_created(demo_site):
    from kokasen.pages.models import HomePage

    existing = MembersHomePage.objects.get()
    existing.delete()
    home = HomePage.objects.get()
    page = MembersHomePage(title="会員エリア（新）", slug="members-new")
    home.add_child(instance=page)
    restriction = PageViewRestriction.objects.get(page=page)
    assert restriction.restriction_type == "groups"


def test_the_setup_command_reports_and_repairs(demo_site, capsys):
    from django.core.management import call_command

    call_command("setup_members_area")
    assert "設定済み" in capsys.readouterr().out
    PageViewRestriction.objects.filter(page__in=MembersHomePage.objects.all()).delete()
    call_command("setup_members_area")
    assert "1 件設定しました" in capsys.readouterr().out


def test_member_files_live_in_the_protected_collection(demo_site):
    collection = members_collection()
    assert collection.name == "会員限定資料"
    assert collection.get_parent() == Collection.get_first_root_node()
    assert _handout().collection == collection and _video().collection == collection


def test_wagtails_page_password_form_does_not_exist(client, demo_site):
    """Defect fixed with decision 0026: /_util/authenticate_with_password/<restriction>/<page>/
    answered everyone with a password form for the members area's group restriction, although
    the portal uses no password restrictions and the documents' form is a 404 (decision 0009)."""
    home = MembersHomePage.objects.get()
    restriction = PageViewRestriction.objects.get(page=home)
    url = f"/_util/authenticate_with_password/{restriction.pk}/{home.pk}/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"password": "", "return_url": home.url}).status_code == 404
    login_member(client, make_member(CODE_A))
    assert client.get(url).status_code == 404
