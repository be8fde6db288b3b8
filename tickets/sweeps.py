"""Deadline sweeps of requests (tickets): each is `function(now) -> summary`, registered in settings.PORTAL_SWEEPS.

As in applications/sweeps.py: "update everything past its deadline and not yet done", safe to run twice and
catching up once after downtime. The status change (or `sla_escalated_at`) is the claim, since the next run no
longer finds the row. The transition engine (tickets/workflow.py) takes the rows in chunks, each chunk locked
(FOR UPDATE) and written in bulk (one UPDATE, one INSERT of history entries, a few outbox queries) in its own
transaction, so that a counter verifying a
request at the same moment either wins (the sweep then leaves the row out) or waits and sees it expired.
Emails are queued in that transaction and sent after commit.
"""

from core.chunks import CHUNK
from core.transitions import Act
from offices.escalation import EscalationRecipients, WarningRecipients, due_soon_condition

from .models import OPEN_STATUSES, Status, Ticket
from .workflow import TICKETS

# Expiry at the in-person deadline -----------------------------------------------------------------------------


def expire_unverified_tickets(now):
    """Requests still `submitted` (not verified in person) at their deadline become `expired` (exemptions at
    the exemption deadline, registration-info changes at the end of the info-change deadline day); each
    candidate is emailed once (key ticket:<pk>:expired). Verified requests never expire."""
    due = Ticket.objects.filter(status=Status.SUBMITTED, deadline__lte=now)
    outcome = TICKETS.run("expire", due, Act(actor="system", now=now), chunk=CHUNK)
    return f"{len(outcome.done)} expired at the in-person deadline, {outcome.emails} emails queued"


# Warnings before the due time, escalation after it -------------------------------------------------------------


def warn_tickets_due_soon(now):
    """The office's reviewers and managers are warned about its open requests from the start of the due time's last
    working day (offices.escalation.due_soon_condition), one email per person listing them, once per due time;
    requests waiting for the regional office are in its own queue, not warned about."""
    statuses = [status for status in OPEN_STATUSES if status != Status.ESCALATED]
    recipients = WarningRecipients()
    warned, emails = TICKETS.warn_due_soon(Ticket.objects.filter(due_soon_condition(now, statuses)), now, recipients)
    return recipients.summary(f"{warned} requests due soon warned about, {emails} emails queued")


def escalate_overdue_tickets(now):
    """An open request past its due time is escalated once (sla_escalated_at) to its office's managers, one
    email each (key ticket-escalation:<ticket pk>:<user pk>), to regional staff when none of them has an email
    address; a request waiting for the regional office (status escalated) goes to regional staff instead.
    Staff without an email address are named in the summary; a request with nobody to tell stays unescalated
    until someone can be told."""
    overdue = Ticket.objects.overdue(now).filter(sla_escalated_at__isnull=True)
    recipients = EscalationRecipients()
    escalated, emails = TICKETS.escalate_overdue(overdue, now, recipients)
    return recipients.summary(f"{escalated} escalated, {emails} emails queued")
