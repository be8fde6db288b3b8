"""The downloadable forms' first text (tickets/form_seed.py); regional staff edit it in the admin."""

from django.db import migrations


def seed(apps, schema_editor):
    from tickets.form_seed import create_form_templates

    create_form_templates(apps.get_model("tickets", "FormTemplate"))


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_form_template")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
