from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from applications.models import ExamSession, counted_figures, rebuild_counters, stored_figures


class Command(BaseCommand):
    help = (
        "Count the dashboard's counters (applications.models: SeasonDay, DecisionTime, WorkHour) again from the "
        "applications; with --check, only say whether they agree. Safe while the portal runs: writes wait meanwhile."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="the session of this exam year only (default: every session)")
        parser.add_argument("--check", action="store_true", help="compare, change nothing; exit 1 when they differ")

    def handle(self, *args, year=None, check=False, **options):
        sessions = ExamSession.objects.filter(year=year) if year else ExamSession.objects.all()
        if year and not sessions.exists():
            raise CommandError(f"No exam session of {year}.")
        if check:
            own_transaction = not connection.in_atomic_block
            with transaction.atomic():
                if connection.vendor == "postgresql" and own_transaction:  # both reads see the same rows
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                stored, counted = stored_figures(sessions), counted_figures(sessions)
            differ = sum(
                stored[model].get(key) != counted[model].get(key)
                for model in counted
                for key in stored[model].keys() | counted[model].keys()
            )
            if differ:
                raise CommandError(f"The counters differ from the applications in {differ} rows: run rebuild_counters.")
            self.stdout.write("The counters agree with the applications.")
            return
        self.stdout.write(f"Counted again: {rebuild_counters(sessions)} counter rows.")
