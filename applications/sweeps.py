"""Deadline sweeps of applications: each is `function(now) -> summary`.

Every sweep is "update everything past its deadline and not yet done": safe to run twice, and after
downtime it catches up once. A status change (or `escalated_at`) is its own claim, since the next run no
longer finds the row; a candidate email is claimed by its outbox key. Rows are taken in locked chunks and
written in bulk (applications/bulk.py), so 50,000 rows cost queries per thousand, not per row.

Beat runs the sweeps every minute (settings.PORTAL_SWEEPS). The staff digest, which spans applications and
requests, is the roof's (portal/digest.py); whom overdue work is escalated to is offices/escalation.py.
"""

import datetime
import functools

from django.db.models import F
from django.utils.translation import gettext as _

from core.chunks import CHUNK, in_locked_chunks, pks_of
from core.transitions import Act
from offices.escalation import EscalationRecipients, WarningRecipients, due_soon_condition

from .bulk import STATUS_CHANGE, email_candidates, emailed
from .models import COUNTERS, OPEN_STATUSES, Application, ApplicationEvent, ExamSession, Status
from .workflow import APPLICATIONS

CLOSED_AT_REGISTRATION_CLOSE = (Status.RETURNED, Status.IN_PERSON_REVIEW)
# (key, hours before payment close). Each reminder is due from its moment until the next one's (the last
# one until payment close); a sweep that first runs after that window skips it rather than send it late.
PAYMENT_REMINDERS = (("24h", 24), ("3h", 3))


# Lapse and close ------------------------------------------------------------------------------------------


def close_incomplete_applications(now):
    """At registration close, `returned` and `in_person_review` applications become `closed`; each
    candidate is emailed once (key application:<pk>:closed)."""
    incomplete = Application.objects.filter(
        status__in=CLOSED_AT_REGISTRATION_CLOSE,
        session__in=ExamSession.objects.filter(registration_closes__lte=now),
    )
    outcome = APPLICATIONS.run("close", incomplete, Act(actor="system", now=now), chunk=CHUNK)
    return f"{len(outcome.done)} closed at registration close, {outcome.emails} emails queued"


def lapse_unpaid_applications(now):
    """At payment close, `approved` applications (not paid) become `lapsed`. No email yet: see send_lapse_emails."""
    unpaid = Application.objects.filter(
        status=Status.APPROVED, session__in=ExamSession.objects.filter(payment_closes__lte=now)
    )
    outcome = APPLICATIONS.run("lapse", unpaid, Act(actor="system", now=now), chunk=CHUNK)
    return f"{len(outcome.done)} lapsed at payment close"


def send_lapse_emails(now):
    """Tell lapsed candidates once the session's final payment import is marked done (payments_final_at),
    so that nobody whose payment was still to be imported is told otherwise; once per application (key
    application:<pk>:lapsed), and only while it is still lapsed."""
    not_told = Application.objects.filter(status=Status.LAPSED).filter(~emailed("lapsed"))
    # A subquery, not a join: FOR UPDATE locks the applications, never the session row staff may be editing.
    ready = not_told.filter(session__in=ExamSession.objects.filter(payments_final_at__isnull=False))
    emails = in_locked_chunks(ready, lambda rows: email_candidates(pks_of(rows), STATUS_CHANGE, "lapsed"))
    waiting = not_told.filter(session__payments_final_at__isnull=True).count()
    return f"{sum(emails)} lapse emails queued, {waiting} waiting for the final payment import"


# Payment reminders -----------------------------------------------------------------------------------------


def due_payment_reminder(payment_closes, now):
    """The key of the reminder whose window holds `now` ("24h", "3h"), or None."""
    due = None
    for key, hours in PAYMENT_REMINDERS:
        if payment_closes - datetime.timedelta(hours=hours) <= now < payment_closes:
            due = key
    return due


