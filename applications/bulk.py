"""State changes of many applications at once: the sweeps, the batch approval and the payment import.

Each does in bulk what Application._change does for one row: the rows are locked (FOR UPDATE) in chunks
of CHUNK, each chunk in its own transaction; the allowed next status is checked on the locked rows; one
UPDATE moves them, one INSERT writes their history entries and one their audit entries; the candidates'
emails are rendered and queued in the same transaction (enqueue_emails) and sent after commit. So
50,000 rows cost queries per thousand rows, not per row, and a decision or a payment waiting on a row's
lock sees the row's new status.
"""

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _

from notifications.models import OutboxMessage, enqueue_emails, render_emails
from offices.models import Office
from portal import audit

from .models import TRANSITIONS, Application, ApplicationEvent, ExamSession, InvalidTransition, Status

CHUNK = 2000
STATUS_CHANGE = "applications/email/status_change"
# What the candidates' emails show of an application (and its candidate): loading only these makes a
# chunk of 2,000 cheaper to build; sessions and offices are few and shared (with_email_context).
EMAIL_FIELDS = (
    "reference",
    "status",
    "session_id",
    "office_id",
    "email",
    "language",
    "status_token",
    "rejection_reason",
    "message_to_candidate",
    "due_at",
    "candidate__name",
)


def in_locked_chunks(queryset, handle, chunk=CHUNK):
    """Call handle([(pk, status)]) on `queryset` in chunks of `chunk` rows, in pk order, each chunk locked
    (FOR UPDATE) in its own transaction; returns the list of what handle returned. The requests' sweeps
    (tickets/sweeps.py) use it too.

    A decision or payment that holds a row's lock is waited for, and the row is left out if it no longer
    matches; one that comes later waits for the chunk's commit and sees the new status.
    """
    results, last = [], 0
    while True:
        with transaction.atomic():
            rows = list(
                queryset.filter(pk__gt=last).order_by("pk").select_for_update().values_list("pk", "status")[:chunk]
            )
            if not rows:
                return results
            results.append(handle(rows))
        last = rows[-1][0]


def pks_of(rows):
    return [pk for pk, _status in rows]


def change_status(rows, to, *, now, note, by=None, actor="system", request=None, **changes):
    """Move locked rows [(pk, status)] to `to` (and set `changes` on all of them) in one UPDATE, with one
    history entry and one audit entry each; returns the history entries (with their pks)."""
    check_transitions(rows, to)
    Application.objects.filter(pk__in=pks_of(rows)).update(status=to, **changes)
    return record_transitions(
        rows, to, now=now, notes=note, by=by, actor=actor, request=request, changes=dict.fromkeys(pks_of(rows), changes)
    )


def check_transitions(rows, to):
    for status in {status for _pk, status in rows}:
        if to not in TRANSITIONS[status]:
            raise InvalidTransition(f"{status} → {to}")


def record_transitions(rows, to, *, now, notes, by=None, actor="system", request=None, changes=None):
    """The history and audit entries of rows [(pk, former status)] just moved to `to` by an UPDATE (which
    sends no signal, so auditlog saw nothing). `notes` is one note or {pk: note}; `changes` {pk: {field: new
    value}} are the other fields the change set (empty before it, as decisions and payments find them)."""
    changes = changes or {}
    note_of = notes.get if isinstance(notes, dict) else lambda _pk: notes
    audit.record_bulk_changes(
        Application,
        {
            pk: {"status": (status, to), **{name: (None, value) for name, value in changes.get(pk, {}).items()}}
            for pk, status in rows
        },
        reprs=dict(Application.objects.filter(pk__in=pks_of(rows)).values_list("pk", "reference")),
        reason=str(notes) if not isinstance(notes, dict) else "",
        request=request,
    )
    return ApplicationEvent.objects.bulk_create(
        [
            ApplicationEvent(
                application_id=pk, at=now, by=by, actor=actor, from_status=status, to_status=to, note=note_of(pk)
            )
            for pk, status in rows
        ],
        batch_size=CHUNK,
    )


