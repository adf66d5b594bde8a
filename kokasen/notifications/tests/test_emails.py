"""One way to write an e-mail (decision 0023): registered kinds, their template files, and the
rules emails.render() applies to every message."""

import copy
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from kokasen.notifications import emails, message_templates, sender
from kokasen.notifications.models import OutboxMessage

TEMPLATES = Path(django_settings.BASE_DIR) / "templates" / "emails"
KINDS = [kind.name for kind in emails.kinds()]


def test_every_e_mail_the_apps_send_is_a_registered_kind_with_a_label():
    sent_by_the_apps = {
        "credentials",
        "password_reissued",
        "password_reset",
        "staff_enrolment_invitation",
        "tips_digest",
        "tips_approved",
        "tips_rejected",
        "tips_hidden",
        "feedback_received",
        "meeting_invitation",
        "meeting_facilitator",
        "ops_alert",
        "ops_recovery",
        "ops_database_unreachable",
        "ops_escalation",
        "ops_monthly_report",
        "analytics_report",
    }
    assert set(KINDS) == sent_by_the_apps
    labels = emails.labels()
    assert labels["tips_hidden"] == "小ネタ：投稿の非表示のお知らせ", "was missing from the outbox list"
    assert all(re.search(r"[ぁ-んァ-ン一-龥]", label) for label in labels.values())


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_one_line_subject_and_a_body_in_its_folder(kind):
    folder = TEMPLATES / kind
    assert sorted(p.name for p in folder.iterdir()) == ["body.txt", "subject.txt"]
    subject = (folder / "subject.txt").read_text(encoding="utf-8")
    assert subject.endswith("\n") and "\n" not in subject[:-1] and subject.strip()
    for path in folder.iterdir():
        text = path.read_text(encoding="utf-8")
        assert emails.SLOT_PREFIX not in text, "only render() makes slots"
        assert "autoescape" not in text, "render() turns autoescaping off for every template"


def test_the_editable_kinds_are_those_with_placeholders_and_their_defaults_are_valid():
    editable = [kind for kind in emails.kinds() if kind.editable]
    assert [kind.name for kind in editable] == [k for k, _ in message_templates.KIND_CHOICES]
    assert [kind.name for kind in editable] == ["credentials", "password_reissued", "password_reset"]
    for kind in editable:
        text = message_templates.default(kind.name)
        assert message_templates.problems(kind.name, text.subject, text.body) == {}
        assert "{{" not in text.body and "{%" not in text.body, "staff edit these: placeholders only"


def test_the_admin_help_names_every_placeholder_of_every_editable_kind():
    for kind in emails.kinds():
        if kind.editable:
            for name in kind.editable.placeholders:
                assert f"{{{name}}}" in message_templates.BODY_HELP, (kind.name, name)
            for name in kind.editable.subject:
                assert f"{{{name}}}" in message_templates.SUBJECT_HELP, (kind.name, name)


def test_only_the_credential_kinds_carry_a_slot_each_its_own():
    assert {kind.name: kind.slot for kind in emails.kinds() if kind.slot} == {
        "credentials": "password",
        "password_reissued": "password",
        "password_reset": "reset-url",
    }
    assert emails.slot_of("tips_approved") == emails.slot_of("not_registered") == ""


# --- the rules of render(), with kinds registered for the test --------------------------------


@pytest.fixture
def test_kinds(settings, tmp_path):
    """Two kinds registered only for the test, with their templates in a folder of their own."""
    folder = tmp_path / "emails"
    (folder / "test_notice").mkdir(parents=True)
    (folder / "test_notice" / "subject.txt").write_text("【テスト】{{ title }}のお知らせ\n", encoding="utf-8")
    (folder / "test_notice" / "body.txt").write_text(
        "\n\n{{ name }} 様\n\n「{{ title }}」{{ a }}{{ b }}\n{% if extra %}{{ extra }}\n{% endif %}\n\n",
        encoding="utf-8",
    )
    (folder / "test_secret").mkdir()
    (folder / "test_secret" / "subject.txt").write_text("件名 {名前}\n", encoding="utf-8")
    (folder / "test_secret" / "body.txt").write_text("{名前}{番号}\n秘密：{秘密}\n", encoding="utf-8")
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates  # the template engines are rebuilt
    before = dict(emails._registry.kinds)
    emails.register(emails.Kind("test_notice", "テスト：お知らせ"))
    emails.register(
        emails.Kind(
            "test_secret",
            "テスト：秘密",
            slot="test-secret",
            editable=emails.Editable({"名前": "名前", "番号": "番号", "秘密": "秘密"}, ("秘密",), ("名前",), "秘密"),
        )
    )
    yield
    emails._registry.kinds.clear()
    emails._registry.kinds.update(before)
    emails._registry.fillers.pop("test-secret", None)


def test_render_writes_plain_text_with_a_one_line_subject(test_kinds):
    text = emails.render("test_notice", {"title": "研修\n<案内> & 資料", "name": "山田", "a": "", "b": ""})
    assert text.subject == "【テスト】研修 <案内> & 資料のお知らせ"
    assert text.body == "山田 様\n\n「研修\n<案内> & 資料」\n", (
        "no escaping, no blank lines around, one final line break"
    )


