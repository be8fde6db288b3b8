from django.db import migrations, models


class Migration(migrations.Migration):
    """review_started_at: the moment a review's time started, so that due_at can be recomputed from it. Existing
    rows take submitted_at (a review restarted after in-person review keeps its stored due_at until rescheduled)."""

    dependencies = [("applications", "0006_dashboard_indexes")]

    operations = [
        migrations.AddField(
            model_name="application",
            name="review_started_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="review started at"),
        ),
        migrations.RunSQL(
            "UPDATE applications_application SET review_started_at = submitted_at WHERE review_started_at IS NULL",
            migrations.RunSQL.noop,
        ),
    ]
