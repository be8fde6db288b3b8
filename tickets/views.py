"""The candidate's side of the in-person requests: the requests page, one form per kind, the confirmation,
the printable in-person form, the private status page and the status lookup.

Every page that can show personal data is sent with Cache-Control: no-store (never_cache). No page says
what a password is: the portal records that a reset was done, the office tells the initial password in
person, and the candidate changes it at the first login.
"""

import segno
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_ratelimit.decorators import ratelimit

from applications.models import Candidate, ExamSession
from applications.views import (
    document_lookups_spent,
    lookup_document_key,
    lookup_rate,
    page_language,
    spend_document_lookup,
    submit_rate,
    too_many_requests,
)
from core import id_numbers

from . import documents
from .forms import FORMS, TicketLookupForm, closed_problem, deadline_text
from .models import (
    OPEN_STATUSES,
    InfoChange,
    Kind,
    PasswordReset,
    Status,
    Ticket,
    TicketClosed,
    deadline_for,
)

KIND_SLUGS = {
    Kind.PASSWORD_RESET: "password-reset",
    Kind.INFO_CHANGE: "info-change",
    Kind.CERT_DELETION: "certification-deletion",
    Kind.REFUND: "refund",
    Kind.EXEMPTION: "exemption",
}
SLUG_KINDS = {slug: kind for kind, slug in KIND_SLUGS.items()}

# Who each request is for, in the words of the FAQ.
WHO = {
    Kind.PASSWORD_RESET: _(
        "Candidates who forgot the password of the Xinjiang Accountant Service Platform (FAQ 4), or of the "
        "National Accountant Service Platform when its self-service recovery by email, mobile phone or security "
        "questions did not work (FAQ 5)."
    ),
    Kind.INFO_CHANGE: _(
        "Candidates whose name changed after the real-name authentication on the national platform (FAQ 9), and "
        "candidates who have paid and need to change the name, gender, ID number or photo of their registration "
        "(FAQ 15). Before payment, change the registration yourself online (FAQ 13)."
    ),
    Kind.CERT_DELETION: _(
        "Candidates who forgot both the password and the email of their account on the national platform (FAQ 6): "
        "the regional office deletes the real-name certification and you register again."
    ),
    Kind.REFUND: _(
        "Candidates who paid the exam fee twice (FAQ 18). Duplicate payments found by the system are handled "
        "without a request; report one yourself with the bank receipt. No other refund is possible after payment "
        "(FAQ 14)."
    ),
    Kind.EXEMPTION: _(
        "Holders of a nationally recognised Master (MPAcc) or Doctor of Professional Accounting degree: exemption "
        "from Financial Management (财务管理) (FAQ 19)."
    ),
}

AFTER_PASSWORD_RESET = _(
    "The office resets the password after checking your identity. For the Xinjiang platform it tells you the "
    "initial password in person; for the national platform the platform sends it to your verified email. Change "
    "it at your first login. This portal never shows, stores or sends a password."
)

IDENTITY_DOCUMENT = _("Your valid identity document (original)")
CHSI_RECORD = _(
    "学信网 electronic registration record of the degree (教育部学历证书电子注册备案表), for graduates of 2002 or later"
)


def materials(kind, ticket=None):
    """What the candidate brings to the office; for a ticket, only what applies to it."""
    if kind == Kind.PASSWORD_RESET:
        return [IDENTITY_DOCUMENT]
    if kind == Kind.INFO_CHANGE:
        items = [IDENTITY_DOCUMENT]
        if ticket is None or set(ticket.detail.changed_fields()) - {"photo"}:
            items.append(
                _(
                    "Proof of the change, original and copy (for example the household register page or the "
                    "certificate that shows the new name or number)"
                )
            )
        return items
    if kind == Kind.CERT_DELETION:
        return [
            IDENTITY_DOCUMENT,
            _("A written statement asking for the deletion of your real-name certification, signed by you"),
        ]
    if kind == Kind.REFUND:
        return [IDENTITY_DOCUMENT, _("The bank card receipts (银行卡回单) of both payments")]
    items = [
        _("Identity document (ID card): original and copy"),
        _("Degree certificate (MPAcc or DPAcc): original and copy"),
    ]
    if ticket is None or ticket.detail.needs_chsi_record:
        items.append(CHSI_RECORD)
    items.append(_("Exemption application form (会计专业技术中级资格考试免试科目申请表)"))
    return items


