"""The admin screens through HTTP: queue order and filters, decisions, bulk, topics, settings."""

import pytest
from django.urls import NoReverseMatch, reverse

from kokasen.core.models import AuditEvent
from kokasen.testing import login_member, login_staff
from kokasen.tips import services
from kokasen.tips.models import BoardSettings, ModerationMode, Post, Topic

pytestmark = pytest.mark.django_db


def test_queue_lists_waiting_posts_first_and_filters(client, topic, member_a, member_b, agency_admin):
    old = services.post_submit(topic=topic, author=member_a, body="古い承認済み")
    services.post_approve(post=old, acting_user=agency_admin)
    services.post_submit(topic=topic, author=member_b, body="待っている投稿")
    login_staff(client, agency_admin)
    html = client.get(reverse("tips_admin:queue") + "?state=all").content.decode()
    assert html.index("待っている投稿") < html.index("古い承認済み")
    assert "古い承認済み" not in client.get(reverse("tips_admin:queue")).content.decode()
    assert "待っている投稿" not in client.get(reverse("tips_admin:queue") + "?q=札幌").content.decode()


def test_edit_then_approve_reject_and_hide_from_the_post_screen(client, topic, member_a, operator):
    post = services.post_submit(topic=topic, author=member_a, body="誤字がありまsu")
    login_staff(client, operator)
    url = reverse("tips_admin:post", args=[post.pk])
    assert client.post(url, {"action": "reject", "body": post.body, "reason": ""}).status_code == 400
    assert client.post(url, {"action": "approve", "body": "誤字がありました", "reason": ""}).status_code == 302
    post.refresh_from_db()
    assert post.state == "approved" and post.body == "誤字がありました"
    assert client.post(url, {"action": "hide", "body": post.body, "reason": "本人からの依頼"}).status_code == 302
    assert Post.objects.get(pk=post.pk).state == "hidden"
    response = client.post(url, {"action": "approve", "body": post.body})
    assert response.status_code == 400 and "することはできません" in response.content.decode()
    assert Post.objects.get(pk=post.pk).state == "hidden"  # a hidden post stays hidden


def test_bulk_from_the_queue(client, topic, member_a, member_b, agency_admin):
    ids = [services.post_submit(topic=topic, author=m, body=b).pk for m, b in ((member_a, "一"), (member_b, "二"))]
    login_staff(client, agency_admin)
    response = client.post(reverse("tips_admin:bulk"), {"post": ids, "decision": "reject", "reason": ""})
    assert response.status_code == 302 and set(Post.objects.values_list("state", flat=True)) == {"pending"}
    client.post(reverse("tips_admin:bulk"), {"post": ids, "decision": "approve"})
    assert set(Post.objects.values_list("state", flat=True)) == {"approved"}
    assert AuditEvent.objects.filter(action="tips.post_approved", actor=agency_admin).count() == 2


def test_bulk_skips_a_post_withdrawn_while_the_earlier_ones_were_decided(
    client, topic, member_a, member_b, agency_admin, monkeypatch
):
    """Defect fixed with decision 0027: the state machine's refusal (then TransitionError) was
    not caught, so a post withdrawn by its poster during a bulk approval ended it with a 500
    after the earlier posts were already approved."""
    first, second = (
        services.post_submit(topic=topic, author=m, body=b) for m, b in ((member_a, "一"), (member_b, "二"))
    )
    approve = services.post_approve

    def approve_while_the_poster_withdraws(*, post, **kwargs):
        if post.pk == first.pk:
            services.post_withdraw(post=second, acting_user=member_b)
        return approve(post=post, **kwargs)

    monkeypatch.setattr(services, "post_approve", approve_while_the_poster_withdraws)
    login_staff(client, agency_admin)
    response = client.post(
        reverse("tips_admin:bulk"), {"post": [first.pk, second.pk], "decision": "approve"}, follow=True
    )
    assert response.status_code == 200
    assert "1件を承認しました。（確認済みの1件は変更していません）" in response.content.decode()
    assert dict(Post.objects.values_list("pk", "state")) == {first.pk: "approved", second.pk: "withdrawn"}


