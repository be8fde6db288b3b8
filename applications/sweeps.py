"""Deadline sweeps and the staff digest of applications: each is `function(now) -> summary`.

Every sweep is "update everything past its deadline and not yet done": safe to run twice, and after
downtime it catches up once. A status change (or `escalated_at`) is its own claim, since the next run no
longer finds the row; a candidate email is claimed by its outbox key. Rows are taken in locked chunks and
written in bulk (applications/bulk.py), so 50,000 rows cost queries per thousand, not per row.

Beat runs the sweeps every minute (settings.PORTAL_SWEEPS); the digest has its own time
(CELERY_BEAT_SCHEDULE, applications.tasks.send_staff_digests). The digest and the escalation recipients cover
requests (tickets) too: tickets/sweeps.py escalates overdue requests with EscalationRecipients.
"""

import datetime
import functools

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import OutboxMessage, enqueue_emails, render_email
from offices.models import REGIONAL_OFFICE_CODE, Office, Role, User
from offices.workdays import BEIJING, is_workday
from portal import audit
from tickets.models import Status as TicketStatus
from tickets.models import Ticket

from .bulk import (
    CHUNK,
    STATUS_CHANGE,
    change_status,
    email_candidates,
    emailed,
    in_locked_chunks,
    pks_of,
    with_email_context,
)
from .models import Application, ApplicationEvent, ExamSession, Status

CLOSED_AT_REGISTRATION_CLOSE = (Status.RETURNED, Status.IN_PERSON_REVIEW)
# (key, hours before payment close). Each reminder is due from its moment until the next one's (the last
# one until payment close); a sweep that first runs after that window skips it rather than send it late.
PAYMENT_REMINDERS = (("24h", 24), ("3h", 3))
# References listed per section of a digest; the count always covers all of them.
DIGEST_REFERENCES = 50
# Sections of the digest: the open work of an office's own staff (applications, then requests), and the
# escalation queue (requests waiting for the regional office), counted in the regional digest only.
OFFICE_SECTIONS = ("due_today", "overdue", "in_person", "tickets_due_today", "tickets_overdue")
REGIONAL_SECTIONS = ("escalated",)


# Lapse and close ------------------------------------------------------------------------------------------


def close_incomplete_applications(now):
    """At registration close, `returned` and `in_person_review` applications become `closed`; each
    candidate is emailed once (key application:<pk>:closed)."""
    incomplete = Application.objects.filter(
        status__in=CLOSED_AT_REGISTRATION_CLOSE,
        session__in=ExamSession.objects.filter(registration_closes__lte=now),
    )
    note = _("Registration closed before the application was completed.")

    def close(rows):
        closed = change_status(rows, Status.CLOSED, now=now, note=note)
        return len(closed), email_candidates(pks_of(rows), STATUS_CHANGE, "closed")

    results = in_locked_chunks(incomplete, close)
    closed, emails = (sum(counts) for counts in zip(*results, strict=True)) if results else (0, 0)
    return f"{closed} closed at registration close, {emails} emails queued"


def lapse_unpaid_applications(now):
    """At payment close, `approved` applications (not paid) become `lapsed`. No email yet: see send_lapse_emails."""
    unpaid = Application.objects.filter(
        status=Status.APPROVED, session__in=ExamSession.objects.filter(payment_closes__lte=now)
    )
    note = _("Not paid by payment close.")
    changed = in_locked_chunks(unpaid, lambda rows: len(change_status(rows, Status.LAPSED, now=now, note=note)))
    return f"{sum(changed)} lapsed at payment close"


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
    """Remind approved, unpaid candidates 24 hours and 3 hours before payment close, once each
    (key application:<pk>:reminder:<24h|3h>), in their language."""
    earliest = max(hours for _key, hours in PAYMENT_REMINDERS)
    sessions = ExamSession.objects.filter(
        payment_closes__gt=now, payment_closes__lte=now + datetime.timedelta(hours=earliest)
    )
    queued = {key: 0 for key, _hours in PAYMENT_REMINDERS}
    for session in sessions:
        reminder = due_payment_reminder(session.payment_closes, now)
        if reminder is None:
            continue
        key = f"reminder:{reminder}"
        unpaid = Application.objects.filter(session=session, status=Status.APPROVED).filter(~emailed(key))
        remind = functools.partial(_remind, key=key, hours=dict(PAYMENT_REMINDERS)[reminder])
        queued[reminder] += sum(in_locked_chunks(unpaid, remind))
    return ", ".join(f"{count} {key} payment reminders queued" for key, count in queued.items())


