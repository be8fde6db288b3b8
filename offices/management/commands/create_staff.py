import getpass
import os

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from offices.models import Office, Role, User


class Command(BaseCommand):
    help = "Create a staff account of an office with a role (reviewer, manager or regional)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--office", required=True, help="division code, e.g. 650100")
        parser.add_argument("--role", required=True, help=", ".join(Role.values))
        parser.add_argument("--password-env", help="name of an environment variable holding the password")
        parser.add_argument("--email", default="")

    def handle(self, username, office, role, password_env, email, **options):
        if role not in Role.values:
            raise CommandError(f"Unknown role {role!r}: choose one of {', '.join(Role.values)}.")
        office_obj = Office.objects.filter(code=office).first()
        if office_obj is None:
            raise CommandError(f"Unknown office {office!r}: use a division code such as 650100 (see the admin).")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A staff account named {username!r} exists already.")
        password = self._password(password_env)
        try:
            password_validation.validate_password(password, User(username=username, email=email))
            with transaction.atomic():
                User.objects.create_staff(username, office=office_obj, role=role, password=password, email=email)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Created {role} {username} of office {office_obj}."))

    def _password(self, password_env):
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"The environment variable {password_env} is not set or empty.")
            return password
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        if not password:
            raise CommandError("The password is empty.")
        return password