def test_withdrawing_a_post_decided_meanwhile_says_why(client, topic, member_a, agency_admin, monkeypatch):
    """Defect fixed with decision 0027: the poster's withdraw page read the post, a moderator
    approved it, and the service's refusal (not caught by the view) answered 500."""
    post = services.post_submit(topic=topic, author=member_a, body="取り下げたい投稿")
    read_before_the_decision = Post.objects.get(pk=post.pk)
    services.post_approve(post=post, acting_user=agency_admin)
    monkeypatch.setattr("kokasen.tips.selectors.post_own_editable", lambda **kwargs: read_before_the_decision)
    login_member(client, member_a)
    response = client.post(reverse("tips:post_withdraw", args=[post.pk]), follow=True)
    assert response.status_code == 200 and "確認が済んだ投稿は変更できません。" in response.content.decode()
    assert Post.objects.get(pk=post.pk).state == "approved"


def test_topics_screen(client, agency_admin):
    login_staff(client, agency_admin)
    response = client.post(
        reverse("tips_topics:add"),
        {
            "title": "家庭訪問で使う便利グッズ",
            "description": "",
            "origin": "survey",
            "opens_at": "2026-04-01T09:00",
            "closes_at": "2026-03-01T09:00",
        },
    )
    assert response.status_code == 200 and "受付終了は受付開始より後" in response.content.decode()
    response = client.post(
        reverse("tips_topics:add"),
        {
            "title": "家庭訪問で使う便利グッズ",
            "description": "",
            "origin": "survey",
            "opens_at": "2026-04-01T09:00",
            "closes_at": "",
        },
    )
    assert response.status_code == 302
    topic = Topic.objects.get()
    assert AuditEvent.objects.filter(action="tips.topic_created", target_id=str(topic.pk)).exists()
    client.post(reverse("tips_topics:close", args=[topic.pk]))
    assert Topic.objects.get().closed_at is not None


def test_topics_are_edited_audited_and_never_deleted(client, topic, operator):
    login_staff(client, operator)
    assert "受付を終了" in client.get(reverse("tips_topics:index")).content.decode()
    response = client.post(
        reverse("tips_topics:edit", args=[topic.pk]),
        {
            "title": "言い換えたお題",
            "description": "",
            "origin": "other",
            "opens_at": "2026-04-01T09:00",
            "closes_at": "",
        },
    )
    assert response.status_code == 302 and Topic.objects.get(pk=topic.pk).title == "言い換えたお題"
    assert AuditEvent.objects.filter(action="tips.topic_changed", target_id=str(topic.pk), actor=operator).exists()
    for view in ("delete", "copy", "history", "usage"):  # the viewset has only list, add, edit and close
        with pytest.raises(NoReverseMatch):
            reverse(f"tips_topics:{view}", args=[topic.pk])


def test_topics_screens_are_for_staff_with_two_factor_only(client, topic, member_a, agency_admin):
    urls = [reverse("tips_topics:index"), reverse("tips_topics:add"), reverse("tips_topics:edit", args=[topic.pk])]
    for login in (lambda: login_member(client, member_a), lambda: client.force_login(agency_admin)):  # TOTP not passed
        client.logout()
        login()
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302 and topic.title not in response.content.decode()
        client.post(reverse("tips_topics:close", args=[topic.pk]))
        assert Topic.objects.get(pk=topic.pk).closed_at is None


def test_settings_screen_for_the_agency_only(client, agency_admin, operator):
    login_staff(client, operator)
    refused = client.get(reverse("tips_admin:settings"))  # Wagtail turns 403 into a redirect home
    assert refused.status_code == 302 and refused["Location"] == "/admin/"
    client.logout()
    login_staff(client, agency_admin)
    assert client.get(reverse("tips_admin:settings")).status_code == 200
    response = client.post(
        reverse("tips_admin:settings"),
        {
            "mode": "post",
            "max_length": "300",
            "field_local_government": "optional",
            "field_email": "required",
            "field_department": "hidden",
            "field_person_name": "hidden",
        },
    )
    assert response.status_code == 302
    board = BoardSettings.load()
    assert board.mode == ModerationMode.POST and board.max_length == 300 and board.field_email == "required"
    event = AuditEvent.objects.get(action="tips.settings_changed")
    assert event.detail["changes"]["mode"] == {"old": "pre", "new": "post"}
    assert event.actor == agency_admin
    page = client.get(reverse("tips_admin:settings")).content.decode()
    # In Japanese, never the stored codes (decision 0053).
    assert "受付の方式：事前承認（承認後に公開） → 事後確認（すぐに公開し、あとで確認）" in page
    assert "pre → post" not in page and "mode：" not in page
    response = client.post(reverse("tips_admin:settings"), {"mode": "chaos", "max_length": "5"})
    assert response.status_code == 200 and BoardSettings.load().mode == ModerationMode.POST