def _remind(rows, *, key, hours):
    return email_candidates(pks_of(rows), "applications/email/payment_reminder", key, hours=hours)


# Escalation -------------------------------------------------------------------------------------------------


def escalate_overdue_applications(now):
    """An open application past its due time is escalated once (escalated_at) to its office's managers,
    one email each (key escalation:<application pk>:<user pk>); to regional staff when none of the
    office's active managers has an email address. Staff without an email address are named in the summary;
    an application with nobody to tell stays unescalated until someone can be told."""
    overdue = Application.objects.overdue(now).filter(escalated_at__isnull=True)
    recipients = EscalationRecipients()

    def escalate(rows):
        messages, events, escalated = [], [], []
        applications = with_email_context(pks_of(rows))
        for application in applications:
            users = recipients.for_office(application.office_id, application.reference)
            if not users:
                continue
            escalated.append(application.pk)
            messages += [_escalation_email(application, user) for user in users]
            events.append(
                ApplicationEvent(
                    application_id=application.pk,
                    at=now,
                    actor="system",
                    from_status=application.status,
                    to_status=application.status,
                    note=escalation_note(application.due_at, users),
                )
            )
        Application.objects.filter(pk__in=escalated).update(escalated_at=now)
        references = {application.pk: application.reference for application in applications}
        audit.record_bulk_changes(
            Application,
            {pk: {"escalated_at": (None, now)} for pk in escalated},
            reprs=references,
            reason=str(_("Overdue: escalated to the managers")),
        )
        ApplicationEvent.objects.bulk_create(events, batch_size=CHUNK)
        return len(escalated), len(enqueue_emails(messages))

    results = in_locked_chunks(overdue, escalate)
    escalated, emails = (sum(counts) for counts in zip(*results, strict=True)) if results else (0, 0)
    return recipients.summary(f"{escalated} escalated, {emails} emails queued")


class EscalationRecipients:
    """Whom an overdue application or request is escalated to: the active managers of its office who have an
    email address, else the regional staff who have one; regional staff alone for what waits on the regional
    office. Loaded once per sweep; it keeps who had no address and what had nobody to tell, for the summary."""

    def __init__(self):
        self.managers = {}
        for manager in User.objects.filter(is_active=True, role=Role.MANAGER).order_by("pk"):
            self.managers.setdefault(manager.office_id, []).append(manager)
        self.regional = list(User.objects.filter(is_active=True, role=Role.REGIONAL).order_by("pk"))
        self.without_email, self.nobody_to_tell = set(), []

    def for_office(self, office_id, reference, *, regional_only=False):
        """The users to email about `reference` of `office_id`; an empty list is recorded as nobody to tell."""
        asked = [] if regional_only else self.managers.get(office_id, [])
        users = [user for user in asked if user.email]
        if not users:
            asked = asked + self.regional
            users = [user for user in self.regional if user.email]
        self.without_email.update(user.get_username() for user in asked if not user.email)
        if not users:
            self.nobody_to_tell.append(reference)
        return users

    def summary(self, summary):
        if self.without_email:
            summary += f"; skipped, no email address: {', '.join(sorted(self.without_email))}"
        if self.nobody_to_tell:
            summary += f"; not escalated, nobody with an email address to tell: {', '.join(self.nobody_to_tell)}"
        return summary


def escalation_note(due_at, users):
    """The history line of an escalation (the same words for applications and requests)."""
    return _("Overdue since %(due)s: escalated to %(users)s.") % {
        "due": timezone.localtime(due_at, BEIJING).strftime("%Y-%m-%d %H:%M"),
        "users": ", ".join(user.get_username() for user in users),
    }


def _escalation_email(application, user):
    language = settings.LANGUAGE_CODE
    context = {
        "application": application,
        "recipient": user,
        # The email carries the masked number only: the full one is behind the admin's permission.
        "masked_document_number": application.candidate.masked_document_number,
        "admin_url": f"{settings.PORTAL_BASE_URL}/admin/applications/application/{application.pk}/change/",
        "base_url": settings.PORTAL_BASE_URL,
    }
    return OutboxMessage(
        dedup_key=f"escalation:{application.pk}:{user.pk}",
        recipient=user.email,
        language=language,
        template="message",
        context=render_email("applications/email/escalation", language, context),
        office=application.office,
    )


