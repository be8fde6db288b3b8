from django.db import migrations

from public.models import create_help_entries


def forwards(apps, schema_editor):
    create_help_entries(apps.get_model("public", "HelpEntry"))


class Migration(migrations.Migration):
    dependencies = [("public", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
