import io

import segno
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from offices.models import User


class Command(BaseCommand):
    help = (
        "Two-factor login of a staff member: --enrol creates their authenticator (TOTP) and prints its "
        "set-up link and QR code once; --reset deletes their authenticators."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--enrol", action="store_true", help="create a TOTP device and show it once")
        action.add_argument("--reset", action="store_true", help="delete every device of the staff member")

    def handle(self, username, enrol, reset, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No staff account named {username!r}.")
        devices = TOTPDevice.objects.filter(user=user)
        if reset:
            count, _ = devices.delete()
            self.stdout.write(self.style.SUCCESS(f"Deleted {count} authenticator(s) of {username}."))
            return
        if devices.exists():
            raise CommandError(f"{username} has an authenticator already: --reset it first to enrol a new one.")
        with transaction.atomic():
            device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        url = device.config_url
        self.stdout.write(f"Authenticator of {username} ({settings.OTP_TOTP_ISSUER}). Scan the QR code or open:")
        self.stdout.write(url)
        qr = segno.make(url, error="m")
        picture = io.StringIO()
        qr.terminal(out=picture, compact=True)
        self.stdout.write(picture.getvalue(), ending="")
        self.stdout.write(
            self.style.WARNING("Shown once: it cannot be displayed again. Lost it? Run --reset, then --enrol.")
        )
