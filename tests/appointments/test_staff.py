"""Staff: today's visits of their office, the check-in by reference (which opens the request), walk-ins, the
changelist's fixed number of queries, and office scoping of visits, hours and closed days."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments import booking as rules
from appointments.models import Booking, ClosedDay, CounterSettings, Status
from notifications.models import OutboxMessage
from tests.appointments.helpers import at, password_reset

pytestmark = pytest.mark.django_db

TODAY = "/admin/appointments/booking/today/"
BOOKINGS = "/admin/appointments/booking/"
BOOKED_AT = at(2024, 6, 20, 8)


def visit(office, start=None):
    ticket = password_reset(office, now=BOOKED_AT)
    return rules.book(ticket, start or at(2024, 6, 21, 10), BOOKED_AT)


def test_todays_visits_lists_the_office_with_masked_names(client_of, reviewer_urumqi, urumqi, kashgar, time_machine):
    ours, theirs = visit(urumqi), visit(kashgar)
    time_machine.move_to(at(2024, 6, 21, 9))
    response = client_of(reviewer_urumqi).get(TODAY)
    assert response.status_code == 200
    page = response.content.decode()
    assert ours.ticket.reference in page and theirs.ticket.reference not in page
    name = ours.ticket.candidate.name
    assert name not in page and name[0] + "*" * (len(name) - 1) in page
    assert "10:00" in page


def test_check_in_by_reference_opens_the_request(client_of, reviewer_urumqi, urumqi, time_machine):
    booking = visit(urumqi)
    time_machine.move_to(at(2024, 6, 21, 9, 55))
    response = client_of(reviewer_urumqi).post(TODAY, {"reference": booking.ticket.reference.lower()})
    assert response.status_code == 302 and response.url == f"/admin/tickets/ticket/{booking.ticket_id}/change/"
    booking.refresh_from_db()
    assert booking.status == Status.CHECKED_IN and booking.checked_in_by == reviewer_urumqi
    page = client_of(reviewer_urumqi).get(response.url).content.decode()
    assert "2024-06-21 10:00" in page and "2024-06-21 09:55" in page
    assert booking.ticket.events.filter(by=reviewer_urumqi).exists()


def test_a_walk_in_without_a_slot_is_still_served(client_of, reviewer_urumqi, urumqi, time_machine):
    ticket = password_reset(urumqi, now=BOOKED_AT)
    time_machine.move_to(at(2024, 6, 21, 9))
    response = client_of(reviewer_urumqi).post(TODAY, {"reference": ticket.reference})
    assert response.url == f"/admin/tickets/ticket/{ticket.pk}/change/"
    assert not Booking.objects.exists()


def test_another_offices_reference_is_not_found(client_of, reviewer_kashgar, urumqi, time_machine):
    booking = visit(urumqi)
    time_machine.move_to(at(2024, 6, 21, 9, 55))
    response = client_of(reviewer_kashgar).post(TODAY, {"reference": booking.ticket.reference}, follow=True)
    assert response.redirect_chain[-1][0] == TODAY
    booking.refresh_from_db()
    assert booking.status == Status.BOOKED


def test_the_visits_changelist_is_scoped_and_runs_a_fixed_number_of_queries(
    client_of, reviewer_urumqi, regional_admin, urumqi, kashgar
):
    for _ in range(2):
        visit(urumqi)
    visit(kashgar)
    client = client_of(reviewer_urumqi)
    client.get(BOOKINGS)  # warm the session and the content types
    with CaptureQueriesContext(connection) as few:
        response = client.get(BOOKINGS)
    assert {b.office_id for b in response.context["cl"].result_list} == {"650100"}
    for start in (at(2024, 6, 21, 10, 30), at(2024, 6, 21, 11), at(2024, 6, 24, 10)):
        visit(urumqi, start)
    with CaptureQueriesContext(connection) as more:
        client.get(BOOKINGS)
    assert len(more) == len(few)
    assert len(client_of(regional_admin).get(BOOKINGS).context["cl"].result_list) == 6


def test_a_manager_edits_the_hours_and_closes_a_day_and_sees_the_affected_visits(
    client_of, manager_urumqi, urumqi, time_machine
):
    time_machine.move_to(BOOKED_AT)
    booking = visit(urumqi)
    client = client_of(manager_urumqi)
    response = client.post(
        "/admin/appointments/closedday/add/", {"office": "650100", "date": "2024-06-21", "note": "moving"}, follow=True
    )
    assert response.status_code == 200
    assert booking.ticket.reference in response.content.decode()
    assert Booking.objects.get(pk=booking.pk).status == Status.DISPLACED
    assert OutboxMessage.objects.filter(dedup_key=f"booking:{booking.pk}:displaced").exists()
    response = client.post(
        "/admin/appointments/countersettings/add/",
        {
            "office": "650100",
            "morning_start": "09:30",
            "morning_end": "13:30",
            "afternoon_start": "16:00",
            "afternoon_end": "19:30",
            "slot_minutes": "20",
            "counters": "3",
            "change_cutoff_hours": "4",
            "days_ahead": "10",
            "kinds": ["exemption", "password_reset"],
        },
    )
    assert response.status_code == 302
    assert CounterSettings.objects.get(office=urumqi).kinds == ["exemption", "password_reset"]


def test_a_reviewer_cannot_change_the_hours_or_see_another_offices_closed_days(client_of, reviewer_urumqi, kashgar):
    day = ClosedDay.objects.create(office=kashgar, date=at(2024, 6, 21).date())
    client = client_of(reviewer_urumqi)
    assert client.get("/admin/appointments/countersettings/add/").status_code == 403
    assert client.get(f"/admin/appointments/closedday/{day.pk}/change/").status_code == 404