def send_payment_reminders(now):
    """Remind approved, unpaid candidates 24 hours and 3 hours before payment close, once per close
    (key application:<pk>:reminder:<close as Unix seconds>:<24h|3h>), in their language: when the payment
    close is moved, the reminders for the new close are due again."""
    earliest = max(hours for _key, hours in PAYMENT_REMINDERS)
    sessions = ExamSession.objects.filter(
        payment_closes__gt=now, payment_closes__lte=now + datetime.timedelta(hours=earliest)
    )
    queued = {key: 0 for key, _hours in PAYMENT_REMINDERS}
    for session in sessions:
        reminder = due_payment_reminder(session.payment_closes, now)
        if reminder is None:
            continue
        key = f"reminder:{int(session.payment_closes.timestamp())}:{reminder}"
        unpaid = Application.objects.filter(session=session, status=Status.APPROVED).filter(~emailed(key))
        remind = functools.partial(_remind, key=key, hours=dict(PAYMENT_REMINDERS)[reminder])
        queued[reminder] += sum(in_locked_chunks(unpaid, remind))
    return ", ".join(f"{count} {key} payment reminders queued" for key, count in queued.items())


def _remind(rows, *, key, hours):
    return email_candidates(pks_of(rows), "applications/email/payment_reminder", key, hours=hours)


# Undecided at payment close ---------------------------------------------------------------------------------

# A session whose payment closed longer ago than this is not looked at: its candidates were told then (or the
# portal was not running the sweep yet, and an email about a close weeks ago would only confuse).
UNDECIDED_TOLD_WITHIN = datetime.timedelta(days=7)


def tell_undecided_at_payment_close(now):
    """Applications still waiting for a decision when their session's payment closed cannot be paid any more: each
    candidate is told so once per payment close (key application:<pk>:undecided:<close as Unix seconds>), with a
    history line; the office and the regional office see them on the dashboard and in the digest
    (ApplicationQuerySet.undecided_after_close). A payment close extended later makes them approvable again, and
    the next close tells them again."""
    sessions = ExamSession.objects.filter(payment_closes__lte=now, payment_closes__gt=now - UNDECIDED_TOLD_WITHIN)
    told = 0
    for session in sessions:
        key = f"undecided:{int(session.payment_closes.timestamp())}"
        undecided = Application.objects.undecided_after_close(session, now).filter(~emailed(key))
        told += sum(in_locked_chunks(undecided, functools.partial(_tell_undecided, key=key, now=now)))
    return f"{told} candidates told that payment closed before a decision"


def _tell_undecided(rows, *, key, now):
    note = _("Payment closed before a decision: the candidate was told that this session can no longer be paid.")
    ApplicationEvent.objects.bulk_create(APPLICATIONS.system_note(pk, status, now, note) for pk, status in rows)
    return email_candidates(pks_of(rows), "applications/email/undecided_at_close", key)


# Warnings before the due time, escalation after it ---------------------------------------------------------


def warn_applications_due_soon(now):
    """The office's reviewers and managers are warned about its open applications from the start of the review due
    time's last working day, and again 3 hours before a due time capped at payment close
    (offices.escalation.due_soon_condition; settings.PORTAL_DUE_WARNING_*): one email per person listing them, once
    per due time and stage, with a history line on each."""
    due_soon = Application.objects.filter(due_soon_condition(now, OPEN_STATUSES, cap=F("session__payment_closes")))
    recipients = WarningRecipients()
    warned, emails = APPLICATIONS.warn_due_soon(due_soon, now, recipients)
    return recipients.summary(f"{warned} applications due soon warned about, {emails} emails queued")


def escalate_overdue_applications(now):
    """An open application past its due time is escalated once (escalated_at) to its office's managers,
    one email each (key escalation:<application pk>:<user pk>); to regional staff when none of the
    office's active managers has an email address. Staff without an email address are named in the summary;
    an application with nobody to tell stays unescalated until someone can be told."""
    overdue = Application.objects.overdue(now).filter(escalated_at__isnull=True)
    recipients = EscalationRecipients()
    escalated, emails = APPLICATIONS.escalate_overdue(overdue, now, recipients)
    return recipients.summary(f"{escalated} escalated, {emails} emails queued")


# Counters ----------------------------------------------------------------------------------------------------


def drop_empty_counters(now):
    """Delete the dashboard's counter rows that count nothing any more (an hour whose open work was all decided):
    the dashboard sums every row of today's work, so they would pile up season after season. A write that needs
    such a row again inserts it anew (add_counts)."""
    dropped = 0
    for model, (_keys, counts) in COUNTERS.items():
        dropped += model.objects.filter(**{name: 0 for name in counts}).delete()[0]
    return f"empty counter rows dropped: {dropped}"
