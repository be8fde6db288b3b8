from django.db import migrations

from tickets.models import DEFAULT_SLA_WORKDAYS


def forwards(apps, schema_editor):
    KindSetting = apps.get_model("tickets", "KindSetting")
    for kind, days in DEFAULT_SLA_WORKDAYS.items():
        KindSetting.objects.get_or_create(kind=kind, defaults={"sla_workdays": days})


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
