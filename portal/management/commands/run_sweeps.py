import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from offices.workdays import BEIJING
from portal import sweeps


def parse_moment(text):
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--now: {text!r} is not an ISO date and time such as 2024-07-02T18:00+08:00.") from exc
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=BEIJING)


class Command(BaseCommand):
    help = "Run every deadline sweep once, as of now or of --now (Beijing time when no offset is given)."

    def add_arguments(self, parser):
        parser.add_argument("--now", type=parse_moment, help="e.g. 2024-07-02T18:00+08:00")

    def handle(self, now=None, **options):
        now = now or timezone.now()
        self.stdout.write(f"Sweeps as of {timezone.localtime(now, BEIJING):%Y-%m-%d %H:%M:%S} (Beijing time):")
        for path, summary in sweeps.run_all(now):
            self.stdout.write(f"  {path}: {summary}")
