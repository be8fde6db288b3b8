"""The reminder the day before and the no-show sweep (idempotent, catch-up safe), and changes of hours, counters
or closed days: affected bookings are listed and emailed, never dropped silently."""

import datetime

import pytest

from appointments import booking as rules
from appointments import sweeps
from appointments.models import Booking, ClosedDay, CounterSettings, Slot, Status
from notifications.models import OutboxMessage
from portal import sweeps as registry
from tests.appointments.helpers import at, password_reset

pytestmark = pytest.mark.django_db

THURSDAY = at(2024, 6, 20, 8)


def booked(office, start, now=THURSDAY):
    return rules.book(password_reset(office, now=now), start, now)


def reminders():
    return OutboxMessage.objects.filter(dedup_key__endswith=":reminder")


def test_the_sweeps_are_registered():
    paths = [path for path, _sweep in registry.registered_sweeps()]
    assert "appointments.sweeps.send_visit_reminders" in paths and "appointments.sweeps.mark_no_shows" in paths


def test_the_reminder_goes_the_day_before_once(urumqi):
    visit = booked(urumqi, at(2024, 6, 25, 10))  # Tuesday
    assert sweeps.send_visit_reminders(at(2024, 6, 24, 8, 59)).startswith("0 ")
    assert sweeps.send_visit_reminders(at(2024, 6, 24, 9)).startswith("1 ")
    assert sweeps.send_visit_reminders(at(2024, 6, 24, 9, 1)).startswith("0 ")
    message = reminders().get()
    assert message.dedup_key == f"booking:{visit.pk}:reminder" and message.email().attachments


def test_after_downtime_the_reminder_is_caught_up_until_the_visit_then_skipped(urumqi):
    soon = booked(urumqi, at(2024, 6, 25, 16))
    missed = booked(urumqi, at(2024, 6, 25, 10))
    # The beat was down from Monday morning until Tuesday 12:00: the 10:00 visit is over, the 16:00 one is not.
    sweeps.send_visit_reminders(at(2024, 6, 25, 12))
    assert list(reminders().values_list("dedup_key", flat=True)) == [f"booking:{soon.pk}:reminder"]
    assert Booking.objects.get(pk=missed.pk).reminded_at is None


def test_a_visit_booked_after_its_reminder_moment_gets_none(urumqi):
    booked(urumqi, at(2024, 6, 21, 10), now=at(2024, 6, 20, 15))
    assert "0 visit reminders queued, 1 visits booked too late" in sweeps.send_visit_reminders(at(2024, 6, 20, 15, 1))
    assert not reminders().exists()


def test_no_shows_after_the_slot_and_the_grace(urumqi, reviewer_urumqi):
    absent = booked(urumqi, at(2024, 6, 21, 10))
    present = booked(urumqi, at(2024, 6, 21, 10))
    rules.check_in(present, reviewer_urumqi, at(2024, 6, 21, 10, 5))
    assert sweeps.mark_no_shows(at(2024, 6, 21, 10, 59)) == "0 visits marked as not attended"
    assert sweeps.mark_no_shows(at(2024, 6, 21, 11)) == "1 visits marked as not attended"
    assert sweeps.mark_no_shows(at(2024, 6, 21, 11, 5)) == "0 visits marked as not attended"
    assert Booking.objects.get(pk=absent.pk).status == Status.NO_SHOW
    assert Booking.objects.get(pk=present.pk).status == Status.CHECKED_IN


def test_a_new_closed_day_displaces_its_bookings_and_emails_them(urumqi):
    first = booked(urumqi, at(2024, 6, 25, 10))
    other_day = booked(urumqi, at(2024, 6, 26, 10))
    ClosedDay.objects.create(office=urumqi, date=at(2024, 6, 25).date())
    displaced = rules.reconcile_office(urumqi, THURSDAY)
    assert [b.pk for b in displaced] == [first.pk]
    assert Booking.objects.get(pk=first.pk).status == Status.DISPLACED
    assert Booking.objects.get(pk=other_day.pk).status == Status.BOOKED
    assert Slot.objects.get(starts_at=at(2024, 6, 25, 10)).capacity == 0
    assert OutboxMessage.objects.filter(dedup_key=f"booking:{first.pk}:displaced").exists()
    assert rules.reconcile_office(urumqi, THURSDAY) == []  # safe to run twice
    # The candidate books again, on another day.
    rules.book(first.ticket, at(2024, 6, 27, 10), THURSDAY)


def test_fewer_counters_keep_the_earliest_bookings(urumqi):
    visits = [booked(urumqi, at(2024, 6, 25, 10)) for _ in range(2)]
    CounterSettings.objects.create(office=urumqi, counters=1, kinds=["password_reset"])
    displaced = rules.reconcile_office(urumqi, THURSDAY)
    assert [b.pk for b in displaced] == [visits[1].pk]
    slot = Slot.objects.get(starts_at=at(2024, 6, 25, 10))
    assert (slot.capacity, slot.booked) == (1, 1)


def test_shorter_hours_displace_the_slots_outside_them(urumqi):
    late = booked(urumqi, at(2024, 6, 25, 19))
    CounterSettings.objects.create(office=urumqi, afternoon_end=datetime.time(18), kinds=["password_reset"])
    assert [b.pk for b in rules.reconcile_office(urumqi, THURSDAY)] == [late.pk]


def test_a_new_slot_length_displaces_the_old_visits_and_the_times_stay_bookable(urumqi):
    old = booked(urumqi, at(2024, 6, 25, 10))
    CounterSettings.objects.create(office=urumqi, slot_minutes=20, kinds=["password_reset"])
    assert [b.pk for b in rules.reconcile_office(urumqi, THURSDAY)] == [old.pk]
    slot = Slot.objects.get(starts_at=at(2024, 6, 25, 10))
    assert (slot.capacity, slot.booked, slot.ends_at) == (2, 0, at(2024, 6, 25, 10, 20))
    again = rules.book(old.ticket, at(2024, 6, 25, 10), THURSDAY)
    assert again.slot == slot
    rules.book(password_reset(urumqi, now=THURSDAY), at(2024, 6, 25, 10, 20), THURSDAY)
