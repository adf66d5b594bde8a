"""Agency admins edit, preview, schedule and publish pages in the Wagtail admin without a
developer (REQUIREMENTS P1); operators may draft but not publish."""

import datetime
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from wagtail.test.utils.form_data import nested_form_data, streamfield
from wagtail.test.utils.timestamps import submittable_timestamp

from kokasen.accounts import roles
from kokasen.pages.models import SectionPage
from kokasen.testing import login_staff
from kokasen.testing.html import page_html

pytestmark = pytest.mark.django_db


def staff(role: str):
    user = get_user_model().objects.create_user(f"staff-{role}", password="x" * 16)
    user.groups.add(roles.ensure_role_groups()[role])
    if role != roles.MEMBER:
        TOTPDevice.objects.create(user=user, name="テスト用", confirmed=True)
    return user


@pytest.fixture
def section(demo_site):
    return SectionPage.objects.get(slug="training")


def form(page, **changes):
    data = {"title": page.title, "slug": page.slug, "summary": page.summary, "body": streamfield([])}
    data.update(changes)
    return nested_form_data(data)


def test_an_agency_admin_saves_a_draft_as_a_revision_without_changing_the_live_page(client, section):
    login_staff(client, staff(roles.AGENCY_ADMIN))
    revisions = section.revisions.count()
    response = client.post(reverse("wagtailadmin_pages:edit", args=[section.pk]), form(section, title="研修（改訂案）"))
    assert response.status_code == 302
    section.refresh_from_db()
    assert section.revisions.count() == revisions + 1
    assert section.has_unpublished_changes
    assert section.title == "研修・人材育成"
    assert "研修（改訂案）" not in page_html(client.get(section.url))


def test_an_agency_admin_previews_before_publishing(client, section):
    login_staff(client, staff(roles.AGENCY_ADMIN))
    url = reverse("wagtailadmin_pages:preview_on_edit", args=[section.pk])
    assert client.post(url, form(section, title="プレビュー中の題名")).json()["is_valid"]
    preview = client.get(url)
    assert preview.status_code == 200 and "プレビュー中の題名" in preview.content.decode()


def test_an_agency_admin_publishes(client, section):
    login_staff(client, staff(roles.AGENCY_ADMIN))
    data = form(section, title="研修・人材育成（更新）", **{"action-publish": "action-publish"})
    client.post(reverse("wagtailadmin_pages:edit", args=[section.pk]), data)
    assert "研修・人材育成（更新）" in page_html(client.get(section.url))


def test_scheduled_publishing_goes_live_on_time_without_anyone_at_the_keyboard(client, section):
    login_staff(client, staff(roles.AGENCY_ADMIN))
    go_live = timezone.now() + datetime.timedelta(hours=1)
    data = form(
        section,
        title="予約公開のタイトル",
        go_live_at=submittable_timestamp(go_live),
        **{"action-publish": "action-publish"},
    )
    client.post(reverse("wagtailadmin_pages:edit", args=[section.pk]), data)
    section.refresh_from_db()
    assert section.scheduled_revision is not None
    assert "予約公開のタイトル" not in page_html(client.get(section.url))
    call_command("publish_scheduled", verbosity=0)  # too early: nothing happens
    assert "予約公開のタイトル" not in page_html(client.get(section.url))
    later = go_live + datetime.timedelta(minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        call_command("publish_scheduled", verbosity=0)  # the systemd timer, an hour later
    assert "予約公開のタイトル" in page_html(client.get(section.url))


def test_an_operator_may_draft_but_not_publish(client, section):
    login_staff(client, staff(roles.OPERATOR))
    data = form(section, title="受託者による公開の試み", **{"action-publish": "action-publish"})
    client.post(reverse("wagtailadmin_pages:edit", args=[section.pk]), data)
    assert "受託者による公開の試み" not in page_html(client.get(section.url))
    section.refresh_from_db()
    assert not section.permissions_for_user(
        staff_user := get_user_model().objects.get(username="staff-受託者")
    ).can_publish()
    assert section.permissions_for_user(staff_user).can_edit()


def test_a_member_account_cannot_enter_the_admin(client, demo_site):
    client.force_login(staff(roles.MEMBER))
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/admin/")
