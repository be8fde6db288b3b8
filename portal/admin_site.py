import datetime

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

    def index(self, request, extra_context=None):
        from offices.workdays import unknown_years

        today = timezone.localdate()
        context = {"unknown_calendar_years": unknown_years(years_to_check(today)), **(extra_context or {})}
        return super().index(request, context)
