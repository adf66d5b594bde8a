"""Empty lists say what will appear there and what to do (issue 17, item 3)."""

import pytest
from django.urls import reverse

from kokasen.feedback.models import Opinion
from kokasen.members.models import FormsLibraryPage, RoundtableIndexPage
from kokasen.testing import login_member, login_staff
from kokasen.tips.models import Topic

pytestmark = pytest.mark.django_db

EMPTY = 'class="app-empty"'


def test_members_lists_without_anything_explain_themselves(demo_site, client, member_a):
    Topic.objects.all().delete()
    login_member(client, member_a)
    tips = client.get(reverse("tips:index")).content.decode()
    assert tips.count(EMPTY) == 2
    assert "こども家庭庁が新しいお題を出すと、ここに表示されます" in tips
    assert "受付が終わったお題は、投稿とともにここに残り" in tips

    archive = RoundtableIndexPage.objects.get()
    html = client.get(archive.url, {"tag": "存在しないタグ"}).content.decode()
    assert EMPTY in html and "「存在しないタグ」のタグが付いた座談会はありません" in html
    assert f'<a href="{archive.url}">すべての座談会を見る</a>' in html

    library = FormsLibraryPage.objects.get()
    library.entries.all().delete()
    html = client.get(library.url).content.decode()
    assert EMPTY in html and "様式は、まだ掲載していません" in html


def test_a_search_without_results_points_to_the_sitemap(demo_site, client):
    html = client.get(reverse("search"), {"q": "該当しないはずの語ｚｚｚ"}).content.decode()
    assert EMPTY in html and "該当するページは見つかりませんでした" in html and "サイトマップ</a>" in html


def test_the_opinion_box_without_opinions_says_what_will_come(client, agency_admin):
    Opinion.objects.all().delete()
    login_staff(client, agency_admin)
    html = client.get(reverse("feedback_admin:index")).content.decode()
    assert "ご意見はまだ届いていません" in html
    assert "There are no" not in html
