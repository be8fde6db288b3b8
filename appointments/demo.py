"""The demo's counters (manage.py demo): Ürümqi and Kashgar receive visitors all day long, so that whatever the
hour the demo is loaded at, a candidate can book a visit before the demo session's deadlines (which are relative
to that hour); one of Ürümqi's open requests has a visit booked, for today's visits."""

import contextlib
import datetime

from offices.models import Office
from tickets.models import Status as TicketStatus
from tickets.models import Ticket

from . import booking as rules
from .models import DEFAULT_KINDS, Booking, BookingRefused, ClosedDay, CounterSettings, Slot

DEMO_OFFICES = ["650100", "653100"]


def create_demo_counters(now):
    for office in Office.objects.filter(code__in=DEMO_OFFICES):
        CounterSettings.objects.update_or_create(
            office=office,
            defaults={
                "morning_start": datetime.time(7, 0),
                "morning_end": datetime.time(13, 0),
                "afternoon_start": datetime.time(13, 0),
                "afternoon_end": datetime.time(23, 30),
                "slot_minutes": 30,
                "counters": 2,
                "change_cutoff_hours": 1,
                "kinds": list(DEFAULT_KINDS),
                "visitor_note": "演示：请从正门进入，到二楼会计考试窗口。Demo: main entrance, 2nd floor, exam counter.",
            },
        )
    for ticket in Ticket.objects.filter(office_id=DEMO_OFFICES[0], status=TicketStatus.SUBMITTED).order_by("pk")[:2]:
        slots = rules.available_slots(ticket, now)
        if slots:
            with contextlib.suppress(BookingRefused):  # a slot taken meanwhile: the demo goes on without it
                rules.book(ticket, slots[0].starts_at, now)


def delete_demo_counters():
    Booking.objects.all().delete()
    Slot.objects.all().delete()
    ClosedDay.objects.all().delete()
    CounterSettings.objects.all().delete()
