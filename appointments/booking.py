"""The booking rules, one function each: which slots a request may book, booking, moving and cancelling from the
private status link, the check-in at the counter, and aligning future slots with changed hours or closed days.

Every change locks the request's row first (so two tabs of one candidate queue up), takes or gives back a place
by one conditional UPDATE of the slot row, writes a history line on the request and queues its email in the same
transaction (sent after commit).
"""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.templatetags.portal import moment
from offices import workdays

from .calendar_file import booking_calendar, uid_for
from .models import BEIJING, Booking, BookingRefused, ClosedDay, CounterSettings, Slot, Status
from .visitors import visitor_of

ALTERNATIVES = 6


def _local(moment):
    return timezone.localtime(moment, BEIJING)


def window(ticket, counter_settings, now):
    """(first day, last day, deadline) a request may book in: from today, for the office's bookable days,
    never past the request's in-person deadline (a slot must end by then)."""
    today = _local(now).date()
    last = today + datetime.timedelta(days=counter_settings.days_ahead)
    if ticket.deadline is not None:
        last = min(last, _local(ticket.deadline).date())
    return today, last, ticket.deadline


def bookable_days(office, first, last):
    closed = set(ClosedDay.objects.filter(office=office, date__range=(first, last)).values_list("date", flat=True))
    return [day for day in workdays.workdays_between(first, last) if day not in closed]


def _fits(start, counter_settings, deadline, now):
    end = start + datetime.timedelta(minutes=counter_settings.slot_minutes)
    return start > now and (deadline is None or end <= deadline)


def refusal(ticket, counter_settings, now):
    """Why this request cannot book at all now (None when it can)."""
    ticket = visitor_of(ticket)
    if not ticket.is_open:
        return _("This request is closed: no visit to book.")
    if not counter_settings.needs_visit(ticket.kind):
        return _("This kind of request needs no booked visit: come during office hours.")
    if ticket.deadline is not None and now >= ticket.deadline:
        return _("The deadline of this request has passed.")
    return None


def available_slots(ticket, now=None, *, counter_settings=None):
    """The slots this request may book, in order, with their free places."""
    ticket = visitor_of(ticket)
    now = now or timezone.now()
    counter_settings = counter_settings or CounterSettings.for_office(ticket.office)
    if refusal(ticket, counter_settings, now):
        return []
    first, last, deadline = window(ticket, counter_settings, now)
    starts = [
        start
        for day in bookable_days(ticket.office, first, last)
        for start in counter_settings.starts_on(day)
        if _fits(start, counter_settings, deadline, now)
    ]
    if not starts:
        return []
    slots = Slot.ensure(ticket.office, counter_settings, starts)
    return [slot for slot in slots if slot.free > 0]


def _check_start(ticket, counter_settings, start, now):
    """The start must be one of the office's slots on a bookable day, in the future and before the deadline."""
    problem = refusal(ticket, counter_settings, now)
    if problem:
        raise BookingRefused(problem, code="closed")
    if start <= now:
        raise BookingRefused(_("This time has passed. Choose a later one."), code="past")
    if ticket.deadline is not None and start + datetime.timedelta(minutes=counter_settings.slot_minutes) > (
        ticket.deadline
    ):
        raise BookingRefused(
            _("This time is after the deadline of the request (%(deadline)s, Beijing time).")
            % {"deadline": moment(ticket.deadline)},
            code="deadline",
        )
    day = _local(start).date()
    first, last, _deadline = window(ticket, counter_settings, now)
    if not (first <= day <= last) or day not in bookable_days(ticket.office, day, day):
        raise BookingRefused(_("The office does not receive visitors on this day."), code="closed_day")
    if not counter_settings.is_start(start):
        raise BookingRefused(_("This is not one of the office's visiting times."), code="not_a_slot")


def _slot_for(ticket, counter_settings, start):
    """The slot row of `start`, made on first use (the common case, a row already there, is one query)."""
    return Slot.ensure(ticket.office, counter_settings, [start])[0]


def _take_place(slot):
    """One conditional UPDATE: PostgreSQL re-checks `booked < capacity` on the row once a competing booking
    commits, so exactly `capacity` bookings win; the CheckConstraint stands behind it."""
    if not Slot.objects.filter(pk=slot.pk, booked__lt=F("capacity")).update(booked=F("booked") + 1):
        raise BookingRefused(
            _("Sorry, the last place at %(time)s was just taken. Choose another time.")
            % {"time": moment(slot.starts_at)},
            code="full",
        )
    return slot


