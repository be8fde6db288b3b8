from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache

from applications import placeholders
from applications.models import ExamSession

from .models import HelpEntry


def home(request):
    session = ExamSession.objects.current()
    return render(
        request,
        "public/home.html",
        {"session": session, "open_now": session.open_now(timezone.now()) if session else []},
    )


# The help entries that name a request's form (FAQ 6: the written statement; FAQ 19: 免试科目申请表) link its download
# (tickets/documents.py), by URL name: the public pages do not import the requests.
FORM_DOWNLOADS = {6: "certification-deletion", 19: "exemption"}


def help_page(request):
    """The published help entries, their date placeholders filled from the current session (applications)."""
    values = placeholders.session_values(ExamSession.objects.current(), get_language())
    entries = list(HelpEntry.objects.filter(published=True))
    for entry in entries:
        entry.shown_question = placeholders.fill(entry.question, values)
        entry.shown_answer = placeholders.fill(entry.answer, values)
        if entry.number in FORM_DOWNLOADS:
            entry.form_url = reverse("tickets:form", args=[FORM_DOWNLOADS[entry.number]])
    return render(request, "public/help.html", {"entries": entries})


@never_cache
def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the site's own page, in the user's language and within the CSP (Django's built-in page
    has an inline style and speaks English). The reason is for the log Django already writes, not for the page.
    Rendered with the request, so the page hands out a fresh CSRF cookie and the form works after a reload."""
    return render(request, "403_csrf.html", status=403)
