import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from applications.models import ExamSession
from applications.seed import SESSION_2024
from offices.models import Office, Role, User
from offices.workdays import BEIJING

DEMO_ACCOUNTS = [
    # username, office, role, password (printed: these accounts exist only on development machines)
    ("reviewer_urumqi", "650100", Role.REVIEWER, "demo-reviewer-urumqi"),
    ("reviewer_kashgar", "653100", Role.REVIEWER, "demo-reviewer-kashgar"),
    ("manager_urumqi", "650100", Role.MANAGER, "demo-manager-urumqi"),
    ("regional_admin", "650000", Role.REGIONAL, "demo-regional-admin"),
]


def demo_session_dates(today):
    """A session whose registration window is open on `today`, with the 2024 session's proportions."""
    opens = datetime.datetime.combine(today - datetime.timedelta(days=3), datetime.time(), tzinfo=BEIJING)
    closes = datetime.datetime.combine(today + datetime.timedelta(days=10), datetime.time(12), tzinfo=BEIJING)
    exam_first_day = closes.date() + datetime.timedelta(days=67)
    return {
        "year": exam_first_day.year,
        "registration_opens": opens,
        "registration_closes": closes,
        "payment_closes": closes.replace(hour=18),
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
                self.create_demo(timezone.localdate())
                self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.print_logins()

    def loaded(self):
        return User.objects.filter(username=DEMO_ACCOUNTS[0][0]).exists()

    def delete_demo(self):
        User.objects.filter(username__in=[row[0] for row in DEMO_ACCOUNTS]).delete()
        ExamSession.objects.exclude(year=SESSION_2024["year"]).delete()

    def create_demo(self, today):
        dates = demo_session_dates(today)
        session = ExamSession(**dates)
        session.full_clean()
        session.save()
        session.make_current()
        for username, code, role, password in DEMO_ACCOUNTS:
            User.objects.create_staff(username, office=Office.objects.get(code=code), role=role, password=password)

    def print_logins(self):
        self.stdout.write("Demo logins (admin at /admin/):")
        for username, code, role, password in DEMO_ACCOUNTS:
            self.stdout.write(f"  {username:<18} {password:<24} {role} of {code}")
