import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from applications.demo import create_demo_applications
from applications.models import COUNTERS, Application, ApplicationEvent, Candidate, ExamSession, Payment
from applications.payment_samples import write_sample_payment_file
from applications.seed import SESSION_2024
from appointments.demo import create_demo_counters, delete_demo_counters
from notifications.models import OutboxMessage
from offices.models import Office, Role, User
from offices.workdays import BEIJING
from tickets.demo import create_demo_tickets
from tickets.duplicate_samples import write_sample_duplicate_file
from tickets.models import DETAIL_MODELS, DuplicatePayment, IdentityChange, Ticket, TicketEvent, TicketMessage

DEMO_ACCOUNTS = [
    # username, office, role, password (printed: these accounts exist only on development machines)
    ("reviewer_urumqi", "650100", Role.REVIEWER, "demo-reviewer-urumqi"),
    ("reviewer_kashgar", "653100", Role.REVIEWER, "demo-reviewer-kashgar"),
    ("manager_urumqi", "650100", Role.MANAGER, "demo-manager-urumqi"),
    ("regional_admin", "650000", Role.REGIONAL, "demo-regional-admin"),
]


def demo_session_dates(now):
    """A session whose registration is open at `now` and whose payment closes within 24 hours, so that
    every deadline (reminders, lapses, closing) can be watched with `run_sweeps --now` a day ahead."""
    local = timezone.localtime(now, BEIJING).replace(minute=0, second=0, microsecond=0)
    payment_closes = local + datetime.timedelta(hours=20)
    registration_closes = payment_closes - datetime.timedelta(hours=6)
    opens = datetime.datetime.combine(local.date() - datetime.timedelta(days=12), datetime.time(), tzinfo=BEIJING)
    exam_first_day = registration_closes.date() + datetime.timedelta(days=67)
    return {
        "year": exam_first_day.year,
        "registration_opens": opens,
        "registration_closes": registration_closes,
        "payment_closes": payment_closes,
        "exam_first_day": exam_first_day,
        "exam_last_day": exam_first_day + datetime.timedelta(days=2),
        "admit_card_from": exam_first_day - datetime.timedelta(days=5),
        "admit_card_to": exam_first_day - datetime.timedelta(days=3),
    }


class Command(BaseCommand):
    help = "Load the demo data once (a current session open today and the demo accounts); --reset recreates it."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="delete the demo data and create it again for today")

    def handle(self, reset=False, **options):
        if not settings.PORTAL_DEMO_ALLOWED:
            raise CommandError("Demo data and demo accounts are refused in production settings (DJANGO_DEBUG=0).")
        with transaction.atomic():
            if reset:
                self.delete_demo()
            if self.loaded():
                self.stdout.write("Demo data is loaded already (use --reset to recreate it for today).")
            else:
                self.create_demo(timezone.now())
                self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.write_samples()
        self.print_logins()

    def loaded(self):
        return User.objects.filter(username=DEMO_ACCOUNTS[0][0]).exists()

    def delete_demo(self):
        # A development database only: the demo's records go, and with them whatever was tried out.
        # Visits first: they point at requests; then requests: they point at candidates and applications (PROTECT).
        delete_demo_counters()
        ticket_models = (DuplicatePayment, IdentityChange, TicketMessage, TicketEvent, *DETAIL_MODELS.values(), Ticket)
        application_models = (ApplicationEvent, Payment, Application, *COUNTERS)  # the dashboard's counters with them
        for model in (*ticket_models, *application_models, Candidate, OutboxMessage):
            model.objects.all().delete()
        User.objects.filter(username__in=[row[0] for row in DEMO_ACCOUNTS]).delete()
        ExamSession.objects.exclude(year=SESSION_2024["year"]).delete()
        ExamSession.objects.filter(year=SESSION_2024["year"]).get().make_current()

    def create_demo(self, now):
        session = ExamSession(**demo_session_dates(now))
        session.full_clean()
        session.save()
        session.make_current()
        for username, code, role, password in DEMO_ACCOUNTS:
            User.objects.create_staff(
                username,
                office=Office.objects.get(code=code),
                role=role,
                password=password,
                email=f"{username}@example.com",  # digests and escalations land in var/mail too
            )
        past_session = ExamSession.objects.get(year=SESSION_2024["year"])
        create_demo_applications(session, past_session, now)
        create_demo_tickets(session, past_session, now)
        create_demo_counters(now)

    def write_samples(self):
        session = ExamSession.objects.current()
        path = write_sample_payment_file(session, settings.VAR_DIR / "demo" / "sample-payments.xlsx")
        self.stdout.write(f"Sample payment list for the payment import: {path}")
        path = write_sample_duplicate_file(session, settings.VAR_DIR / "demo" / "sample-duplicate-payments.xlsx")
        self.stdout.write(f"Sample duplicate-payment list for the import of the regional office: {path}")

    def print_logins(self):
        self.stdout.write("Demo logins (admin at /admin/):")
        for username, code, role, password in DEMO_ACCOUNTS:
            self.stdout.write(f"  {username:<18} {password:<24} {role} of {code}")