def _offer_others(refused, ticket, start, now, counter_settings):
    """A refusal because the slot was full offers other free times, read after the refused transaction has rolled
    back (not while the request's row is locked, nor from a move's half-done state)."""
    if refused.code == "full":
        current = current_booking(ticket)  # a move's own visit is no other time
        taken = {start, current.slot.starts_at} if current is not None else {start}
        available = available_slots(ticket, now, counter_settings=counter_settings)
        refused.alternatives = [slot for slot in available if slot.starts_at not in taken][:ALTERNATIVES]
    return refused


def _give_back(slot_id):
    Slot.objects.filter(pk=slot_id, booked__gt=0).update(booked=F("booked") - 1)


def current_booking(ticket):
    return visitor_of(ticket).bookings().filter(status=Status.BOOKED).select_related("slot").first()


def book(ticket, start, now=None, counter_settings=None):
    """Book the visit of a request or an application at `start` (an aware datetime); BookingRefused says why not."""
    ticket = visitor_of(ticket)
    now = now or timezone.now()
    counter_settings = counter_settings or CounterSettings.for_office(ticket.office)
    _check_start(ticket, counter_settings, start, now)
    try:
        with transaction.atomic():
            locked = ticket.locked()
            if current_booking(locked) is not None:
                raise BookingRefused(_("This request has a booked visit already: move it instead."), code="booked")
            slot = _take_place(_slot_for(locked, counter_settings, start))
            booking = Booking.objects.create(
                **{locked.field: locked.record}, slot=slot, office_id=locked.office_id, booked_at=now
            )
            locked.note(_("Visit booked for %(time)s.") % {"time": moment(start)}, now, actor="candidate")
            email_booking(booking, "booked", now)
    except BookingRefused as refused:
        raise _offer_others(refused, ticket, start, now, counter_settings) from None
    except IntegrityError:
        raise BookingRefused(_("This request has a booked visit already: move it instead."), code="booked") from None
    return booking


def _changeable(booking, counter_settings, now):
    if booking is None:
        raise BookingRefused(_("This request has no booked visit."), code="none")
    if not counter_settings.can_change(booking, now):
        raise BookingRefused(
            _("The visit can be moved or cancelled until %(hours)s hours before it; call the office instead.")
            % {"hours": counter_settings.change_cutoff_hours},
            code="cutoff",
        )


def move(ticket, start, now=None, counter_settings=None):
    """Move the booked visit to `start`; the old place is given back in the same transaction."""
    ticket = visitor_of(ticket)
    now = now or timezone.now()
    counter_settings = counter_settings or CounterSettings.for_office(ticket.office)
    _check_start(ticket, counter_settings, start, now)
    try:
        with transaction.atomic():
            locked = ticket.locked()
            old = current_booking(locked)
            _changeable(old, counter_settings, now)
            if old.slot.starts_at == start:
                return old
            slot = _slot_for(locked, counter_settings, start)
            # Both slot rows locked in one order (by id): two candidates swapping times never deadlock.
            list(Slot.objects.select_for_update().filter(pk__in=[old.slot_id, slot.pk]).order_by("pk"))
            Booking.objects.filter(pk=old.pk).update(status=Status.MOVED, changed_at=now)
            _give_back(old.slot_id)
            slot = _take_place(slot)
            booking = Booking.objects.create(
                **{locked.field: locked.record}, slot=slot, office_id=locked.office_id, booked_at=now
            )
            locked.note(
                _("Visit moved from %(old)s to %(new)s.") % {"old": moment(old.slot.starts_at), "new": moment(start)},
                now,
                actor="candidate",
            )
            email_booking(booking, "moved", now)
    except BookingRefused as refused:
        raise _offer_others(refused, ticket, start, now, counter_settings) from None
    return booking


def cancel(ticket, now=None):
    ticket = visitor_of(ticket)
    now = now or timezone.now()
    counter_settings = CounterSettings.for_office(ticket.office)
    with transaction.atomic():
        locked = ticket.locked()
        booking = current_booking(locked)
        _changeable(booking, counter_settings, now)
        Booking.objects.filter(pk=booking.pk).update(status=Status.CANCELLED, changed_at=now)
        _give_back(booking.slot_id)
        booking.status = Status.CANCELLED
        cancelled = _("Visit of %(time)s cancelled.") % {"time": moment(booking.slot.starts_at)}
        locked.note(cancelled, now, actor="candidate")
        email_booking(booking, "cancelled", now)
    return booking


