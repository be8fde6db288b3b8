"""The admin login form when two-factor login is on (settings.PORTAL_REQUIRE_2FA): password, then a TOTP code.

Each staff member has one TOTP device (`manage.py staff_otp USERNAME --enrol`), so the form asks for the
code only, never for a device. django-otp's TOTP device refuses a code at or before the last one it
accepted (`last_t`), so a code cannot be replayed, and throttles repeated wrong codes. A wrong code is
also reported as a failed login, so django-axes counts it towards the lockout like a wrong password.
"""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice


def staff_device(user):
    """The staff member's confirmed TOTP device, or None when none is enrolled."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


class OTPAdminLoginForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    otp_token = forms.CharField(
        label=_("Authenticator code"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": _("Enter the 6-digit code that your authenticator app shows."),
        "invalid_token": _("This code is wrong or was used already. Enter the current code of your authenticator app."),
        "verification_not_allowed": _("Too many wrong codes: wait a minute, then try again."),
        "n_failed_attempts": _("Too many wrong codes: wait a minute, then try again."),
        "no_device": _(
            "Two-factor login is required, but no authenticator app is set up for your account yet. "
            "Ask the regional office to set one up for you."
        ),
    }

    def clean(self):
        self.cleaned_data = super().clean()
        user = self.get_user()
        if user is not None and staff_device(user) is None:
            raise forms.ValidationError(self.otp_error_messages["no_device"], code="no_device")
        self.clean_otp(user)
        return self.cleaned_data

    def _chosen_device(self, user):
        return staff_device(user)

    def _verify_token(self, user, token, device=None):
        try:
            return super()._verify_token(user, token, device)
        except forms.ValidationError:
            # A wrong second factor is a failed login: axes counts it for (username, address).
            user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=self.request)
            raise

    def _update_form(self, user):
        # django-otp would echo the password back into the re-rendered form; the user types it again.
        pass
