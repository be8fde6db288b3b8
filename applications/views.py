"""The candidate's pages: apply, confirmation, private status page (edit, withdraw) and status lookup.

Every page that can show personal data is sent with Cache-Control: no-store (never_cache).
"""

from django.conf import settings
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_ratelimit.core import get_usage
from django_ratelimit.decorators import ratelimit

from core import id_numbers

from .eligibility import form_rules
from .forms import ApplicationForm, EditApplicationForm, StatusLookupForm, WithdrawForm
from .models import EDITABLE_BY_CANDIDATE, Application, ExamSession, InvalidTransition, Status


# Rates are read at request time, so that a changed setting (or a test's override) applies at once.
def submit_rate(group, request):
    return settings.PORTAL_RATE_SUBMIT


def lookup_rate(group, request):
    return settings.PORTAL_RATE_LOOKUP


def lookup_per_document_rate(group, request):
    return settings.PORTAL_RATE_LOOKUP_PER_DOCUMENT


def lookup_document_key(group, request):
    return id_numbers.normalize(request.POST.get("document_number", ""))


# The status lookups' limit per document number counts failed lookups only: anyone who knows a number could
# otherwise spend its limit and lock the candidate out, while a right reference + number never spends it.


def document_lookups_spent(request, group):
    """Whether the failed lookups for the posted document number have reached the limit (asking spends none)."""
    usage = get_usage(request, group=group, key=lookup_document_key, rate=lookup_per_document_rate, method="POST")
    # An unreachable cache answers count 0 and limit 0: refused, as the decorators refuse then.
    return usage is not None and usage["count"] >= usage["limit"]


def spend_document_lookup(request, group):
    """Count one failed lookup against the posted document number."""
    get_usage(
        request, group=group, key=lookup_document_key, rate=lookup_per_document_rate, method="POST", increment=True
    )


def page_language():
    language = get_language() or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def too_many_requests(request, *, lookup=False):
    """The 429 page; a status lookup's says that the private link of the confirmation email needs no lookup."""
    return render(request, "applications/rate_limited.html", {"lookup": lookup}, status=429)


def _application(token):
    queryset = Application.objects.select_related("session", "office", "candidate")
    return get_object_or_404(queryset, status_token=token)


def candidate_refusal(application):
    """Why the candidate cannot change the application any more (never naming staff)."""
    params = {"ref": application.reference, "status": application.get_status_display()}
    if application.status == Status.PAID:
        return _("%(ref)s is paid: nothing can change after payment (FAQ 14).") % params
    if application.status in EDITABLE_BY_CANDIDATE:
        return _("Registration is closed: the application can no longer be changed online.")
    return _("%(ref)s is “%(status)s”: it can no longer be changed online.") % params


def can_change(application):
    return application.status in EDITABLE_BY_CANDIDATE and application.session.registration_is_open()


# Apply -------------------------------------------------------------------------------------------------


@never_cache
# Every field of the form is the candidate's: error reports show none of them.
@sensitive_post_parameters()
@ratelimit(key="ip", rate=submit_rate, method="POST", block=False)
def apply(request):
    session = ExamSession.objects.current()
    if request.method == "POST" and request.limited:
        return too_many_requests(request)
    if session is None or (request.method != "POST" and not session.registration_is_open()):
        return render(request, "applications/apply_closed.html", {"session": session, "now": timezone.now()})
    if request.method != "POST":
        form = ApplicationForm(session=session, language=page_language())
        return render(
            request, "applications/apply.html", {"form": form, "session": session, "eligibility": form_rules()}
        )

    form = ApplicationForm(request.POST, request.FILES, session=session, language=page_language())
    previous = form.previous_submission()
    if previous is not None:
        return redirect("applications:confirmation", token=previous.status_token)
    if form.is_valid():
        try:
            application, _created = form.submit()
        except InvalidTransition as refusal:
            form.add_error(None, str(refusal))
        else:
            return redirect("applications:confirmation", token=application.status_token)
    return render(request, "applications/apply.html", {"form": form, "session": session, "eligibility": form_rules()})


@never_cache
def confirmation(request, token):
    application = _application(token)
    return render(request, "applications/confirmation.html", {"application": application})


# Private status page -------------------------------------------------------------------------------------


def _status_page(request, application, *, error=None, status=200):
    context = {
        "application": application,
        "events": application.events.all(),
        "can_change": can_change(application),
        "refusal": None if can_change(application) else candidate_refusal(application),
        "error": error,
    }
    return render(request, "applications/status.html", context, status=status)


@never_cache
def status(request, token):
    return _status_page(request, _application(token))


@never_cache
# Every field of the form is the candidate's: error reports show none of them.
@sensitive_post_parameters()
def edit(request, token):
    application = _application(token)
    if not can_change(application):
        return _status_page(request, application, error=candidate_refusal(application), status=409)
    posted = request.method == "POST"
    form = EditApplicationForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        application=application,
        language=page_language(),
    )
    if posted and form.is_valid():
        try:
            form.save()
        except InvalidTransition:
            # Decided while the candidate was typing.
            application.refresh_from_db()
            return _status_page(request, application, error=candidate_refusal(application), status=409)
        return redirect("applications:status", token=application.status_token)
    return render(request, "applications/edit.html", {"form": form, "application": application})


@never_cache
def withdraw(request, token):
    application = _application(token)
    if not can_change(application):
        return _status_page(request, application, error=candidate_refusal(application), status=409)
    posted = request.method == "POST"
    form = WithdrawForm(request.POST if posted else None)
    if posted and form.is_valid():
        try:
            application.withdraw()
        except InvalidTransition:
            application.refresh_from_db()
            return _status_page(request, application, error=candidate_refusal(application), status=409)
        return redirect("applications:status", token=application.status_token)
    return render(request, "applications/withdraw.html", {"form": form, "application": application})


# Status lookup -----------------------------------------------------------------------------------------

LOOKUP_DOCUMENT_GROUP = "applications.lookup.document"


@never_cache
# Every field of the form is the candidate's: error reports show none of them.
@sensitive_post_parameters()
@ratelimit(group="applications.lookup.ip", key="ip", rate=lookup_rate, method="POST", block=False)
def lookup(request):
    posted = request.method == "POST"
    if posted and (request.limited or document_lookups_spent(request, LOOKUP_DOCUMENT_GROUP)):
        return too_many_requests(request, lookup=True)
    form = StatusLookupForm(request.POST if posted else None)
    not_found = False
    if posted and form.is_valid():
        application = form.find()
        if application is not None:
            return redirect("applications:status", token=application.status_token)
        spend_document_lookup(request, LOOKUP_DOCUMENT_GROUP)
        # The same page whichever value was wrong, without echoing either.
        form, not_found = StatusLookupForm(), True
    return render(request, "applications/lookup.html", {"form": form, "not_found": not_found})
