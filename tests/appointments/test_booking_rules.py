"""Which times a request may book, and booking, moving and cancelling by the rules (appointments/booking.py)."""

import email

import pytest

from appointments import booking as rules
from appointments.models import Booking, BookingRefused, ClosedDay, CounterSettings, Slot, Status
from notifications.models import OutboxMessage
from tests.appointments.helpers import MONDAY, at, exemption, password_reset

pytestmark = pytest.mark.django_db


def starts(slots):
    return [slot.starts_at for slot in slots]


def test_slots_are_on_working_days_within_the_kinds_window_and_end_by_the_deadline(urumqi):
    ticket = exemption(urumqi)
    slots = rules.available_slots(ticket, MONDAY)
    days = {slot.starts_at.astimezone(at(2024, 1, 1).tzinfo).date().isoformat() for slot in slots}
    assert days == {"2024-07-01", "2024-07-02"}
    last_day = [s for s in starts(slots) if s >= at(2024, 7, 2)]
    # 12:00 on the last day: the 11:30 slot ends at 12:00 and is the last one.
    assert last_day == [at(2024, 7, 2, 10), at(2024, 7, 2, 10, 30), at(2024, 7, 2, 11), at(2024, 7, 2, 11, 30)]
    assert all(slot.free == 2 for slot in slots)


def test_a_request_without_deadline_books_the_office_days_ahead_but_never_a_weekend(urumqi):
    ticket = password_reset(urumqi, now=at(2024, 6, 20, 9))
    slots = rules.available_slots(ticket, at(2024, 6, 20, 9))
    days = {s.starts_at.astimezone(at(2024, 1, 1).tzinfo).date() for s in slots}
    assert min(days).isoformat() == "2024-06-20" and max(days).isoformat() == "2024-07-04"
    assert all(day.weekday() < 5 for day in days)  # no make-up working day in this fortnight


def test_booking_in_the_past_on_a_closed_day_after_the_deadline_or_off_the_grid_is_refused(urumqi):
    ticket = exemption(urumqi)
    ClosedDay.objects.create(office=urumqi, date=at(2024, 7, 1).date(), note="move")
    cases = {
        "past": at(2024, 6, 28, 10),
        "closed_day": at(2024, 7, 1, 10),
        "deadline": at(2024, 7, 2, 12),
        "not_a_slot": at(2024, 7, 2, 10, 10),
    }
    for code, start in cases.items():
        with pytest.raises(BookingRefused) as refused:
            rules.book(ticket, start, MONDAY)
        assert refused.value.code == code, start
    assert not Booking.objects.exists() and not Slot.objects.filter(booked__gt=0).exists()


def test_a_weekend_is_not_bookable(urumqi):
    ticket = password_reset(urumqi, now=at(2024, 6, 20, 9))
    with pytest.raises(BookingRefused) as refused:
        rules.book(ticket, at(2024, 6, 22, 10), at(2024, 6, 20, 9))  # Saturday
    assert refused.value.code == "closed_day"


def test_booking_takes_a_place_writes_history_and_emails_an_ics(urumqi):
    ticket = exemption(urumqi)
    booking = rules.book(ticket, at(2024, 7, 2, 11, 30), MONDAY)
    assert booking.status == Status.BOOKED and booking.slot.booked == 1 or Slot.objects.get().booked == 1
    assert ticket.events.filter(note__contains="2024-07-02 11:30").exists()
    message = OutboxMessage.objects.get(dedup_key=f"booking:{booking.pk}:booked")
    mail = message.email()
    assert "2024-07-02 11:30" in mail.subject
    (name, content, mimetype) = mail.attachments[0]
    assert name == f"{ticket.reference}.ics" and mimetype == "text/calendar"
    assert "DTSTART:20240702T033000Z" in content and "DTEND:20240702T040000Z" in content
    assert all(len(line.encode()) <= 75 for line in content.split("\r\n"))
    parsed = email.message_from_bytes(mail.message().as_bytes())
    assert any(part.get_content_type() == "text/calendar" for part in parsed.walk())


def test_one_booked_visit_per_request(urumqi):
    ticket = exemption(urumqi)
    rules.book(ticket, at(2024, 7, 1, 10), MONDAY)
    with pytest.raises(BookingRefused) as refused:
        rules.book(ticket, at(2024, 7, 1, 11), MONDAY)
    assert refused.value.code == "booked"


def test_a_full_slot_refuses_with_other_free_slots(urumqi):
    CounterSettings.objects.create(office=urumqi, counters=1, kinds=["exemption"])
    first, second = exemption(urumqi), exemption(urumqi)
    rules.book(first, at(2024, 7, 2, 11, 30), MONDAY)
    with pytest.raises(BookingRefused) as refused:
        rules.book(second, at(2024, 7, 2, 11, 30), MONDAY)
    assert refused.value.code == "full"
    assert refused.value.alternatives and at(2024, 7, 2, 11, 30) not in starts(refused.value.alternatives)
    assert Slot.objects.get(starts_at=at(2024, 7, 2, 11, 30)).booked == 1


def test_move_and_cancel_until_the_cutoff(urumqi):
    ticket = exemption(urumqi)
    rules.book(ticket, at(2024, 7, 1, 16), MONDAY)
    moved = rules.move(ticket, at(2024, 7, 2, 10), at(2024, 7, 1, 13, 59))
    assert Booking.objects.filter(ticket=ticket, status=Status.MOVED).count() == 1
    assert Slot.objects.get(starts_at=at(2024, 7, 1, 16)).booked == 0
    assert Slot.objects.get(starts_at=at(2024, 7, 2, 10)).booked == 1
    assert OutboxMessage.objects.filter(dedup_key=f"booking:{moved.pk}:moved").exists()
    # Two hours before 10:00 the visit can no longer be moved or cancelled.
    with pytest.raises(BookingRefused) as refused:
        rules.cancel(ticket, at(2024, 7, 2, 8))
    assert refused.value.code == "cutoff"
    with pytest.raises(BookingRefused):
        rules.move(ticket, at(2024, 7, 2, 11), at(2024, 7, 2, 8, 30))
    rules.cancel(ticket, at(2024, 7, 2, 7, 59))
    assert Slot.objects.get(starts_at=at(2024, 7, 2, 10)).booked == 0
    assert Booking.objects.get(ticket=ticket, slot__starts_at=at(2024, 7, 2, 10)).status == Status.CANCELLED


def test_a_kind_the_office_does_not_book_gets_no_slots(urumqi):
    CounterSettings.objects.create(office=urumqi, kinds=["exemption"])
    ticket = password_reset(urumqi)
    assert rules.available_slots(ticket, MONDAY) == []
    with pytest.raises(BookingRefused) as refused:
        rules.book(ticket, at(2024, 7, 1, 10), MONDAY)
    assert refused.value.code == "closed"


def test_a_closed_request_books_nothing(urumqi, reviewer_urumqi):
    ticket = exemption(urumqi)
    ticket.reject(reviewer_urumqi, "not eligible", now=MONDAY)
    ticket.refresh_from_db()
    assert rules.available_slots(ticket, MONDAY) == []