def check_in(booking, by, now=None):
    """The candidate is at the counter: their visit of today is checked in (once)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = booking.visitor.locked()
        updated = Booking.objects.filter(pk=booking.pk, status__in=(Status.BOOKED, Status.NO_SHOW)).update(
            status=Status.CHECKED_IN, checked_in_at=now, checked_in_by=by
        )
        if not updated:
            return False
        locked.note(
            _("Checked in at the counter (visit of %(time)s).") % {"time": moment(booking.slot.starts_at)},
            now,
            by=by,
            actor="staff",
        )
    return True


def todays_booking(ticket, now=None):
    ticket = visitor_of(ticket)
    day = _local(now or timezone.now()).date()
    return (
        Booking.objects.on_day(day)
        .filter(**{ticket.field: ticket.record}, status__in=(Status.BOOKED, Status.NO_SHOW, Status.CHECKED_IN))
        .select_related("slot")
        .first()
    )


# Changed hours, counters or closed days ----------------------------------------------------------------------


def reconcile_office(office, now=None):
    """Align the office's future slots with its settings and closed days. A slot no longer in the hours (or on a
    closed day) gets capacity 0; a slot with fewer counters than bookings keeps the earliest bookings. Bookings
    that no longer fit become `displaced` and their candidates are emailed an offer to book again. Returns the
    displaced bookings (for the staff's message); safe to run twice."""
    now = now or timezone.now()
    counter_settings = CounterSettings.for_office(office)
    closed = set(ClosedDay.objects.filter(office=office, date__gte=_local(now).date()).values_list("date", flat=True))
    displaced = []
    with transaction.atomic():
        slots = Slot.objects.select_for_update().filter(office=office, starts_at__gt=now).order_by("starts_at")
        for slot in slots:
            day = _local(slot.starts_at).date()
            in_hours = day not in closed and counter_settings.is_start(slot.starts_at)
            capacity = counter_settings.counters if in_hours else 0
            ends_at = slot.starts_at + datetime.timedelta(minutes=counter_settings.slot_minutes)
            if capacity == slot.capacity and (ends_at == slot.ends_at or not in_hours):
                continue
            live = list(
                slot.bookings.filter(status=Status.BOOKED)
                .select_related(
                    "ticket__office",
                    "ticket__candidate",
                    "application__office",
                    "application__candidate",
                    "application__session",
                )
                .order_by("booked_at", "pk")
            )
            # A slot of another length is a different visit: all its bookings need a new time.
            keep = capacity if ends_at == slot.ends_at else 0
            too_many = live[keep:]
            if too_many:
                Booking.objects.filter(pk__in=[b.pk for b in too_many]).update(status=Status.DISPLACED, changed_at=now)
                for booking in too_many:
                    booking.status, booking.slot = Status.DISPLACED, slot
                    booking.visitor.note(
                        _("The office changed its visiting times: the visit of %(time)s needs a new time.")
                        % {"time": moment(slot.starts_at)},
                        now,
                        actor="system",
                    )
                    email_booking(booking, "displaced", now)
                displaced += too_many
            Slot.objects.filter(pk=slot.pk).update(
                capacity=capacity, booked=len(live) - len(too_many), ends_at=ends_at if in_hours else slot.ends_at
            )
    return displaced


# Emails ----------------------------------------------------------------------------------------------------------

EMAIL_TEMPLATES = {
    "booked": "appointments/email/booked",
    "moved": "appointments/email/booked",
    "cancelled": "appointments/email/cancelled",
    "displaced": "appointments/email/displaced",
    "reminder": "appointments/email/reminder",
}


def calendar_attachment(booking, now, cancel=False):
    ticket = booking.visitor
    with translation.override(ticket.language):
        office = ticket.office
        content = booking_calendar(
            uid=uid_for(ticket),
            sequence=ticket.bookings().count(),
            starts_at=booking.slot.starts_at,
            ends_at=booking.slot.ends_at,
            summary=_("Visit at the exam office: %(ref)s") % {"ref": ticket.reference},
            location=f"{office.name} {office.address}".strip(),
            description=_("Bring your ID and the materials listed on the form. Status: %(url)s")
            % {"url": ticket.status_url},
            now=now,
            cancel=cancel,
        )
    return {"filename": f"{ticket.reference}.ics", "content": content, "mimetype": "text/calendar"}


def email_booking(booking, what, now):
    """Queue the candidate's email about a booking (once per booking and kind of email)."""
    from notifications.models import enqueue_email, render_email

    ticket = booking.visitor
    context = render_email(
        EMAIL_TEMPLATES[what],
        ticket.language,
        {"ticket": ticket, "booking": booking, "what": what, "starts_at": booking.slot.starts_at},
    )
    if what in ("booked", "moved", "reminder", "cancelled"):
        context["attachments"] = [calendar_attachment(booking, now, cancel=what == "cancelled")]
    enqueue_email(
        key=f"booking:{booking.pk}:{what}",
        recipient=ticket.email,
        language=ticket.language,
        template="message",
        context=context,
        office=ticket.office,
    )
