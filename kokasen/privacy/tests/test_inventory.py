"""The inventory covers every personal-looking field, and data_inventory counts them."""

import pytest
from django.core.management import call_command
from django.db import models
from django.test.utils import isolate_apps

from kokasen.privacy import inventory


def test_every_personal_looking_field_is_inventoried_or_explained():
    assert inventory.unlisted() == []


def test_inventory_names_real_fields():
    from django.apps import apps

    for entry in inventory.MODELS:
        model = apps.get_model(entry.model)
        for name in entry.fields:
            model._meta.get_field(name)
    for key in inventory.NOT_PERSONAL:
        label, name = key.rsplit(".", 1)
        apps.get_model(label)._meta.get_field(name)


@isolate_apps("kokasen.privacy")
def test_a_new_personal_field_without_an_entry_fails():
    class Visitor(models.Model):
        phone_number = models.CharField(max_length=20)
        home_address = models.TextField()
        ip = models.GenericIPAddressField()
        free_text = models.TextField()
        count = models.IntegerField()

        class Meta:
            app_label = "privacy"

    Visitor.__module__ = "kokasen.privacy.models"
    assert inventory.unlisted([Visitor]) == [
        "privacy.Visitor.phone_number",
        "privacy.Visitor.home_address",
        "privacy.Visitor.ip",
        "privacy.Visitor.free_text",
    ]


@pytest.mark.django_db
def test_data_inventory_counts_with_the_oldest_date(member_a, capsys):
    from kokasen.feedback.models import Opinion

    Opinion.objects.create(author=member_a, body="本文", contact_email="a@example.jp")
    call_command("data_inventory")
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("feedback.Opinion（contact_name, contact_email）"))
    assert "1件" in line and "最古 20" in line
    for store in (
        "sessions.Session",
        "wagtailcore.Revision",
        "MEDIA_ROOT",
        "PRIVACY_LOG_FILES",
        "バックアップ",
        "キャッシュ",
    ):
        assert store in out


def test_the_table_in_docs_security_lists_every_store():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "security.md").read_text(encoding="utf-8")
    for entry in inventory.MODELS:
        assert f"| `{entry.model}` | {', '.join(entry.fields)} |" in text, entry.model
