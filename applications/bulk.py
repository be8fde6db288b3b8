"""The candidates' emails about many applications at once, rendered one language at a time and copied into the
outbox in bulk: what the transition engine (applications/workflow.py) and the sweeps queue. So 50,000 rows cost
queries per thousand rows, not per row.
"""

from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import OutboxMessage, enqueue_emails, render_emails
from offices.models import Office

from .models import Application, ExamSession

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


def payment_note(payment):
    return _("Payment %(code)s at %(at)s") % {"code": payment.payment_code, "at": timezone.localtime(payment.paid_at)}
