from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from applications.models import ExamSession
from applications.payment_samples import write_sample_payment_file


class Command(BaseCommand):
    help = "Write a sample payment list of the national platform (xlsx or csv) for the payment import."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="exam year (default: the current session)")
        parser.add_argument("--out", default=str(settings.VAR_DIR / "sample-payments.xlsx"), help="file to write")

    def handle(self, *args, year=None, out=None, **options):
        session = ExamSession.objects.filter(year=year).first() if year else ExamSession.objects.current()
        if session is None:
            raise CommandError("No such exam session.")
        path = write_sample_payment_file(session, out)
        self.stdout.write(f"Wrote {path} for {session.year}: import it in the admin under Registration › Payments.")
