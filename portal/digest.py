"""The staff digest: one email a working day per reviewer and manager with open work, and one for regional staff
with every office's counts. It spans applications and requests (tickets), so it lives in the roof. Not a sweep:
beat runs it at 08:30 Beijing time (CELERY_BEAT_SCHEDULE, portal.tasks.send_staff_digests).
"""

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from applications.models import Application, ExamSession, Status
from notifications.models import OutboxMessage, enqueue_emails, render_email
from offices.models import REGIONAL_OFFICE_CODE, Office, Role, User
from offices.workdays import BEIJING, is_workday
from tickets.models import Status as TicketStatus
from tickets.models import Ticket

# References listed per section of a digest; the count always covers all of them.
DIGEST_REFERENCES = 50
# Sections of the digest: the open work of an office's own staff (applications, then requests), and the
# escalation queue (requests waiting for the regional office), counted in the regional digest only.
OFFICE_SECTIONS = ("due_today", "overdue", "undecided_after_close", "in_person", "tickets_due_today", "tickets_overdue")
REGIONAL_SECTIONS = ("escalated",)


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
        # Among the overdue, those whose candidates can no longer pay (told by sweeps.tell_undecided_at_payment_close).
        "undecided_after_close": Application.objects.undecided_after_close(ExamSession.objects.current(), now),
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
