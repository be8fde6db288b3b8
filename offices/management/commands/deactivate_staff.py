from django.core.management.base import BaseCommand, CommandError

from offices.models import User
from offices.sessions import end_sessions


class Command(BaseCommand):
    help = "Deactivate a staff account and end all of its sessions at once."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No staff account named {username!r}.")
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
        ended = end_sessions(user)
        self.stdout.write(self.style.SUCCESS(f"Deactivated {username}; ended {ended} session(s)."))
