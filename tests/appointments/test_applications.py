"""A foreign candidate's application in in-person review books its visit like a request: before the 12:00
deadline of the last registration day, from its private status link; staff check it in by its reference."""

import pytest

from appointments import booking as rules
from appointments.models import Booking, BookingRefused, Status
from notifications.models import OutboxMessage
from tests.appointments.helpers import MONDAY, at, foreign_application

pytestmark = pytest.mark.django_db


def test_a_foreign_candidate_books_before_the_deadline_and_is_checked_in(
    client, client_of, reviewer_urumqi, urumqi, time_machine
):
    time_machine.move_to(MONDAY)
    application = foreign_application(urumqi)
    assert application.status == "in_person_review"
    status_page = client.get(f"/en/applications/status/{application.status_token}/").content.decode()
    assert f"/en/visits/{application.status_token}/" in status_page
    page = client.get(f"/en/visits/{application.status_token}/").content.decode()
    assert 'value="2024-07-02T11:30:00+08:00"' in page and 'value="2024-07-02T12:00:00+08:00"' not in page
    with pytest.raises(BookingRefused):
        rules.book(application, at(2024, 7, 2, 12), MONDAY)
    client.post(f"/en/visits/{application.status_token}/", {"action": "book", "slot": "2024-07-02T11:30:00+08:00"})
    booking = Booking.objects.get(application=application)
    assert booking.status == Status.BOOKED and booking.ticket is None
    message = OutboxMessage.objects.get(dedup_key=f"booking:{booking.pk}:booked")
    assert application.reference in message.email().subject and message.email().attachments
    assert "2024-07-02 11:30" in client.get(f"/en/applications/status/{application.status_token}/").content.decode()

    time_machine.move_to(at(2024, 7, 2, 11, 25))
    response = client_of(reviewer_urumqi).post(
        "/admin/appointments/booking/today/", {"reference": application.reference}
    )
    assert response.url == f"/admin/applications/application/{application.pk}/change/"
    assert Booking.objects.get(pk=booking.pk).status == Status.CHECKED_IN


def test_after_the_in_person_review_there_is_nothing_to_book(urumqi, reviewer_urumqi):
    application = foreign_application(urumqi)
    application.finish_in_person_review(reviewer_urumqi, now=MONDAY)
    application.refresh_from_db()
    assert rules.available_slots(application, MONDAY) == []
