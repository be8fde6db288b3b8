"""Deadline sweeps of requests (tickets): each is `function(now) -> summary`, registered in settings.PORTAL_SWEEPS.

As in applications/sweeps.py: "update everything past its deadline and not yet done", safe to run twice and
catching up once after downtime. The status change (or `sla_escalated_at`) is the claim, since the next run no
longer finds the row. Rows are taken in chunks, each chunk locked (FOR UPDATE) and written in bulk (one UPDATE,
one INSERT of history entries, a few outbox queries) in its own transaction, so that a counter verifying a
request at the same moment either wins (the sweep then leaves the row out) or waits and sees it expired.
Emails are queued in that transaction and sent after commit.
"""

from django.conf import settings
from django.utils.translation import gettext as _

from core import audit
from core.chunks import in_locked_chunks, pks_of
from notifications.models import OutboxMessage, enqueue_emails, render_email
from offices.escalation import EscalationRecipients, escalation_note
from offices.models import Office

from .models import Status, Ticket, TicketEvent

CHUNK = 2000
STATUS_CHANGE = "tickets/email/status_change"
ESCALATION = "tickets/email/escalation"


# Expiry at the in-person deadline -----------------------------------------------------------------------------


def expire_unverified_tickets(now):
    """Requests still `submitted` (not verified in person) at their deadline become `expired` (exemptions at
    the exemption deadline, registration-info changes at the end of the info-change deadline day); each
    candidate is emailed once (key ticket:<pk>:expired). Verified requests never expire."""
    due = Ticket.objects.filter(status=Status.SUBMITTED, deadline__lte=now)
    note = _("Not verified in person by the deadline.")

    def expire(rows):
        pks = pks_of(rows)
        Ticket.objects.filter(pk__in=pks).update(status=Status.EXPIRED, closed_at=now)
        tickets = _with_email_context(pks)
        # update() sends no signal: the audit entries are written in bulk too.
        audit.record_bulk_changes(
            Ticket,
            {pk: {"status": (Status.SUBMITTED, Status.EXPIRED), "closed_at": (None, now)} for pk in pks},
            reprs={ticket.pk: ticket.reference for ticket in tickets},
            reason=str(note),
        )
        events = TicketEvent.objects.bulk_create(
            [
                TicketEvent(
                    ticket_id=pk,
                    at=now,
                    actor="system",
                    from_status=Status.SUBMITTED,
                    to_status=Status.EXPIRED,
                    note=note,
                )
                for pk in pks
            ],
            batch_size=CHUNK,
        )
        return len(pks), _email_expired(tickets, {event.ticket_id: event for event in events})

    results = in_locked_chunks(due, expire)
    expired, emails = (sum(counts) for counts in zip(*results, strict=True)) if results else (0, 0)
    return f"{expired} expired at the in-person deadline, {emails} emails queued"


def _email_expired(tickets, events):
    """The email Ticket.expire() sends (the status-change template), for many requests at once."""
    messages = [
        OutboxMessage(
            dedup_key=f"ticket:{ticket.pk}:expired",
            recipient=ticket.email,
            language=ticket.language,
            template="message",
            context=render_email(STATUS_CHANGE, ticket.language, {"ticket": ticket, "event": events[ticket.pk]}),
            office_id=ticket.office_id,
        )
        for ticket in tickets
    ]
    return len(enqueue_emails(messages))


# Escalation of overdue requests -------------------------------------------------------------------------------


def escalate_overdue_tickets(now):
    """An open request past its due time is escalated once (sla_escalated_at) to its office's managers, one
    email each (key ticket-escalation:<ticket pk>:<user pk>), to regional staff when none of them has an email
    address; a request waiting for the regional office (status escalated) goes to regional staff instead.
    Staff without an email address are named in the summary; a request with nobody to tell stays unescalated
    until someone can be told."""
    overdue = Ticket.objects.overdue(now).filter(sla_escalated_at__isnull=True)
    recipients = EscalationRecipients()

    def escalate(rows):
        pks = pks_of(rows)
        messages, events, escalated = [], [], []
        tickets = _with_email_context(pks)
        for ticket in tickets:
            regional_only = ticket.status == Status.ESCALATED
            users = recipients.for_office(ticket.office_id, ticket.reference, regional_only=regional_only)
            if not users:
                continue
            escalated.append(ticket.pk)
            messages += [_escalation_email(ticket, user) for user in users]
            events.append(
                TicketEvent(
                    ticket_id=ticket.pk,
                    at=now,
                    actor="system",
                    from_status=ticket.status,
                    to_status=ticket.status,
                    note=escalation_note(ticket.due_at, users),
                )
            )
        Ticket.objects.filter(pk__in=escalated).update(sla_escalated_at=now)
        audit.record_bulk_changes(
            Ticket,
            {pk: {"sla_escalated_at": (None, now)} for pk in escalated},
            reprs={ticket.pk: ticket.reference for ticket in tickets},
            reason=str(_("Overdue: escalated")),
        )
        TicketEvent.objects.bulk_create(events, batch_size=CHUNK)
        return len(escalated), len(enqueue_emails(messages))

    results = in_locked_chunks(overdue, escalate)
    escalated, emails = (sum(counts) for counts in zip(*results, strict=True)) if results else (0, 0)
    return recipients.summary(f"{escalated} escalated, {emails} emails queued")


def _escalation_email(ticket, user):
    language = settings.LANGUAGE_CODE
    context = {
        "ticket": ticket,
        "recipient": user,
        # The email carries the masked number only: the full one is behind the admin's permission.
        "masked_document_number": ticket.candidate.masked_document_number,
        "admin_url": f"{settings.PORTAL_BASE_URL}/admin/tickets/ticket/{ticket.pk}/change/",
        "base_url": settings.PORTAL_BASE_URL,
    }
    return OutboxMessage(
        dedup_key=f"ticket-escalation:{ticket.pk}:{user.pk}",
        recipient=user.email,
        language=language,
        template="message",
        context=render_email(ESCALATION, language, context),
        office_id=ticket.office_id,
    )


# Shared steps -------------------------------------------------------------------------------------------------


def _with_email_context(pks):
    """The requests with what their emails show; offices are few, so they are shared objects, not joined."""
    tickets = list(Ticket.objects.filter(pk__in=pks).select_related("candidate", "assigned_to").order_by("pk"))
    offices = Office.objects.in_bulk({ticket.office_id for ticket in tickets})
    for ticket in tickets:
        ticket.office = offices[ticket.office_id]
    return tickets