def with_email_context(pks):
    """The applications with what their emails show, in pk order: sessions and offices are few, so they are
    shared objects rather than joined into every row (building 2,000 copies of each costs more than the
    query)."""
    applications = list(
        Application.objects.filter(pk__in=pks).select_related("candidate").only(*EMAIL_FIELDS).order_by("pk")
    )
    sessions = ExamSession.objects.in_bulk({application.session_id for application in applications})
    offices = Office.objects.in_bulk({application.office_id for application in applications})
    for application in applications:
        application.session = sessions[application.session_id]
        application.office = offices[application.office_id]
    return applications


def emailed(key):
    """Whether the candidate email application:<pk>:<key> is in the outbox already (its unique key)."""
    dedup_key = Concat(
        Value("application:"), Cast(OuterRef("pk"), CharField()), Value(f":{key}"), output_field=CharField()
    )
    return Exists(OutboxMessage.objects.filter(dedup_key=dedup_key))


def candidate_emails(template_name, items):
    """The unsaved outbox rows Application.email_candidate would queue, for [(application, key, context)]:
    rendered one language at a time (render_emails)."""
    by_language = {}
    for item in items:
        by_language.setdefault(item[0].language, []).append(item)
    messages = []
    for language, group in by_language.items():
        rendered = render_emails(template_name, language, [{"application": a, **context} for a, _key, context in group])
        messages += [
            OutboxMessage(
                dedup_key=f"application:{application.pk}:{key}",
                recipient=application.email,
                language=application.language,
                template="message",
                context=text,
                office=application.office,
            )
            for (application, key, _context), text in zip(group, rendered, strict=True)
        ]
    return messages


def email_candidates(pks, template_name, key, **context):
    """Queue, once each, the same email for many applications; returns how many were queued now."""
    items = [(application, key, context) for application in with_email_context(pks)]
    return len(enqueue_emails(candidate_emails(template_name, items)))


def email_status_changes(events):
    """Application.notify_status for many history entries: one email each (key event:<pk>)."""
    applications = {a.pk: a for a in with_email_context([event.application_id for event in events])}
    items = [(applications[event.application_id], f"event:{event.pk}", {"event": event}) for event in events]
    return len(enqueue_emails(candidate_emails(STATUS_CHANGE, items)))


# Batch approval -------------------------------------------------------------------------------------------------


def approval_blocker(application, other_references=None):
    """Why a batch approval leaves this application alone, or None when it may be approved: it must be able
    to become approved, have its social-insurance months recorded and all its checks green, computed now on a
    copy (nothing is saved). `other_references` as for Application.run_checks."""
    if Status.APPROVED not in TRANSITIONS[application.status]:
        return _("status is “%(status)s”") % {"status": application.get_status_display()}
    if application.verified_insured_months is None:
        return _("verified social-insurance months not recorded")
    failed = [check.message for check in application.preview_checks(other_references) if not check.ok]
    if failed:
        return _("checks not green: %(checks)s") % {"checks": " ".join(str(message) for message in failed)}
    return None


def approve_batch(queryset, by, *, now, request=None):
    """Approve every application of `queryset` that approval_blocker lets through, as Application.approve
    does one (history, audit entry, email), in locked chunks; returns (approved pks, [(reference, reason)])."""
    approved, skipped = [], []

    def approve(rows):
        applications = list(
            Application.objects.filter(pk__in=pks_of(rows)).select_related("session", "candidate").order_by("pk")
        )
        others = Application.other_references_of(applications)
        ready = []
        for application in applications:
            reason = approval_blocker(application, others.get(application.pk, []))
            if reason is None:
                ready.append((application.pk, application.status))
            else:
                skipped.append((application.reference, reason))
        if ready:
            events = change_status(
                ready, Status.APPROVED, now=now, note="", by=by, actor="staff", request=request,
                decided_at=now, decided_by=by,
            )  # fmt: skip
            email_status_changes(events)
            approved.extend(pks_of(ready))

    in_locked_chunks(queryset, approve, chunk=500)
    return approved, skipped
