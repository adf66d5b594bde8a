"""The audit trail records what happened and to what, never a copy of user text (decision 0033):
earlier events of the 小ネタ and the 意見箱 kept post texts, moderation reasons, internal notes
and a post's text as its label. This rewrites them in place to what the code now records."""

from django.db import migrations


def minimise(apps, schema_editor):
    AuditEvent = apps.get_model("core", "AuditEvent")
    for event in AuditEvent.objects.filter(action__startswith="tips.post_").iterator():
        detail = dict(event.detail or {})
        edited = "body_before" in detail or "body_after" in detail
        detail.pop("body_before", None)
        detail.pop("body_after", None)
        if edited:
            detail["body_edited"] = True
        if detail.pop("reason", None):
            detail["reason_given"] = True
        event.detail = detail
        event.target_label = f"小ネタ #{event.target_id}"
        event.save(update_fields=["detail", "target_label"])
    for event in AuditEvent.objects.filter(action="feedback.opinion_updated").iterator():
        detail = dict(event.detail or {})
        if "internal_notes" in detail:
            detail["internal_notes"] = "changed"
            event.detail = detail
            event.save(update_fields=["detail"])


class Migration(migrations.Migration):
    dependencies = [("core", "0002_access_log_position")]

    operations = [migrations.RunPython(minimise, migrations.RunPython.noop)]
