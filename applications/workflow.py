"""Every state change of an application, as one table of transitions run by the engine (core/transitions.py).

The single decision in the admin, the batch actions, the candidate's own steps, the payment import and the
sweeps all call APPLICATIONS.run / run_one with a transition's name: the status table (models.TRANSITIONS) and
the preconditions below are checked in one place, on the locked rows. Approval needs the social-insurance months
verified and every check green; a reviewer may override that for one application with a reason that the history
keeps; a batch approval never overrides.
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.templatetags.portal import moment
from core.transitions import Guard, Transition
from notifications.workflow import OutboxWorkflow

from . import bulk
from .models import (
    FLAG_FIELDS,
    OPEN_STATUSES,
    TRANSITIONS,
    Application,
    ApplicationEvent,
    RejectionReason,
    Status,
    counter_values,
    record_counter_changes,
)

REVIEW = "applications.review_application"
# The fields of the dashboard's counters that a transition may change, and those the lean loads below must read.
COUNTED_CHANGES = {"status", "submitted_at", "decided_at", "paid_at", "due_at"}
COUNTED_LOAD = ("session", "office", *sorted(COUNTED_CHANGES))


# Preconditions -------------------------------------------------------------------------------------------------


def months_verified(application, act):
    if application.verified_insured_months is None:
        return _("verified social-insurance months not recorded")
    return None


def checks_green(application, act):
    others = getattr(application, "_other_references", None)
    failed = [check.message for check in application.preview_checks(others) if not check.ok]
    if failed:
        return _("checks not green: %(checks)s") % {"checks": " ".join(str(message) for message in failed)}
    return None


def rejection_reason_given(application, act):
    reason = act.data.get("reason")
    if reason not in RejectionReason.values:
        return _("Choose a reason for the rejection.")
    if reason == RejectionReason.OTHER and not act.note.strip():
        return _("Say why the application is rejected.")
    return None


def correction_said(application, act):
    return None if act.note.strip() else _("Say what the candidate must correct.")


def registration_open(application, act):
    if not application.session.registration_is_open(act.now):
        return _("Registration is closed: the application can no longer be changed online.")
    return None


def payment_open(application, act):
    """Approving after payment close has no effect: the candidate can no longer pay (the lapse sweep would follow)."""
    if not application.session.payment_is_open(act.now):
        return _("Payment closed at %(close)s: an approval could no longer be paid.") % {
            "close": _local(application.session.payment_closes)
        }
    return None


def correction_possible(application, act):
    """Returning for correction after registration close has no effect: the candidate can no longer resubmit."""
    if not application.session.registration_is_open(act.now):
        return _("Registration is closed: the candidate could no longer correct and resubmit the application.")
    return None


# Fields each transition sets ------------------------------------------------------------------------------------


def decided(application, act):
    return {"decided_at": act.now, "decided_by": act.by}


def rejected(application, act):
    return {**decided(application, act), "rejection_reason": act.data["reason"], "message_to_candidate": act.note}


def returned(application, act):
    return {"message_to_candidate": act.note}


def new_due(application, due_at, act):
    """A new due time, and the escalation claim cleared when it lies ahead: overdue again later, it is escalated
    again (the warning before it follows due_warned_for by itself). The same fields for every row of a run."""
    ahead = due_at is not None and due_at > act.now
    return {"due_at": due_at, "escalated_at": None if ahead else application.escalated_at}


def reviewed_again(application, act):
    return {"review_started_at": act.now, **new_due(application, application.due_from(act.now), act)}


def resubmitted(application, act):
    application.run_checks()
    checks = {name: getattr(application, name) for name in ("checks", *FLAG_FIELDS)}
    return {
        "submitted_at": act.now,
        "review_started_at": act.now,
        **new_due(application, application.due_from(act.now), act),
        **checks,
    }


# Rescheduling (portal/reschedule.py): act.data["because"] says why.


def due_recomputed(application, act):
    """due_from depends on the session and the Beijing day of the start only: computed once per day in a run."""
    start = application.review_started_at or application.submitted_at
    key = (application.session_id, timezone.localtime(start).date())
    cache = act.data.setdefault("due_by_day", {})
    if key not in cache:
        cache[key] = application.due_from(start)
    return new_due(application, cache[key], act)


def due_moved_note(application, act):
    return _("Review due moved from %(old)s to %(new)s because %(because)s") % {
        "old": _local(application._before["due_at"]),
        "new": _local(application.due_at),
        "because": act.data["because"],
    }


def reopened_note(application, act):
    return _("Reopened because %(because)s") % {"because": act.data["because"]}


def _local(value):
    return moment(value) or "-"


def by_the_system_only(application, act):
    if act.actor != "system":
        return _("Only a reschedule of the session's dates does this.")
    return None


def registration_open_again(application, act):
    if application.session.registration_closes <= act.now:
        return _("%(ref)s: registration has closed.") % {"ref": application.reference}
    return None


def payment_open_again(application, act):
    if not application.session.payment_is_open(act.now):
        return _("%(ref)s: payment has closed.") % {"ref": application.reference}
    return None


def closed_from(status):
    def check(application, act):
        if application._closed_from != status:
            return _("%(ref)s was not closed from this status.") % {"ref": application.reference}
        return None

    return check


def last_closed_from(pks):
    """{application pk: the status it was last closed from}, in one query (the reopen guards of a chunk)."""
    rows = ApplicationEvent.objects.filter(application_id__in=pks, to_status=Status.CLOSED).order_by("pk")
    return dict(rows.values_list("application_id", "from_status"))  # the last one of each wins


def paid(application, act):
    payment = act.data["payments"][application.pk]
    return {"paid_at": payment.paid_at, "payment_code": payment.payment_code}


def payment_note(application, act):
    return bulk.payment_note(act.data["payments"][application.pk])


APPROVAL_GUARDS = (
    Guard(payment_open),
    Guard(months_verified, overridable=True),
    Guard(checks_green, overridable=True),
)


class ApplicationWorkflow(OutboxWorkflow):
    model = Application
    event_model = ApplicationEvent
    event_fk = "application"
    table = TRANSITIONS
    select_related = ("session", "candidate")
    transitions = {
        transition.name: transition
        for transition in (
            Transition(
                "approve",
                gettext_lazy("Approve"),
                Status.APPROVED,
                permission=REVIEW,
                guards=APPROVAL_GUARDS,
                changes=decided,
            ),
            Transition(
                "reject",
                gettext_lazy("Reject"),
                Status.REJECTED,
                permission=REVIEW,
                guards=(Guard(rejection_reason_given, needs_data=True),),
                changes=rejected,
            ),
            Transition(
                "return",
                gettext_lazy("Return for correction"),
                Status.RETURNED,
                permission=REVIEW,
                guards=(Guard(correction_possible), Guard(correction_said, needs_data=True)),
                changes=returned,
            ),
            Transition(
                "in-person-done",
                gettext_lazy("In-person review done"),
                Status.SUBMITTED,
                # "submitted" also follows "returned" (the candidate resubmits): staff may not take that path.
                sources=(Status.IN_PERSON_REVIEW,),
                permission=REVIEW,
                changes=reviewed_again,
                notify=False,
            ),
            Transition("withdraw", gettext_lazy("Withdraw"), Status.WITHDRAWN),
            Transition(
                "resubmit",
                gettext_lazy("Resubmit after correction"),
                Status.SUBMITTED,
                sources=(Status.RETURNED,),
                guards=(Guard(registration_open),),
                changes=resubmitted,
            ),
            Transition(
                "move-due",
                gettext_lazy("Review due moved"),
                None,
                sources=OPEN_STATUSES,
                guards=(Guard(by_the_system_only, forbidden=True),),
                changes=due_recomputed,
                note=due_moved_note,
                notify=False,  # the reviewers' time, not the candidate's
            ),
            *(
                Transition(
                    f"reopen-{status}",
                    gettext_lazy("Reopened: registration extended"),
                    status,
                    sources=(Status.CLOSED,),
                    guards=(
                        Guard(by_the_system_only, forbidden=True),
                        Guard(registration_open_again),
                        Guard(closed_from(status)),
                    ),
                    note=reopened_note,
                )
                for status in (Status.RETURNED, Status.IN_PERSON_REVIEW)
            ),
            Transition(
                "reopen-lapsed",
                gettext_lazy("Reopened: payment close extended"),
                Status.APPROVED,
                sources=(Status.LAPSED,),
                guards=(Guard(by_the_system_only, forbidden=True), Guard(payment_open_again)),
                note=reopened_note,
            ),
            Transition("pay", gettext_lazy("Paid"), Status.PAID, changes=paid, note=payment_note, notify=True),
            Transition(
                "close",
                gettext_lazy("Closed at registration close"),
                Status.CLOSED,
                note=lambda application, act: _("Registration closed before the application was completed."),
            ),
            # No email yet: lapse emails wait for the final payment import (sweeps.send_lapse_emails).
            Transition(
                "lapse",
                gettext_lazy("Lapsed at payment close"),
                Status.LAPSED,
                note=lambda application, act: _("Not paid by payment close."),
                notify=False,
            ),
        )
    }
    # The staff decisions of the change page, in the order of its buttons.
    DECISIONS = ("approve", "reject", "return", "in-person-done")

    def load(self, pks, transition):
        if transition.name == "move-due":
            # A reschedule moves thousands of due times: what due_from and the history note need, no more.
            fields = ("pk", "status", "reference", "review_started_at", "escalated_at", *COUNTED_LOAD)
            applications = list(Application.objects.filter(pk__in=pks).select_related("session").only(*fields))
            return sorted(applications, key=lambda application: application.pk)
        if transition.name in ("close", "lapse", "pay"):
            # The sweeps and the payment import need the status and what the emails show, not the checks.
            fields = ("pk", "status", "reference", "payment_code", *COUNTED_LOAD)
            return list(Application.objects.filter(pk__in=pks).only(*fields).order_by("pk"))
        applications = super().load(pks, transition)
        if transition.name.startswith("reopen-") and transition.name != "reopen-lapsed":
            closed_from = last_closed_from(pks)
            for application in applications:
                application._closed_from = closed_from.get(application.pk)
        if transition.name == "approve":
            others = Application.other_references_of(applications)
            for application in applications:
                application._other_references = others.get(application.pk, [])
        return applications

    def written(self, records, before):
        """The dashboard's counters follow the status, submission, decision, payment and due times written."""
        moved = [record for record in records if before[record.pk].keys() & COUNTED_CHANGES]
        if moved:
            changes = [(counter_values(record, before[record.pk]), counter_values(record)) for record in moved]
            record_counter_changes(changes)

    escalation_template = "applications/email/escalation"
    escalation_key = "escalation"
    escalation_stamp = "escalated_at"
    escalation_reason = gettext_lazy("Overdue: escalated to the managers")

    def load_for_email(self, pks):
        return bulk.with_email_context(pks)

    def status_refusal(self, record, transition):
        return record.refusal(transition.target)

    def email(self, transition, records, act):
        if transition.name == "close":
            # One "closed" email per application, whatever runs the sweep again.
            return bulk.email_candidates([record.pk for record in records], bulk.STATUS_CHANGE, "closed")
        return bulk.email_status_changes([record._event for record in records])


APPLICATIONS = ApplicationWorkflow()
