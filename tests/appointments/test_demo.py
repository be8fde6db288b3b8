"""The demo: its counters take visitors all day, so a candidate can book before the demo session's deadline."""

import pytest
from django.core.management import call_command

from appointments import booking as rules
from appointments.models import Booking, CounterSettings
from tests.appointments.helpers import at
from tickets.models import Kind, Ticket

pytestmark = pytest.mark.django_db


def test_the_demo_lets_a_candidate_book_an_exemption_visit_before_the_deadline(time_machine, settings):
    time_machine.move_to(at(2026, 6, 29, 21, 10))  # a Monday evening: the demo's deadline is the next morning
    settings.PORTAL_DEMO_ALLOWED = True
    call_command("demo")
    assert CounterSettings.objects.filter(office_id="650100").exists()
    ticket = Ticket.objects.filter(office_id="650100", kind=Kind.EXEMPTION, status="submitted").first()
    if ticket is None or rules.current_booking(ticket):
        ticket = Ticket.objects.filter(office_id="650100", status="submitted").exclude(bookings__status="booked")[0]
    slots = rules.available_slots(ticket)
    assert slots and all(ticket.deadline is None or s.ends_at <= ticket.deadline for s in slots)
    rules.book(ticket, slots[0].starts_at)
    assert Booking.objects.filter(status="booked").count() >= 2
