"""Retention of uploaded files: deleted PORTAL_UPLOAD_RETENTION_DAYS days after their session's exam.

Scans of certificates, social-insurance records and passports are needed for the review and for
questions after the exam, not for ever. From the day that is PORTAL_UPLOAD_RETENTION_DAYS days after the
session's last exam day, the sweep deletes the files of the session's applications and requests; a
request without a session keeps its files that many days after it was closed (an open request keeps
them). Each row is locked, its files deleted and its fields cleared in one transaction, with a history
note (shown in the admin) and an audit entry (the field change, written by django-auditlog): a second
run finds nothing left, and a run that failed halfway is finished by the next one.
"""

import datetime

from auditlog.context import set_extra_data
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from offices.workdays import BEIJING

# Upload field → the field holding the name the candidate gave it (cleared with the file: names say a lot).
APPLICATION_FILES = {
    "insurance_pdf": "insurance_pdf_name",
    "degree_certificate": "degree_certificate_name",
    "passport_copy": "passport_copy_name",
}
TICKET_DETAIL_FILES = {
    "info_change": {"proof": "proof_name", "new_photo": None},
    "cert_deletion": {"statement_scan": "statement_scan_name"},
    "refund": {"receipt": "receipt_name"},
}


def retention_days():
    return datetime.timedelta(days=settings.PORTAL_UPLOAD_RETENTION_DAYS)


def expired_sessions(now):
    """Sessions whose last exam day was at least the retention period before `now` (a Beijing date)."""
    from applications.models import ExamSession

    today = now.astimezone(BEIJING).date()
    return ExamSession.objects.filter(exam_last_day__lte=today - retention_days())


def _has_file(fields):
    query = Q()
    for field in fields:
        query |= ~Q(**{field: ""}) & Q(**{f"{field}__isnull": False})
    return query


def delete_expired_uploads(now):
    """The sweep (settings.PORTAL_SWEEPS): `function(now) -> summary`."""
    applications = _delete_application_files(now)
    tickets = _delete_ticket_files(now)
    return f"uploads deleted after the retention period: {applications} applications, {tickets} requests"


def _delete_application_files(now):
    from applications.models import Application, ApplicationEvent

    expired = Application.objects.filter(session__in=expired_sessions(now)).filter(_has_file(APPLICATION_FILES))
    count = 0
    for pk in expired.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            application = Application.objects.select_for_update().filter(pk=pk).first()
            deleted = _clear_files(application, APPLICATION_FILES) if application else []
            if deleted:
                ApplicationEvent.objects.create(
                    application=application,
                    at=now,
                    actor="system",
                    from_status=application.status,
                    to_status=application.status,
                    note=_note(application, deleted),
                )
                count += 1
    return count


def _delete_ticket_files(now):
    from tickets.models import OPEN_STATUSES, Ticket, TicketEvent

    cutoff = now - retention_days()
    closed = Ticket.objects.exclude(status__in=OPEN_STATUSES)
    expired = closed.filter(Q(session__in=expired_sessions(now)) | Q(session__isnull=True, closed_at__lte=cutoff))
    count = 0
    for related_name, files in TICKET_DETAIL_FILES.items():
        with_files = expired.filter(kind=_kind_of(related_name)).filter(
            _has_file(f"{related_name}__{field}" for field in files)
        )
        for pk in with_files.values_list("pk", flat=True).iterator():
            with transaction.atomic():
                ticket = Ticket.objects.select_for_update().filter(pk=pk).first()
                detail = getattr(ticket, related_name, None) if ticket else None
                deleted = _clear_files(detail, files) if detail else []
                if deleted:
                    TicketEvent.objects.create(
                        ticket=ticket,
                        at=now,
                        actor="system",
                        from_status=ticket.status,
                        to_status=ticket.status,
                        note=_note(detail, deleted),
                    )
                    count += 1
    return count


def _kind_of(related_name):
    from tickets.models import DETAIL_RELATED_NAME

    return next(kind for kind, name in DETAIL_RELATED_NAME.items() if name == related_name)


def _clear_files(instance, files):
    """Delete the stored files and clear their fields (and the names given to them); the field names cleared."""
    deleted, changed = [], []
    for field, name_field in files.items():
        stored = getattr(instance, field)
        if not stored:
            continue
        # A file already gone (an earlier run that failed before its commit) is fine: the field is cleared now.
        stored.storage.delete(stored.name)
        setattr(instance, field, "")
        deleted.append(field)
        changed.append(field)
        if name_field:
            setattr(instance, name_field, "")
            changed.append(name_field)
    if changed:
        # save(): django-auditlog records the change (file name → empty) as an entry without an actor.
        with set_extra_data(context_data={"additional_data": {"reason": _("Retention period over: files deleted")}}):
            instance.save(update_fields=changed)
    return deleted


def _note(instance, deleted):
    labels = ", ".join(str(instance._meta.get_field(field).verbose_name) for field in deleted)
    return _("Uploaded files deleted after the retention period (%(days)d days): %(files)s.") % {
        "days": settings.PORTAL_UPLOAD_RETENTION_DAYS,
        "files": labels,
    }
