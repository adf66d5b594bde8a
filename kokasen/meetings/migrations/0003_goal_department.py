"""Goals per (local government, department): prefecture meetings are grouped per department and
each department of a prefecture sets its own goals. Existing goals get department "" (what town
meetings keep)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("meetings", "0002_grouping_notes"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="goal",
            options={
                "ordering": ["meeting", "local_government__code", "department"],
                "verbose_name": "目標と進捗",
                "verbose_name_plural": "目標と進捗",
            },
        ),
        migrations.RemoveConstraint(
            model_name="goal",
            name="meetings_one_goal_per_lg",
        ),
        migrations.AddField(
            model_name="goal",
            name="department",
            field=models.CharField(blank=True, max_length=100, verbose_name="部署"),
        ),
        migrations.AddConstraint(
            model_name="goal",
            constraint=models.UniqueConstraint(
                fields=("meeting", "local_government", "department"), name="meetings_one_goal_per_lg_department"
            ),
        ),
    ]
