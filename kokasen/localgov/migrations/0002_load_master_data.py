from django.db import migrations


def load(apps, schema_editor):
    from kokasen.localgov import data

    data.sync(apps.get_model("localgov", "LocalGovernment"), data.read_rows())


class Migration(migrations.Migration):
    dependencies = [("localgov", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
