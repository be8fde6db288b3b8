from django.db import migrations

from applications.seed import create_session_2024


def forwards(apps, schema_editor):
    create_session_2024(apps.get_model("applications", "ExamSession"))


class Migration(migrations.Migration):
    dependencies = [("applications", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
