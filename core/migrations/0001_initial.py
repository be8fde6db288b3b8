# PendingUpload moved from the portal app to core: the table stays (db_table), only Django's state moves.

import django.utils.timezone
import secrets
from django.db import migrations, models

import core.uploads


class Migration(migrations.Migration):
    initial = True

    dependencies = [("portal", "0002_spreadsheet_job")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PendingUpload",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("token", models.CharField(default=secrets.token_urlsafe, max_length=64, unique=True)),
                        ("field", models.CharField(max_length=50)),
                        ("file", models.FileField(max_length=200, upload_to=core.uploads.upload_path)),
                        ("original_name", models.CharField(blank=True, max_length=150)),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                    ],
                    options={
                        "verbose_name": "pending upload",
                        "verbose_name_plural": "pending uploads",
                        "db_table": "portal_pendingupload",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