def kind_overview(kind, session, now=None):
    """What the requests page and the form say about a kind: who, deadline, materials, whether it is closed."""
    now = now or timezone.now()
    deadlines, closed = [], closed_problem(kind, session, {}, now=now)
    if kind == Kind.EXEMPTION and session is not None:
        deadlines.append(
            _("In person at the office until %(deadline)s (Beijing time).")
            % {"deadline": deadline_text(session.exemption_deadline)}
        )
    elif kind == Kind.INFO_CHANGE:
        deadlines.append(_("Platform identity (FAQ 9): no deadline."))
        if session is not None:
            registration = deadline_for(kind, session, {"scope": InfoChange.Scope.REGISTRATION})
            deadlines.append(
                _("Registration after payment (FAQ 15): in person until %(deadline)s (Beijing time).")
                % {"deadline": deadline_text(registration)}
            )
    elif kind in (Kind.PASSWORD_RESET, Kind.CERT_DELETION):
        deadlines.append(_("No deadline."))
    elif kind == Kind.REFUND and session is not None:
        deadlines.append(_("No deadline. It concerns the %(session)s.") % {"session": session})
    return {
        "kind": kind,
        "label": kind.label,
        "slug": KIND_SLUGS[kind],
        "who": WHO[kind],
        "deadlines": deadlines,
        "materials": materials(kind),
        "closed": closed,
        "after": AFTER_PASSWORD_RESET if kind == Kind.PASSWORD_RESET else None,
        "form_template": documents.template_for(kind),
    }


def requests_page(request):
    session = ExamSession.objects.current()
    overviews = [kind_overview(kind, session) for kind in Kind]
    return render(request, "tickets/index.html", {"session": session, "kinds": overviews})


# The forms ---------------------------------------------------------------------------------------------


def _kind(slug):
    try:
        return SLUG_KINDS[slug]
    except KeyError:
        raise Http404 from None


@never_cache
# Every field of the form is the candidate's: error reports show none of them.
@sensitive_post_parameters()
@ratelimit(group="tickets.submit.ip", key="ip", rate=submit_rate, method="POST", block=False)
@ratelimit(group="tickets.submit.document", key=lookup_document_key, rate=submit_rate, method="POST", block=False)
def new_request(request, kind_slug):
    kind = _kind(kind_slug)
    if request.method == "POST" and request.limited:
        return too_many_requests(request)
    session = ExamSession.objects.current()
    overview = kind_overview(kind, session)
    context = {"overview": overview, "session": session}
    if request.method != "POST":
        if overview["closed"]:
            # Closed for everyone (past the deadline, or no session): the refusal instead of the form.
            return render(request, "tickets/closed.html", context)
        context["form"] = FORMS[kind](session=session, language=page_language())
        context["registration_closed"] = _registration_change_closed(kind, session)
        return render(request, "tickets/new.html", context)

    form = FORMS[kind](request.POST, request.FILES, session=session, language=page_language())
    previous = form.previous_submission()
    if previous is not None:
        return redirect("tickets:confirmation", token=previous.status_token)
    if form.is_valid():
        try:
            ticket, _created = form.submit()
        except TicketClosed as refusal:
            form.add_error(None, str(refusal))
        else:
            return redirect("tickets:confirmation", token=ticket.status_token)
    context.update(form=form, duplicate=form.duplicate, registration_closed=_registration_change_closed(kind, session))
    return render(request, "tickets/new.html", context)


def _registration_change_closed(kind, session):
    if kind != Kind.INFO_CHANGE or session is None:
        return None
    return closed_problem(kind, session, {"scope": InfoChange.Scope.REGISTRATION})


# After submitting: confirmation, status, printable form ---------------------------------------------------


def _ticket(token):
    queryset = Ticket.objects.select_related("office", "candidate", "session")
    return get_object_or_404(queryset, status_token=token)


def _ticket_context(ticket):
    return {
        "ticket": ticket,
        "kind_slug": KIND_SLUGS[ticket.kind],
        "deadline": deadline_text(ticket.deadline) if ticket.deadline else None,
        "is_open": ticket.status in OPEN_STATUSES,
        "materials": materials(ticket.kind, ticket),
        "details": request_details(ticket),
        "after": AFTER_PASSWORD_RESET if ticket.kind == Kind.PASSWORD_RESET else None,
        "form_template": documents.template_for(ticket.kind),
        "form_url": reverse("tickets:ticket-form", args=[ticket.status_token]),
    }


@never_cache
def confirmation(request, token):
    return render(request, "tickets/confirmation.html", _ticket_context(_ticket(token)))


@never_cache
def status(request, token):
    ticket = _ticket(token)
    context = _ticket_context(ticket)
    # Dates and statuses only: no staff names, no notes (assignments and steps inside a status are staff's).
    context["events"] = [event for event in ticket.events.all() if event.from_status != event.to_status]
    if ticket.status in (Status.REJECTED, Status.EXPIRED) and context["events"]:
        # The reason is the candidate's: the status email carries it too.
        context["closing_note"] = context["events"][-1].note
    context["messages_to_candidate"] = ticket.messages.filter(visible_to_candidate=True).order_by("at", "pk")
    return render(request, "tickets/status.html", context)


