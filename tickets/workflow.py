"""Every status change of a request (ticket), as one table of transitions run by the engine (core/transitions.py).

The counter's steps (tickets/staff_views.py STEPS), the model's methods and the expiry sweep all call
TICKETS.run / run_one: the status table (models.TRANSITIONS), the kind and regional rules and the in-person
deadline are checked in one place, on the locked row, and the steps are offered from the same checks.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.templatetags.portal import moment
from core.transitions import Guard, Transition
from notifications.models import OutboxMessage, render_email
from notifications.workflow import OutboxWorkflow
from offices.models import Office

from .models import ESCALATING_KINDS, OPEN_STATUSES, TRANSITIONS, Status, Ticket, TicketEvent

PROCESS = "tickets.process_ticket"
REGIONAL_STEP = "tickets.regional_step"
STATUS_CHANGE = "tickets/email/status_change"


# Preconditions -------------------------------------------------------------------------------------------------


def before_deadline(ticket, act):
    if ticket.deadline and act.now >= ticket.deadline:
        return _("The in-person deadline of this request has passed.")
    return None


def how_verified_said(ticket, act):
    return None if act.data.get("how", "").strip() else _("Say how the identity was verified.")


def escalating_kind(ticket, act):
    return None if ticket.kind in ESCALATING_KINDS else _("This kind of request is finished by the local office.")


def escalation_note_written(ticket, act):
    return None if act.note.strip() else _("Write what the regional office needs to know.")


def rejection_note_written(ticket, act):
    return None if act.note.strip() else _("Say why the request is rejected.")


def _regional(act):
    return act.by is not None and act.by.has_perm(REGIONAL_STEP)


def completed_by_the_regional_office(ticket, act):
    """Certification deletions and refunds are completed by the regional office ..."""
    if ticket.kind in ESCALATING_KINDS and act.actor == "staff" and not _regional(act):
        return _("Only the regional office can perform this step.")
    return None


def completed_after_escalation(ticket, act):
    """... after escalation."""
    if ticket.kind in ESCALATING_KINDS and ticket.status != Status.ESCALATED:
        return _("This request is completed by the regional office after escalation.")
    return None


def escalated_ones_by_the_regional_office(ticket, act):
    """A request escalated while a local page showed it as verified is the regional office's."""
    if ticket.status == Status.ESCALATED and act.actor == "staff" and not _regional(act):
        return _("%(ref)s is “%(status)s”; it cannot become “%(to)s”.") % {
            "ref": ticket.reference,
            "status": ticket.get_status_display(),
            "to": Status.REJECTED.label,
        }
    return None


def kind_step_recorded(ticket, act):
    """The kind's own completion step (reset done, materials seen, refund recorded, ...)."""
    return ticket.detail.completion_problem()


# Fields each transition sets ------------------------------------------------------------------------------------


def verified(ticket, act):
    return {"verified_at": act.now, "identity_verified_how": act.data["how"].strip()}


def closed(ticket, act):
    return {"closed_at": act.now}


# Rescheduling (portal/reschedule.py): act.data["deadlines"] = {pk: new deadline}, act.data["because"] = why.


def moved_deadline(ticket, act):
    return {"deadline": act.data["deadlines"][ticket.pk]}


def reopened(ticket, act):
    return {"deadline": act.data["deadlines"][ticket.pk], "closed_at": None}


def deadline_moved_note(ticket, act):
    new = act.data["deadlines"][ticket.pk]
    return _("Deadline moved from %(old)s to %(new)s because %(because)s") % {
        "old": _local(ticket._before["deadline"]),
        "new": _local(new),
        "because": act.data["because"],
    }


def moved_due(ticket, act):
    """The new due time; overdue again later, the request is escalated again (a claim for a due time still ahead
    is cleared)."""
    new = act.data["dues"][ticket.pk]
    return {"due_at": new, "sla_escalated_at": None if new > act.now else ticket.sla_escalated_at}


def due_moved_note(ticket, act):
    return _("Due time moved from %(old)s to %(new)s because %(because)s") % {
        "old": _local(ticket._before["due_at"]),
        "new": _local(act.data["dues"][ticket.pk]),
        "because": act.data["because"],
    }


def by_a_reschedule_only(ticket, act):
    if act.actor != "system":
        return _("Only a reschedule after a calendar change does this.")
    return None


def _local(value):
    return moment(value) or "-"


def by_the_system_only(ticket, act):
    if act.actor != "system":
        return _("Only a reschedule of the session's dates reopens a request.")
    return None


def new_deadline_ahead(ticket, act):
    new = act.data["deadlines"][ticket.pk]
    if new is None or new <= act.now:
        return _("%(ref)s: the new deadline has passed too.") % {"ref": ticket.reference}
    return None


def no_newer_open_request(ticket, act):
    """The candidate filed the same request again after this one expired: that one goes on, this one stays."""
    newer = Ticket.objects.filter(
        candidate_id=ticket.candidate_id, kind=ticket.kind, scope_key=ticket.scope_key, status__in=OPEN_STATUSES
    ).exclude(pk=ticket.pk)
    if newer.exists():
        return _("%(ref)s: a newer open request of the same kind exists.") % {"ref": ticket.reference}
    return None


