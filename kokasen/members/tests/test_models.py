"""Invariants of the members pages: where each type may live, and that every attached file is
a protected one (so that a handout is never published at a public address by mistake)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from wagtail.documents import get_document_model

from kokasen.accounts import roles
from kokasen.members.models import (
    FormEntry,
    FormsLibraryPage,
    InitiativeIndexPage,
    InitiativeMaterial,
    InitiativePage,
    MembersHomePage,
    RoundtableHandout,
    RoundtableIndexPage,
    RoundtablePage,
)
from kokasen.members.services import members_collection
from kokasen.pages.models import HomePage, SectionPage
from kokasen.testing import login_staff, make_staff

pytestmark = pytest.mark.django_db


def public_document():
    return get_document_model().objects.filter(collection__depth=1).first()


def test_page_types_live_only_where_they_belong(demo_site):
    home, members = HomePage.objects.get(), MembersHomePage.objects.get()
    section = SectionPage.objects.first()
    assert MembersHomePage.can_exist_under(home) and not MembersHomePage.can_exist_under(section)
    for model in (RoundtableIndexPage, InitiativeIndexPage, FormsLibraryPage):
        assert model.can_exist_under(members) and not model.can_exist_under(home)
    assert RoundtablePage.can_exist_under(RoundtableIndexPage.objects.get())
    assert not RoundtablePage.can_exist_under(members)
    assert InitiativePage.can_exist_under(InitiativeIndexPage.objects.get())
    assert not InitiativePage.can_exist_under(RoundtableIndexPage.objects.get())
    assert not MembersHomePage.can_create_at(home)  # one members area only


def test_a_public_document_cannot_be_attached(demo_site):
    document = public_document()
    assert document is not None
    roundtable = RoundtablePage.objects.get(slug="roundtable-01")
    initiative = InitiativePage.objects.first()
    with pytest.raises(ValidationError, match="会員限定資料"):
        RoundtableHandout(page=roundtable, document=document).full_clean()
    with pytest.raises(ValidationError, match="会員限定資料"):
        InitiativeMaterial(page=initiative, document=document).full_clean()
    entry = FormsLibraryPage.objects.get().entries.first()
    entry.second_document = document
    with pytest.raises(ValidationError) as error:
        entry.full_clean()
    assert "second_document" in error.value.message_dict
    RoundtableHandout(page=roundtable, document=roundtable.handouts.first().document).full_clean()


def test_the_video_must_be_a_protected_mp4_or_webm(demo_site):
    roundtable = RoundtablePage.objects.get(slug="roundtable-01")
    roundtable.video = roundtable.handouts.first().document  # a PDF in the right collection
    with pytest.raises(ValidationError, match="MP4 または WebM"):
        roundtable.full_clean()
    roundtable.video = public_document()
    with pytest.raises(ValidationError, match="会員限定資料"):
        roundtable.full_clean()


def test_form_entries_group_by_type(client, demo_site):
    from kokasen.testing import CODE_A, login_member, make_member

    login_member(client, make_member(CODE_A))
    library = FormsLibraryPage.objects.get()
    html = client.get(library.url + "?type=assessment").content.decode()
    assert "アセスメントシート（サンプル）" in html and "サポートプラン様式（サンプル）" not in html
    assert client.get(library.url + "?type=nonsense").status_code == 200
    assert FormEntry.objects.count() == 2


@pytest.mark.parametrize("model", [RoundtablePage, InitiativePage])
def test_agency_admins_get_the_add_form_in_the_admin(client, demo_site, model):
    login_staff(client, make_staff(roles.AGENCY_ADMIN))
    parent = RoundtableIndexPage.objects.get() if model is RoundtablePage else InitiativeIndexPage.objects.get()
    url = reverse("wagtailadmin_pages:add", args=["members", model._meta.model_name, parent.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert members_collection().name == "会員限定資料"


def test_the_members_home_lists_open_topics_from_the_hook(client, demo_site):
    from wagtail import hooks

    from kokasen.members.models import OPEN_TOPICS_HOOK
    from kokasen.testing import CODE_A, login_member, make_member

    login_member(client, make_member(CODE_A))
    url = MembersHomePage.objects.get().url
    assert "現在、受付中のお題はありません。" in client.get(url).content.decode()

    def topics(request):
        return [{"title": "初回訪問時の自己紹介の言葉は？", "url": "/members/tips/1/"}]

    with hooks.register_temporarily(OPEN_TOPICS_HOOK, topics):
        html = client.get(url).content.decode()
    assert '<a href="/members/tips/1/">初回訪問時の自己紹介の言葉は？</a>' in html
    assert "受付中のお題はありません" not in html
