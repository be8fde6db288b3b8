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

    def get_urls(self):
        from django.urls import path

        return [
            path("dashboard/offices.xlsx", self.admin_view(self.regional_xlsx_view), name="dashboard_offices_xlsx"),
            *super().get_urls(),
        ]

    def index(self, request, extra_context=None):
        """The dashboard (portal/dashboard.py) above Django's list of models."""
        from offices.workdays import unknown_years

        from . import dashboard

        today = timezone.localdate()
        now = timezone.now()
        work = dashboard.open_work(request.user, now)  # today's work of each office: the figures and the table
        context = {
            "unknown_calendar_years": unknown_years(years_to_check(today)),
            "figures": dashboard.office_figures(request.user, now, work),
            "season": dashboard.season_figures(request.user, now, work),
            "regional": (
                dashboard.regional_table(request.user, now, request.GET.get("o"), work)
                if request.user.sees_all_offices
                else None
            ),
            **(extra_context or {}),
        }
        return super().index(request, context)

    def regional_xlsx_view(self, request):
        from django.core.exceptions import PermissionDenied
        from django.http import HttpResponse

        from core.xlsx import StreamingXLSX

        from . import dashboard

        if not request.user.sees_all_offices:
            raise PermissionDenied
        table = dashboard.regional_table(request.user, timezone.now(), request.GET.get("o"))
        content = StreamingXLSX().export_data(dashboard.regional_rows_for_export(table))
        response = HttpResponse(content, content_type=StreamingXLSX().get_content_type())
        response["Content-Disposition"] = 'attachment; filename="offices.xlsx"'
        return response