@never_cache
def print_form(request, token):
    ticket = _ticket(token)
    context = _ticket_context(ticket)
    # The QR code carries the reference only, never the private link.
    qr = segno.make(ticket.reference, error="m")
    context["qr_svg"] = mark_safe(qr.svg_inline(scale=4, svgclass="qr-code", title=ticket.reference, omitsize=True))  # noqa: S308
    return render(request, "tickets/print.html", context)


# The downloadable forms -------------------------------------------------------------------------------


def form_download(request, kind_slug):
    """The kind's form, filled with the current session's dates; in English when asked for and translated."""
    template = documents.template_for(_kind(kind_slug))
    if template is None:
        raise Http404
    return documents.download(request, template, _download_language(request))


@never_cache
def ticket_form_download(request, token):
    """The form of a request, its fields filled with what the candidate sent (the private link's page only)."""
    ticket = _ticket(token)
    template = documents.template_for(ticket.kind)
    if template is None:
        raise Http404
    return documents.download(request, template, _download_language(request), session=ticket.session, ticket=ticket)


def _download_language(request):
    """?language= chooses (an English reader needs the Chinese form too); else the page's language."""
    asked = request.GET.get("language")
    return asked if asked in ("zh-hans", "en") else get_language()


def _gender(value):
    return Candidate.Gender(value).label if value else "—"


def request_details(ticket):
    """[(label, value)] of what the candidate asked for; document numbers masked."""
    detail, kind = ticket.detail, ticket.kind
    if kind == Kind.PASSWORD_RESET:
        rows = [(_("Platform"), detail.get_platform_display())]
        if detail.platform == PasswordReset.Platform.NATIONAL:
            rows.append((_("Self-service recovery tried"), _("Yes") if detail.self_service_tried else _("No")))
        return rows
    if kind == Kind.INFO_CHANGE:
        return _info_change_details(ticket, detail)
    if kind == Kind.CERT_DELETION:
        rows = [(_("Written statement"), detail.statement)]
        if detail.statement_scan:
            rows.append((_("Signed statement, scanned"), _("Attached")))
        return rows
    if kind == Kind.REFUND:
        return [
            (_("Payment codes"), detail.payment_codes or "—"),
            (_("Amounts paid"), detail.amounts or "—"),
            (_("Payment dates"), detail.paid_at or "—"),
            (_("Bank receipt"), detail.receipt_name or (_("Attached") if detail.receipt else "—")),
        ]
    return [
        (_("Degree"), detail.get_degree_display()),
        (_("Degree certificate number"), detail.certificate_number),
        (_("School"), detail.school),
        (_("Graduation date"), detail.graduation_date.isoformat()),
    ]


def _info_change_details(ticket, detail):
    rows = [(_("What to change"), detail.get_scope_display())]
    if detail.application_id:
        rows.append((_("Application"), detail.application.reference))
    changed = detail.changed_fields()
    arrow = "{} → {}"
    if "name" in changed:
        rows.append((_("Name"), format_html(arrow, detail.old_name or "—", detail.new_name)))
    if "gender" in changed:
        rows.append((_("Gender"), format_html(arrow, _gender(detail.old_gender), _gender(detail.new_gender))))
    if "document_number" in changed:
        document_type = ticket.candidate.document_type
        rows.append(
            (
                _("Document number"),
                format_html(
                    arrow,
                    id_numbers.mask(document_type, detail.old_document_number),
                    id_numbers.mask(document_type, detail.new_document_number),
                ),
            )
        )
    if "photo" in changed:
        rows.append((_("Photo"), _("New photo uploaded")))
    if detail.proof:
        rows.append((_("Proof of the change"), detail.proof_name or _("Attached")))
    return rows


# Status lookup -----------------------------------------------------------------------------------------

LOOKUP_DOCUMENT_GROUP = "tickets.lookup.document"


@never_cache
# Every field of the form is the candidate's: error reports show none of them.
@sensitive_post_parameters()
@ratelimit(group="tickets.lookup.ip", key="ip", rate=lookup_rate, method="POST", block=False)
def lookup(request):
    posted = request.method == "POST"
    # Only failed lookups count against the document number (applications.views.document_lookups_spent).
    if posted and (request.limited or document_lookups_spent(request, LOOKUP_DOCUMENT_GROUP)):
        return too_many_requests(request, lookup=True)
    form = TicketLookupForm(request.POST if posted else None)
    not_found = False
    if posted and form.is_valid():
        ticket = form.find()
        if ticket is not None:
            return redirect("tickets:status", token=ticket.status_token)
        spend_document_lookup(request, LOOKUP_DOCUMENT_GROUP)
        # The same page whichever value was wrong, without echoing either.
        form, not_found = TicketLookupForm(), True
    return render(request, "tickets/lookup.html", {"form": form, "not_found": not_found})
