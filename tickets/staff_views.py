"""Staff views of the request admin: the step forms, the file download and the exemption summary.

Every view gets its ticket through the ModelAdmin's scoped `get_object` (another office's ticket is a
404) and calls the model's own method, which checks the status, writes the history and queues the
email; the views translate the outcome into admin messages. A step runs in one transaction on the
locked row: when the model refuses (TicketClosed, ValidationError, PermissionDenied) nothing is written.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.formats.base_formats import XLSX

from applications.models import Application, ExamSession
from applications.models import Status as ApplicationStatus
from core.admin_actions import action_page
from core.transitions import Act
from core.uploads import attachment
from offices.models import REGIONAL_OFFICE_CODE, Role, User

from .models import (
    ESCALATING_KINDS,
    OPEN_STATUSES,
    WORKING_STATUSES,
    CannedReply,
    Exemption,
    InfoChange,
    Kind,
    Status,
    Ticket,
    TicketClosed,
    TicketEvent,
)
from .resources import ExemptionSummaryResource
from .workflow import TICKETS

REGIONAL_STEP = "tickets.regional_step"
WORKING = WORKING_STATUSES

# Upload field → (the kind whose detail holds it, the field with the name the candidate gave the file).
FILE_FIELDS = {
    "proof": (Kind.INFO_CHANGE, "proof_name"),
    "new_photo": (Kind.INFO_CHANGE, None),
    "statement_scan": (Kind.CERT_DELETION, None),
    "receipt": (Kind.REFUND, "receipt_name"),
}
EXEMPTION_MATERIALS = ("id_card_seen", "degree_certificate_seen", "chsi_record_seen", "application_form_seen")


def can_assign_others(user):
    """Reviewers take requests for themselves; managers and regional staff also hand them to others."""
    return user.has_perm("tickets.change_ticket") and (user.sees_all_offices or user.role == Role.MANAGER)


# Forms ------------------------------------------------------------------------------------------------


class StepForm(forms.Form):
    """A step's form; it knows the ticket and the staff member (for choices that depend on them)."""

    def __init__(self, *args, ticket, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.ticket, self.user = ticket, user


class ConfirmForm(StepForm):
    pass


class NoteForm(StepForm):
    note = forms.CharField(
        label=_("Note (kept in the history)"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class RequiredNoteForm(StepForm):
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 4}))

    def clean_note(self):
        note = self.cleaned_data["note"].strip()
        if not note:
            raise ValidationError(_("This note is required."))
        return note


