from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("offices", "0002_seed_offices")]

    operations = [
        migrations.CreateModel(
            name="CalendarYear",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("year", models.PositiveSmallIntegerField(unique=True, verbose_name="year")),
                (
                    "complete",
                    models.BooleanField(
                        default=False,
                        help_text="Tick once every holiday and make-up working day of the year is entered under Calendar days.",
                        verbose_name="all holidays and make-up working days entered",
                    ),
                ),
                (
                    "marked_complete_by",
                    models.CharField(blank=True, editable=False, max_length=150, verbose_name="marked complete by"),
                ),
                (
                    "marked_complete_at",
                    models.DateTimeField(blank=True, editable=False, null=True, verbose_name="marked complete at"),
                ),
            ],
            options={
                "verbose_name": "calendar year",
                "verbose_name_plural": "calendar years",
                "ordering": ["-year"],
            },
        ),
    ]
