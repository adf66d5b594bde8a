from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("meetings", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="meeting",
            name="grouping_notes",
            field=models.JSONField(blank=True, default=dict, verbose_name="グループ分けの提案時の説明"),
        ),
    ]
