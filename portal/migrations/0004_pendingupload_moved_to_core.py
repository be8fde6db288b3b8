# PendingUpload now belongs to core (core/migrations/0001): the table is kept, only Django's state moves.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("portal", "0003_delete_spreadsheet_job"), ("core", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="PendingUpload")]),
    ]
