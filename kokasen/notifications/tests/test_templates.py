"""Message templates: defaults from templates/emails/, staff edits in the admin, placeholders
checked with Japanese messages, secrets never rendered into the outbox."""

import pytest
from django.urls import reverse

from kokasen.accounts import roles
from kokasen.notifications import message_templates as mt
from kokasen.notifications.models import MessageTemplate
from kokasen.testing import login_staff, make_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", [k for k, _ in mt.KIND_CHOICES])
def test_every_default_is_valid_plain_text_with_the_full_urls(kind):
    text = mt.default(kind)
    assert mt.problems(kind, text.subject, text.body) == {}
    assert "こども家庭庁" in text.body and "運営事務局" in text.body
    assert "<" not in text.body and "http" not in text.body, "URLs come from settings, written out in full"


def test_render_fills_values_and_turns_secrets_into_slots():
    values = {
        "団体名": "北海道札幌市",
        "ユーザーID": "011002",
        "ログインURL": "https://p.example/login/",
        "アカウントURL": "https://p.example/account/",
        "再設定申込URL": "https://p.example/password-reset/",
    }
    text = mt.render(mt.CREDENTIALS, values)
    assert text.subject == "【こども家庭センターポータル】アカウント発行のお知らせ（北海道札幌市）"
    assert "ユーザーID（団体コード）：011002" in text.body
    assert f"初期パスワード：{mt.PASSWORD_SLOT}" in text.body
    assert "\nhttps://p.example/login/\n" in text.body
    assert "{" not in text.body


def test_a_saved_template_replaces_the_default():
    MessageTemplate.objects.create(
        kind=mt.CREDENTIALS, subject="件名 {団体名}", body="{ユーザーID} {パスワード} {ログインURL}"
    )
    assert mt.current(mt.CREDENTIALS).subject == "件名 {団体名}"
    assert mt.current(mt.PASSWORD_RESET) == mt.default(mt.PASSWORD_RESET)


@pytest.mark.parametrize(
    "subject, body, field, message",
    [
        ("件名", "{ユーザーID}{パスワード}{ログインURL}{担当者名}", "body", "{担当者名} は使えない差し込み項目です。"),
        ("件名", "{ユーザーID}{ログインURL}", "body", "本文に {パスワード} がありません。必ず入れてください。"),
        (
            "件名 {パスワード}",
            "{ユーザーID}{パスワード}{ログインURL}",
            "subject",
            "件名に {パスワード} は入れられません",
        ),
        ("件名", "｛ユーザーID｝{ユーザーID}{パスワード}{ログインURL}", "body", "全角の波かっこです"),
        ("件名", "{団体名.__class__}{ユーザーID}{パスワード}{ログインURL}", "body", "使えない差し込み項目"),
        ("", "{ユーザーID}{パスワード}{ログインURL}", "subject", "件名を入力してください。"),
    ],
)
def test_bad_placeholders_are_refused(subject, body, field, message):
    problems = mt.problems(mt.CREDENTIALS, subject, body)
    assert any(message in p for p in problems[field]), problems


def test_the_reset_link_is_required_in_the_reset_template_and_not_allowed_elsewhere():
    assert (
        "本文に {再設定URL} がありません。必ず入れてください。"
        in mt.problems(mt.PASSWORD_RESET, "件名", "本文")["body"]
    )
    assert mt.problems(mt.CREDENTIALS, "件名", "{ユーザーID}{パスワード}{ログインURL}{再設定URL}")["body"][
        0
    ].startswith("{再設定URL} は使えない差し込み項目です。")


def test_staff_edit_the_template_in_the_admin_and_a_bad_placeholder_is_refused(client):
    login_staff(client, make_staff(roles.AGENCY_ADMIN))
    add_url = reverse("wagtailsnippets_notifications_messagetemplate:add")
    form = client.get(add_url)
    assert form.status_code == 200
    assert (
        "アカウント発行のお知らせ" in form.content.decode() and "初期パスワード：{パスワード}" in form.content.decode()
    )

    bad = client.post(
        add_url, {"kind": mt.CREDENTIALS, "subject": "お知らせ", "body": "{ユーザーID} {パスワ-ド} {ログインURL}"}
    )
    assert bad.status_code == 200
    assert "{パスワ-ド} は使えない差し込み項目です。" in bad.content.decode()
    assert "本文に {パスワード} がありません。必ず入れてください。" in bad.content.decode()
    assert not MessageTemplate.objects.exists()

    good = client.post(
        add_url,
        {
            "kind": mt.CREDENTIALS,
            "subject": "【ポータル】{団体名}様のアカウント",
            "body": "{団体名} 御中\nID：{ユーザーID}\nパスワード：{パスワード}\n{ログインURL}\n",
        },
    )
    assert good.status_code == 302
    assert mt.current(mt.CREDENTIALS).subject == "【ポータル】{団体名}様のアカウント"


def test_operators_may_edit_templates_too(client):
    login_staff(client, make_staff(roles.OPERATOR))
    assert client.get(reverse("wagtailsnippets_notifications_messagetemplate:add")).status_code == 200
