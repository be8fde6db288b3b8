"""Sweeps of booked visits (settings.PORTAL_SWEEPS): safe to run twice, and after downtime.

The reminder goes the day before: from REMINDER_HOUR (Beijing time) on the day before the visit until the
visit starts; a visit booked after that moment needs none (its confirmation just went out), and a visit already
begun is skipped rather than reminded late. `reminded_at` is the claim, set in the same UPDATE that selects
the rows, so two runs never send twice (and the outbox key booking:<pk>:reminder stands behind it).
No-shows: a visit still `booked` when its slot ended PORTAL_VISIT_NO_SHOW_GRACE_MINUTES ago.
"""

import datetime

from django.conf import settings
from django.db import transaction

from . import booking as rules
from .models import BEIJING, Booking, Status

REMINDER_HOUR = datetime.time(9, 0)


def _reminder_moment_passed(now):
    """Slots starting before this moment are due for their reminder at `now`: those of today and tomorrow once
    it is REMINDER_HOUR today (Beijing), else those of today only."""
    local = now.astimezone(BEIJING)
    days = 2 if local.time() >= REMINDER_HOUR else 1
    return datetime.datetime.combine(local.date() + datetime.timedelta(days=days), datetime.time(), tzinfo=BEIJING)


def send_visit_reminders(now):
    due_before = _reminder_moment_passed(now)
    candidates = Booking.objects.filter(
        status=Status.BOOKED,
        reminded_at__isnull=True,
        slot__starts_at__gt=now,
        slot__starts_at__lt=due_before,
    )
    sent = 0
    with transaction.atomic():
        rows = list(
            candidates.select_for_update(skip_locked=True, of=("self",)).select_related(
                "slot", "ticket__office", "ticket__candidate", "application__office", "application__candidate"
            )
        )
        # A visit booked after its reminder moment had its confirmation moments ago: no reminder.
        due = []
        for booking in rows:
            day_before = booking.slot.starts_at.astimezone(BEIJING).date() - datetime.timedelta(days=1)
            moment = datetime.datetime.combine(day_before, REMINDER_HOUR, tzinfo=BEIJING)
            if booking.booked_at < moment:
                due.append(booking)
        Booking.objects.filter(pk__in=[b.pk for b in rows]).update(reminded_at=now)
        for booking in due:
            rules.email_booking(booking, "reminder", now)
            sent += 1
    return f"{sent} visit reminders queued, {len(rows) - sent} visits booked too late for one"


def mark_no_shows(now):
    grace = datetime.timedelta(minutes=settings.PORTAL_VISIT_NO_SHOW_GRACE_MINUTES)
    count = Booking.objects.filter(status=Status.BOOKED, slot__ends_at__lte=now - grace).update(
        status=Status.NO_SHOW, changed_at=now
    )
    return f"{count} visits marked as not attended"