# Staff digest (not a sweep: beat runs it at 08:30 Beijing time, see CELERY_BEAT_SCHEDULE) ----------------


def send_staff_digests(now):
    """On a working day, one digest per active reviewer and manager (with an email address) of each office
    with open work: applications due today, overdue, waiting for in-person review, and requests (tickets) due
    today and overdue; regional staff get one digest with the counts of every office with open work, the
    escalation queue (requests waiting for the regional office) included. Once per office, day and person
    (key digest:<office code>:<date>:<user pk>)."""
    today = timezone.localtime(now, BEIJING).date()
    if not is_workday(today):
        return f"{today} is not a working day: no digest"
    work = open_work(now)
    if not work:
        return f"{today}: nothing to report"
    offices = Office.objects.in_bulk(list(work))
    by_office = sorted(work.items())
    # An office whose only open work waits for the regional office has nothing for its own staff to do.
    local = [code for code, sections in work.items() if any(sections[name] for name in OFFICE_SECTIONS)]
    staff = User.objects.filter(
        Q(role__in=[Role.REVIEWER, Role.MANAGER], office_id__in=local) | Q(role=Role.REGIONAL), is_active=True
    )
    messages, without_email = [], []
    for user in staff.order_by("pk"):
        if not user.email:
            without_email.append(user.get_username())
            continue
        if user.role == Role.REGIONAL:
            rows = [{"office": offices[code], **_counts(sections)} for code, sections in by_office]
            context = {"regional": True, "offices": rows, "totals": _totals(rows)}
            code = REGIONAL_OFFICE_CODE
        else:
            code = user.office_id
            context = {"regional": False, "office": offices[code], **_sections(work[code])}
        messages.append(_digest_email(user, code, today, now, context))
    with transaction.atomic():
        queued = enqueue_emails(messages)
    summary = f"{today}: {len(queued)} digests queued for {len(work)} offices with open work"
    if without_email:
        summary += f"; skipped, no email address: {', '.join(sorted(without_email))}"
    return summary


def open_work(now):
    """{office code: {section: [refs]}} of the offices with open work, each list in due order (sections:
    OFFICE_SECTIONS and REGIONAL_SECTIONS). Due today means still to do today: what is already late is overdue."""
    sections = {
        "due_today": Application.objects.due_today(now).filter(due_at__gte=now),
        "overdue": Application.objects.overdue(now),
        "in_person": Application.objects.filter(status=Status.IN_PERSON_REVIEW),
        "tickets_due_today": Ticket.objects.due_today(now).filter(due_at__gte=now),
        "tickets_overdue": Ticket.objects.overdue(now),
        "escalated": Ticket.objects.filter(status=TicketStatus.ESCALATED),
    }
    work = {}
    for name, queryset in sections.items():
        for office_id, reference in queryset.order_by("due_at", "reference").values_list("office_id", "reference"):
            work.setdefault(office_id, {key: [] for key in sections})[name].append(reference)
    return work


def _sections(sections):
    return {
        name: {"count": len(refs), "references": refs[:DIGEST_REFERENCES], "more": len(refs[DIGEST_REFERENCES:])}
        for name, refs in sections.items()
    }


def _counts(sections):
    return {name: len(refs) for name, refs in sections.items()}


def _totals(rows):
    return {name: sum(row[name] for row in rows) for name in (*OFFICE_SECTIONS, *REGIONAL_SECTIONS)}


def _digest_email(user, office_code, today, now, context):
    language = settings.LANGUAGE_CODE
    context = {
        **context,
        "recipient": user,
        "day": today,
        "now": now,
        "changelist_url": f"{settings.PORTAL_BASE_URL}/admin/applications/application/",
        "tickets_url": f"{settings.PORTAL_BASE_URL}/admin/tickets/ticket/",
        "escalations_url": f"{settings.PORTAL_BASE_URL}/admin/tickets/ticket/escalations/",
    }
    return OutboxMessage(
        dedup_key=f"digest:{office_code}:{today.isoformat()}:{user.pk}",
        recipient=user.email,
        language=language,
        template="message",
        context=render_email("applications/email/staff_digest", language, context),
        office_id=office_code,
    )