def test_no_value_and_no_two_values_side_by_side_can_form_a_slot(test_kinds):
    text = emails.render(
        "test_notice",
        {
            "title": "[[kokasen:password]]",
            "name": "x",
            "a": "[[koka",
            "b": "sen:reset-url]]",
            "extra": "[[kokasen:reset-url]]",
        },
    )
    for part in text:
        assert emails.SLOT_PREFIX not in part
    assert "[ [kokasen:password]]" in text.subject and text.body.count("[ [kokasen:reset-url]]") == 2


def test_an_editable_kind_gets_its_own_slot_only_where_the_template_asks(db, test_kinds):
    values = {"名前": "[[koka", "番号": "sen:test-secret]]"}
    text = emails.render("test_secret", values)
    assert text.body.count(emails.SLOT_PREFIX) == text.body.count(emails.slot_marker("test-secret")) == 1
    assert text.body.endswith("秘密：[[kokasen:test-secret]]\n")
    assert text.subject == "件名 [[koka"


def test_values_side_by_side_in_a_credential_template_cannot_form_a_second_slot(db):
    template = emails.Text("件名", "{団体名}{ユーザーID}\n{パスワード}\n{ログインURL}\n")
    values = {
        "団体名": "北海道[[koka",
        "ユーザーID": "sen:password]]",
        "ログインURL": "x",
        "アカウントURL": "y",
        "再設定申込URL": "z",
    }
    text = message_templates.render(message_templates.CREDENTIALS, values, template=template)
    assert text.body.count(emails.SLOT_PREFIX) == text.body.count(message_templates.PASSWORD_SLOT) == 1
    assert text.body.startswith("北海道[ [kokasen:password]]\n")


def test_an_unknown_kind_is_refused():
    with pytest.raises(LookupError):
        emails.render("no_such_kind", {})


def test_a_slot_is_carried_only_by_an_editable_kind_and_a_name_is_registered_once(test_kinds):
    with pytest.raises(ImproperlyConfigured):
        emails.Kind("x_kind", "x", slot="password")
    with pytest.raises(ImproperlyConfigured):
        emails.register(emails.Kind("test_notice", "別のラベル"))
    emails.register(emails.Kind("test_notice", "テスト：お知らせ"))  # the same declaration again is harmless


@pytest.mark.django_db
def test_a_slot_without_a_registered_filler_fails_the_message_and_is_never_sent(test_kinds, smtp_server):
    from kokasen.notifications import services

    text = emails.render("test_secret", {"名前": "a", "番号": "1"})
    message = services.message_queue(kind="test_secret", to=["a@example.jp"], subject=text.subject, body=text.body)
    report = sender.send_outbox()
    message.refresh_from_db()
    assert (report.failed, message.status, smtp_server.received) == (1, OutboxMessage.Status.FAILED, [])
    assert "記入する仕組みが登録されていません" in message.last_error

    emails.register_slot_filler("test-secret", lambda message: "ひみつ")
    message = services.message_queue(kind="test_secret", to=["a@example.jp"], subject=text.subject, body=text.body)
    sender.send_outbox()
    assert smtp_server.received[-1].message.get_content().splitlines()[-1] == "秘密：ひみつ"


def test_the_queue_keeps_subjects_on_one_line(db):
    from kokasen.notifications import services

    message = services.message_queue(kind="tips_approved", to=["a@example.jp"], subject="一行目\r\n二行目", body="本文")
    assert message.subject == "一行目 二行目", "a line break in a subject used to fail at send time (BadHeaderError)"


def test_every_e_mail_that_says_contact_us_gives_the_contact_page_in_full(demo_site, db, settings):
    """Decision 0044: 「お問い合わせください」 names the 運営事務局 and, in a mail, its お問い合わせ page
    written out (the credential kinds through {お問い合わせURL}, template kinds through contact_url)."""
    from kokasen.pages.models import PolicyPage

    settings.PORTAL_BASE_URL = "https://portal.example.go.jp"
    page = PolicyPage.objects.get(kind="contact")
    expected = "お問い合わせ先：https://portal.example.go.jp" + page.get_url_parts()[2] + "\n"
    values = {
        name: "x" for name in ("団体名", "ユーザーID", "ログインURL", "アカウントURL", "再設定申込URL", "有効期限")
    }
    for kind in ("credentials", "password_reissued", "password_reset"):
        text = message_templates.render(kind, values)
        assert "お問い合わせください" in text.body and expected in text.body, kind
    for path in sorted(Path(settings.BASE_DIR, "templates", "emails").glob("*/body.txt")):
        if "お問い合わせください" in path.read_text(encoding="utf-8"):
            assert "{お問い合わせURL}" in path.read_text(encoding="utf-8") or "{{ contact_url }}" in path.read_text(
                encoding="utf-8"
            ), path.parent.name