class EscalateForm(RequiredNoteForm):
    note = forms.CharField(
        label=_("What the regional office needs to know"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("E.g. identity verified with the original ID card; written statement received."),
    )


class RejectForm(RequiredNoteForm):
    note = forms.CharField(
        label=_("Why the request is rejected"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sent to the candidate by email and shown on their status page."),
    )


class VerifyMethod(models.TextChoices):
    """The standard ways the counter checks identity; “other” asks for a few words."""

    ID_CARD = "id_card", _("Resident ID card original checked")
    ID_CARD_READER = "id_card_reader", _("Resident ID card read with the card reader")
    PASSPORT = "passport", _("Passport original checked")
    PERMIT = "permit", _("Travel permit or residence permit (Hong Kong, Macao, Taiwan) original checked")
    SCREENED_LIST = "screened_list", _("On the system-screened duplicate-payment list (no visit needed)")
    OTHER = "other", _("Other (say how)")


class VerifyForm(StepForm):
    method = forms.ChoiceField(
        label=_("How the identity was verified"),
        choices=VerifyMethod.choices,
        initial=VerifyMethod.ID_CARD,
        widget=forms.RadioSelect,
    )
    other = forms.CharField(label=_("Other: how"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        method = self.fields["method"]
        if self.ticket.is_screened_refund:
            method.initial = VerifyMethod.SCREENED_LIST  # the candidate filed nothing and does not come
        else:
            method.choices = [choice for choice in method.choices if choice[0] != VerifyMethod.SCREENED_LIST]

    def clean(self):
        data = super().clean()
        method = data.get("method")
        if method == VerifyMethod.OTHER:
            other = (data.get("other") or "").strip()
            if not other:
                self.add_error("other", _("Say how the identity was verified."))
            data["how"] = other
        elif method:
            data["how"] = str(VerifyMethod(method).label)
        return data


class VerifyAndNoteForm(VerifyForm):
    note = NoteForm.base_fields["note"]


class VerifyAndResetForm(VerifyAndNoteForm):
    reset_done = forms.BooleanField(
        label=_("The password was reset on the platform"),
        help_text=_("Tick after resetting it; never type, write down or send the password."),
    )


class ResetAndCompleteForm(NoteForm):
    reset_done = VerifyAndResetForm.base_fields["reset_done"]


class VerifyAndEscalateForm(VerifyForm):
    note = EscalateForm.base_fields["note"]
    clean_note = RequiredNoteForm.clean_note


class AssignForm(StepForm):
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        offices = [self.ticket.office_id]
        if self.user.sees_all_offices:
            offices.append(REGIONAL_OFFICE_CODE)
        self.fields["assignee"].queryset = User.objects.filter(
            office__in=offices, is_active=True, is_staff=True
        ).order_by("office", "username")


class MessageForm(StepForm):
    canned = forms.ModelChoiceField(
        label=_("Canned reply"),
        queryset=CannedReply.objects.none(),
        required=False,
        help_text=_("“Fill in” puts its text, in the candidate's language, into the message below to edit."),
    )
    body = forms.CharField(
        label=_("Message to the candidate"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=_("Emailed to the candidate and shown on their status page."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["canned"].queryset = CannedReply.objects.filter(Q(kind="") | Q(kind=self.ticket.kind))

    def clean(self):
        data = super().clean()
        canned = data.get("canned")
        if not (data.get("body") or "").strip() and canned:
            data["body"] = canned.body_for(self.ticket.language)
        if not (data.get("body") or "").strip():
            self.add_error("body", _("Write the message or choose a canned reply."))
        return data

    def filled(self):
        """The form again, its message filled with the chosen canned reply (nothing is sent)."""
        self.is_valid()  # reads the chosen reply; a missing message is no error here
        canned = self.cleaned_data.get("canned")
        body = canned.body_for(self.ticket.language) if canned else self.data.get("body", "")
        initial = {"canned": canned.pk if canned else None, "body": body}
        return type(self)(ticket=self.ticket, user=self.user, initial=initial)


class InternalNoteForm(StepForm):
    body = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Seen by staff only; the candidate is not told."),
    )


class MaterialsForm(StepForm):
    """One box per material; the 学信网 record only for graduates of 2002 or later (FAQ 19)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        exemption = self.ticket.exemption
        for name in EXEMPTION_MATERIALS:
            if name == "chsi_record_seen" and not exemption.needs_chsi_record:
                continue
            self.fields[name] = forms.BooleanField(
                label=Exemption._meta.get_field(name).verbose_name,
                required=False,
                initial=getattr(exemption, name),
            )


class LinkApplicationForm(StepForm):
    application = forms.ModelChoiceField(
        label=_("Paid application whose registration changes"), queryset=Application.objects.none()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        applications = Application.objects.for_user(self.user).filter(
            candidate_id=self.ticket.candidate_id, status=ApplicationStatus.PAID
        )
        if self.ticket.session_id:
            applications = applications.filter(session_id=self.ticket.session_id)
        self.fields["application"].queryset = applications.select_related("session")


class RefundForm(StepForm):
    amount = forms.DecimalField(label=_("Refund amount"), max_digits=9, decimal_places=2, min_value=0.01)
    date = forms.DateField(label=_("Refund date"), widget=forms.DateInput(attrs={"type": "date"}))
    voucher_number = forms.CharField(label=_("Voucher number"), max_length=50)


# Steps ------------------------------------------------------------------------------------------------


def _never(ticket):
    return False


def _always(ticket, user):
    return True


def _anyone(user):
    return True


@dataclass(frozen=True)
class Step:
    """A step of the counter. A step that changes the status names its transition: it is offered exactly when the
    workflow (tickets/workflow.py) allows it for this user, and the engine checks it again on the locked row. The
    other steps happen inside a status (`statuses`)."""

    slug: str
    label: Any
    form_class: type[StepForm]
    done: Any
    run: Callable  # (ticket, user, cleaned_data) -> None; raises when it refuses
    transition: str | None = None
    statuses: tuple = ()  # for steps inside a status: the statuses they are offered in
    kinds: frozenset | None = None  # None: every kind
    permission: str = "tickets.process_ticket"
    needs_regional: Callable = _never  # ticket -> whether only the regional office may do it
    applies: Callable = _always  # (ticket, user) -> whether it makes sense now
    allows: Callable = _anyone  # user -> whether the user's role may do it at all
    intro: Any = ""

    def statuses_for(self, ticket):
        return TICKETS.sources(self.transition) if self.transition else self.statuses

    def permitted(self, ticket, user):
        if self.transition:
            return not TICKETS.forbids(self.transition, ticket, user)
        if not (user.has_perm(self.permission) and self.allows(user)):
            return False
        return not self.needs_regional(ticket) or user.has_perm(REGIONAL_STEP)

    def offered(self, ticket, user):
        if self.kinds is not None and ticket.kind not in self.kinds:
            return False
        if self.transition:
            return TICKETS.offers(self.transition, ticket, user) and self.applies(ticket, user)
        return ticket.status in self.statuses and self.permitted(ticket, user) and self.applies(ticket, user)

    def unavailable_message(self, ticket, user=None):
        if self.kinds is not None and ticket.kind not in self.kinds:
            return _("This step does not apply to a request of this kind.")
        if self.transition:
            refusal = TICKETS.refusal(self.transition, ticket, Act(by=user), offering=True)
            if refusal:
                return refusal
        elif ticket.status not in self.statuses:
            return _("%(ref)s is “%(status)s”: this step is not possible now.") % {
                "ref": ticket.reference,
                "status": ticket.get_status_display(),
            }
        return _("This step is not needed for %(ref)s now.") % {"ref": ticket.reference}


def _not_mine(ticket, user):
    return ticket.assigned_to_id != user.pk


def _registration_scope(ticket, user):
    return ticket.info_change.scope == InfoChange.Scope.REGISTRATION


def _regional_only(ticket):
    return True


def _verify_and_start(ticket, user, data):
    ticket.verify(user, data["how"])
    ticket.start(user, note=data["note"])


def _verify_and_escalate(ticket, user, data):
    ticket.verify(user, data["how"])
    ticket.escalate(user, data["note"])


def _reset_and_complete(ticket, user, data):
    ticket.password_reset.record_reset(user)
    ticket.complete(user, note=data["note"])


def _verify_reset_and_complete(ticket, user, data):
    ticket.verify(user, data["how"])
    _reset_and_complete(ticket, user, data)


RESET_INTRO = _(
    "Reset the password on the platform first. Never type, write down or send the password: the "
    "candidate is told to change it at the first login."
)
# Steps staff do in one sitting: several transitions of the engine, one after the other in the step's transaction
# on the locked row (step_view); the first transition decides whether the step is offered, the engine checks each.
COMBINED_STEPS = (
    Step(
        "verify-reset-complete",
        _("Verify identity, record the reset and complete"),
        VerifyAndResetForm,
        _("%(ref)s: identity verified, password reset recorded, completed; the candidate is told by email."),
        _verify_reset_and_complete,
        transition="verify",
        kinds=frozenset({Kind.PASSWORD_RESET}),
        intro=RESET_INTRO,
    ),
    Step(
        "verify-start",
        _("Verify identity and start processing"),
        VerifyAndNoteForm,
        _("Identity verified for %(ref)s; it is in progress and assigned to you."),
        _verify_and_start,
        transition="verify",
        kinds=frozenset(set(Kind) - ESCALATING_KINDS),
        intro=_("The candidate is at the counter: check the original identity document."),
    ),
    Step(
        "verify-escalate",
        _("Verify identity and escalate to the regional office"),
        VerifyAndEscalateForm,
        _("Identity verified for %(ref)s; sent to the regional office."),
        _verify_and_escalate,
        transition="verify",
        kinds=frozenset(ESCALATING_KINDS),
        intro=_("The candidate is at the counter: check the original identity document."),
    ),
    Step(
        "reset-complete",
        _("Record the reset and complete"),
        ResetAndCompleteForm,
        _("%(ref)s: password reset recorded, completed; the candidate is told by email."),
        _reset_and_complete,
        transition="complete",
        kinds=frozenset({Kind.PASSWORD_RESET}),
        applies=lambda ticket, user: not ticket.password_reset.reset_done_at,
        intro=RESET_INTRO,
    ),
)

STEPS = {
    step.slug: step
    for step in (
        *COMBINED_STEPS,
        Step(
            "verify",
            _("Verify identity"),
            VerifyForm,
            _("Identity verified for %(ref)s."),
            lambda ticket, user, data: ticket.verify(user, data["how"]),
            transition="verify",
            intro=_("The candidate is at the counter: check the original identity document."),
        ),
        Step(
            "start",
            _("Start processing"),
            NoteForm,
            _("%(ref)s is in progress and assigned to you."),
            lambda ticket, user, data: ticket.start(user, note=data["note"]),
            transition="start",
        ),
        Step(
            "escalate",
            _("Escalate to the regional office"),
            EscalateForm,
            _("%(ref)s sent to the regional office."),
            lambda ticket, user, data: ticket.escalate(user, data["note"]),
            transition="escalate",
            kinds=frozenset(ESCALATING_KINDS),
        ),
        Step(
            "record-reset",
            _("Record that the reset was done"),
            ConfirmForm,
            _("Password reset recorded for %(ref)s."),
            lambda ticket, user, data: ticket.password_reset.record_reset(user),
            statuses=WORKING,
            kinds=frozenset({Kind.PASSWORD_RESET}),
            applies=lambda ticket, user: not ticket.password_reset.reset_done_at,
            intro=RESET_INTRO,
        ),
        Step(
            "materials",
            _("Materials seen in original"),
            MaterialsForm,
            _("Materials recorded for %(ref)s."),
            lambda ticket, user, data: ticket.exemption.record_materials(user, data),
            statuses=WORKING,
            kinds=frozenset({Kind.EXEMPTION}),
            intro=_("Tick each material seen in original; the 学信网 record only for graduates of 2002 or later."),
        ),
        Step(
            "link-application",
            _("Link the paid application"),
            LinkApplicationForm,
            _("Application linked to %(ref)s."),
            lambda ticket, user, data: ticket.info_change.link_application(user, data["application"]),
            statuses=WORKING,
            kinds=frozenset({Kind.INFO_CHANGE}),
            applies=_registration_scope,
        ),
        Step(
            "mark-deleted",
            _("Mark the certification deleted"),
            ConfirmForm,
            _("Certification deletion recorded for %(ref)s."),
            lambda ticket, user, data: ticket.cert_deletion.mark_deleted(user),
            statuses=(Status.ESCALATED,),
            kinds=frozenset({Kind.CERT_DELETION}),
            needs_regional=_regional_only,
            applies=lambda ticket, user: not ticket.cert_deletion.deleted_at,
            intro=_("Delete the certification on the national platform first, then record it here."),
        ),
        Step(
            "nontax-check",
            _("Record the non-tax system check"),
            ConfirmForm,
            _("Non-tax system check recorded for %(ref)s."),
            lambda ticket, user, data: ticket.refund.record_nontax_check(user),
            statuses=(Status.ESCALATED,),
            kinds=frozenset({Kind.REFUND}),
            needs_regional=_regional_only,
            applies=lambda ticket, user: not ticket.refund.nontax_checked_at,
            intro=_("Confirm that the non-tax system shows the duplicate payment."),
        ),
        Step(
            "record-refund",
            _("Record the refund"),
            RefundForm,
            _("Refund recorded for %(ref)s."),
            lambda ticket, user, data: ticket.refund.record_refund(
                user, data["amount"], data["date"], data["voucher_number"]
            ),
            statuses=(Status.ESCALATED,),
            kinds=frozenset({Kind.REFUND}),
            needs_regional=_regional_only,
        ),
        Step(
            "complete",
            _("Complete"),
            NoteForm,
            _("%(ref)s completed; the candidate is told by email."),
            lambda ticket, user, data: ticket.complete(user, note=data["note"]),
            transition="complete",
        ),
        Step(
            "reject",
            _("Reject"),
            RejectForm,
            _("%(ref)s rejected; the candidate is told by email."),
            lambda ticket, user, data: ticket.reject(user, data["note"]),
            transition="reject",
        ),
        Step(
            "take",
            _("Take (assign to me)"),
            ConfirmForm,
            _("%(ref)s is assigned to you."),
            lambda ticket, user, data: ticket.assign(user, by=user),
            statuses=OPEN_STATUSES,
            permission="tickets.change_ticket",
            applies=_not_mine,
        ),
        Step(
            "assign",
            _("Assign"),
            AssignForm,
            _("%(ref)s assigned."),
            lambda ticket, user, data: ticket.assign(data["assignee"], by=user),
            statuses=OPEN_STATUSES,
            permission="tickets.change_ticket",
            allows=can_assign_others,
        ),
        Step(
            "message",
            _("Message the candidate"),
            MessageForm,
            _("Message sent to the candidate of %(ref)s."),
            lambda ticket, user, data: ticket.post_message(data["body"], by=user, visible_to_candidate=True),
            statuses=tuple(Status),
        ),
        Step(
            "note",
            _("Add an internal note"),
            InternalNoteForm,
            _("Internal note added to %(ref)s."),
            lambda ticket, user, data: ticket.post_message(data["body"], by=user, visible_to_candidate=False),
            statuses=tuple(Status),
        ),
    )
}


def offered_steps(ticket, user):
    return [step for step in STEPS.values() if step.offered(ticket, user)]


def change_url(model_admin, ticket):
    opts = model_admin.opts
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_change", args=[ticket.pk], current_app=model_admin.admin_site.name
    )


def step_url(model_admin, ticket, step):
    opts = model_admin.opts
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_step",
        args=[ticket.pk, step.slug],
        current_app=model_admin.admin_site.name,
    )


def step_view(model_admin, request, object_id, slug):
    step = STEPS.get(slug)
    if step is None:
        raise Http404
    ticket = model_admin.get_object(request, unquote(object_id))  # another office's: 404
    if not step.permitted(ticket, request.user):
        raise PermissionDenied
    back = HttpResponseRedirect(change_url(model_admin, ticket))
    if not step.offered(ticket, request.user):
        messages.error(request, step.unavailable_message(ticket, request.user))
        return back

    form = step.form_class(request.POST if request.method == "POST" else None, ticket=ticket, user=request.user)
    if form.is_bound and "_fill" in request.POST and hasattr(form, "filled"):
        form = form.filled()

    def run(data):
        # The row is locked for the whole step; a second click or a colleague waits, then sees the outcome.
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if not step.offered(locked, request.user):
            raise TicketClosed(step.unavailable_message(locked, request.user))
        step.run(locked, request.user, data)

    context = {
        "step": step,
        "completion_problem": ticket.detail.completion_problem() if step.slug == "complete" else None,
        "change_url": change_url(model_admin, ticket),
    }
    return action_page(
        model_admin, request, ticket, step, form, run=run, back=back, template="admin/tickets/ticket/step.html",
        context=context,
    )  # fmt: skip


# Files ------------------------------------------------------------------------------------------------


def download_name(ticket, field):
    """The candidate's file name with the extension of what was actually stored (checked by content)."""
    detail = ticket.detail
    stored = getattr(detail, field).name
    extension = os.path.splitext(stored)[1].lower()
    name_field = FILE_FIELDS[field][1]
    given = os.path.splitext(os.path.basename(getattr(detail, name_field) if name_field else ""))[0].strip()
    return f"{given or ticket.reference + '-' + field}{extension}"


def file_url(ticket, field):
    return reverse("admin:tickets_ticket_file", args=[ticket.pk, field])


def download_view(model_admin, request, object_id, field):
    """An uploaded file, only for staff who may see the ticket; never through a public URL."""
    if field not in FILE_FIELDS:
        raise Http404
    ticket = model_admin.get_object(request, unquote(object_id))  # another office's: 404
    if not model_admin.has_view_permission(request, ticket):
        raise PermissionDenied
    if ticket.kind != FILE_FIELDS[field][0]:
        raise Http404
    stored = getattr(ticket.detail, field)
    if not stored:
        raise Http404
    return attachment(stored, download_name(ticket, field))


# Exemption summary ------------------------------------------------------------------------------------


def exemption_summary_queryset(user, session):
    """Completed exemptions of the session in the user's scope, per office, with who decided them."""
    decided_by = (
        TicketEvent.objects.filter(ticket=OuterRef("pk"), to_status=Status.COMPLETED)
        .order_by("-at", "-pk")
        .values("by__username")[:1]
    )
    return (
        Ticket.objects.for_user(user)
        .filter(kind=Kind.EXEMPTION, status=Status.COMPLETED, session=session)
        .select_related("office", "candidate", "exemption")
        .annotate(decided_by_name=Subquery(decided_by))
        .order_by("office__code", "closed_at", "pk")
    )


def exemption_summary_view(model_admin, request):
    """The xlsx summary of approved exemptions (FAQ 19): after registration closes only, scoped by office."""
    if not request.user.has_perm("tickets.export_exemption"):
        raise PermissionDenied
    chosen = request.GET.get("session", "")
    session = ExamSession.objects.filter(pk=chosen).first() if chosen.isdigit() else ExamSession.objects.current()
    changelist = reverse("admin:tickets_ticket_changelist", current_app=model_admin.admin_site.name)
    if session is None:
        messages.error(request, _("There is no current exam session."))
        return HttpResponseRedirect(changelist)
    if timezone.now() < session.registration_closes:
        closes = timezone.localtime(session.registration_closes).strftime("%Y-%m-%d %H:%M")
        messages.error(
            request,
            _("The exemption summary of %(session)s is available after registration closes (%(closes)s, Beijing time).")
            % {"session": session, "closes": closes},
        )
        return HttpResponseRedirect(changelist)
    dataset = ExemptionSummaryResource().export(queryset=exemption_summary_queryset(request.user, session))
    dataset.title = str(session.year)
    scope = "all" if request.user.sees_all_offices else request.user.office_id
    response = HttpResponse(
        XLSX().export_data(dataset),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="exemptions-{session.year}-{scope}.xlsx"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
