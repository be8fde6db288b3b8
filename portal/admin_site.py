import datetime

from django.conf import settings
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def years_to_check(today):
    """This year, the year staff plan into (next quarter), and the current session's exam year."""
    from applications.models import ExamSession

    years = {today.year, (today + datetime.timedelta(days=90)).year}
    session = ExamSession.objects.current()
    if session:
        years.add(session.year)
    return years


class PortalAdminSite(admin.AdminSite):
    site_header = _("Xinjiang Accounting Exam Offices")
    site_title = _("Exam office portal")
    index_title = _("Registration season administration")
    index_template = "admin/portal_index.html"
    # Django's login page plus the authenticator code field when two-factor login is on.
    login_template = "admin/portal_login.html"

    @property
    def login_form(self):
        """With PORTAL_REQUIRE_2FA, the login asks for a TOTP code after the password (read per request)."""
        if settings.PORTAL_REQUIRE_2FA:
            from .admin_login import OTPAdminLoginForm

            return OTPAdminLoginForm
        return None

    def has_permission(self, request):
        """Every admin URL (changelists, imports, exports, custom views) passes here through admin_view:
        with PORTAL_REQUIRE_2FA, a session whose login was not verified by a TOTP device is sent to login."""
        if not super().has_permission(request):
            return False
        if settings.PORTAL_REQUIRE_2FA:
            is_verified = getattr(request.user, "is_verified", None)  # set by django_otp's OTPMiddleware
            return bool(is_verified and is_verified())
        return True

    def index(self, request, extra_context=None):
        from offices.workdays import unknown_years

        today = timezone.localdate()
        context = {
            "unknown_calendar_years": unknown_years(years_to_check(today)),
            "offices_missing_data": offices_missing_data(request.user),
            **(extra_context or {}),
        }
        return super().index(request, context)


def offices_missing_data(user):
    """For regional staff: [(office, [what is missing])] of the offices whose directory entry candidates cannot use
    in full (shown on the admin index until someone fills it in)."""
    from offices.models import Office

    if not user.is_authenticated or not getattr(user, "sees_all_offices", False):
        return []
    from django.utils.translation import gettext

    missing = [(office, office.missing_contact_data()) for office in Office.objects.order_by("code")]
    return [(office, gettext(", ").join(str(label) for label in labels)) for office, labels in missing if labels]