def on_completed(tickets, act):
    for ticket in tickets:
        ticket.detail.on_completed(act.by, act.now)


class TicketWorkflow(OutboxWorkflow):
    model = Ticket
    event_model = TicketEvent
    event_fk = "ticket"
    table = TRANSITIONS
    select_related = ("candidate", "office")
    transitions = {
        transition.name: transition
        for transition in (
            Transition(
                "verify",
                gettext_lazy("Verify identity"),
                Status.VERIFIED,
                permission=PROCESS,
                guards=(Guard(before_deadline), Guard(how_verified_said, needs_data=True)),
                changes=verified,
                note=lambda ticket, act: act.data["how"].strip(),
                notify=False,  # the candidate is at the counter: the email would have no next step for them
            ),
            Transition(
                "start",
                gettext_lazy("Start processing"),
                Status.IN_PROGRESS,
                permission=PROCESS,
                changes=lambda ticket, act: {"assigned_to": act.by},
                notify=False,
            ),
            Transition(
                "escalate",
                gettext_lazy("Escalate to the regional office"),
                Status.ESCALATED,
                permission=PROCESS,
                guards=(Guard(escalating_kind), Guard(escalation_note_written, needs_data=True)),
                changes=lambda ticket, act: {"escalated_at": act.now},
            ),
            Transition(
                "complete",
                gettext_lazy("Complete"),
                Status.COMPLETED,
                permission=PROCESS,
                # The kind's own step is shown on the step's page rather than hiding the step.
                guards=(
                    Guard(completed_by_the_regional_office, forbidden=True),
                    Guard(completed_after_escalation),
                    Guard(kind_step_recorded, needs_data=True),
                ),
                changes=closed,
                after=on_completed,
            ),
            Transition(
                "reject",
                gettext_lazy("Reject"),
                Status.REJECTED,
                permission=PROCESS,
                guards=(
                    Guard(escalated_ones_by_the_regional_office, forbidden=True),
                    Guard(rejection_note_written, needs_data=True),
                ),
                changes=closed,
            ),
            # The staff's due time after a calendar change: not the candidate's business, no email.
            Transition(
                "move-due",
                gettext_lazy("Due time moved"),
                None,
                sources=OPEN_STATUSES,
                guards=(Guard(by_a_reschedule_only, forbidden=True),),
                changes=moved_due,
                note=due_moved_note,
                notify=False,
            ),
            Transition(
                "move-deadline",
                gettext_lazy("Deadline moved"),
                None,
                sources=(Status.SUBMITTED,),
                guards=(Guard(by_the_system_only, forbidden=True), Guard(new_deadline_ahead)),
                changes=moved_deadline,
                note=deadline_moved_note,
            ),
            Transition(
                "reopen",
                gettext_lazy("Reopened: the deadline was moved"),
                Status.SUBMITTED,
                sources=(Status.EXPIRED,),
                guards=(
                    Guard(by_the_system_only, forbidden=True),
                    Guard(new_deadline_ahead),
                    Guard(no_newer_open_request),
                ),
                changes=reopened,
                note=deadline_moved_note,
            ),
            Transition(
                "expire",
                gettext_lazy("Expired at the in-person deadline"),
                Status.EXPIRED,
                changes=closed,
                note=lambda ticket, act: _("Not verified in person by the deadline."),
            ),
        )
    }

    escalation_template = "tickets/email/escalation"
    escalation_key = "ticket-escalation"
    escalation_stamp = "sla_escalated_at"
    escalation_reason = gettext_lazy("Overdue: escalated")

    def load_for_email(self, pks):
        """The requests with what their emails show; offices are few, so they are shared objects, not joined."""
        tickets = list(Ticket.objects.filter(pk__in=pks).select_related("candidate", "assigned_to").order_by("pk"))
        offices = Office.objects.in_bulk({ticket.office_id for ticket in tickets})
        for ticket in tickets:
            ticket.office = offices[ticket.office_id]
        return tickets

    def status_refusal(self, ticket, transition):
        return _("%(ref)s is “%(status)s”: this step is not possible now.") % {
            "ref": ticket.reference,
            "status": ticket.get_status_display(),
        }

    def escalation_regional_only(self, ticket):
        return ticket.status == Status.ESCALATED

    def email(self, transition, tickets, act):
        messages = []
        for ticket in tickets:
            # An expiry is told once per request, whatever runs the sweep again; every other change once per entry.
            # A moved deadline once per new deadline value, whatever runs the reschedule again.
            if transition.name == "expire":
                key = "expired"
            elif transition.name in ("move-deadline", "reopen"):
                key = f"deadline:{int(ticket.deadline.timestamp())}"
            else:
                key = f"event:{ticket._event.pk}"
            context = {"ticket": ticket, "event": ticket._event}
            messages.append(
                OutboxMessage(
                    dedup_key=f"ticket:{ticket.pk}:{key}",
                    recipient=ticket.email,
                    language=ticket.language,
                    template="message",
                    context=render_email(STATUS_CHANGE, ticket.language, context),
                    office_id=ticket.office_id,
                )
            )
        return self.queue_emails(messages)


TICKETS = TicketWorkflow()
