from django.db import migrations

from offices.seed import create_offices


def forwards(apps, schema_editor):
    create_offices(apps.get_model("offices", "Office"))


class Migration(migrations.Migration):
    dependencies = [("offices", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
