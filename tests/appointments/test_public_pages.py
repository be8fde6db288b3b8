"""The candidate books, moves and cancels from the private status link, in Chinese and English; the status page,
the confirmation and the printable form show the booked time."""

import pytest

from appointments.models import Booking, CounterSettings, Slot, Status
from tests.appointments.helpers import MONDAY, at, exemption

pytestmark = pytest.mark.django_db


def visit_url(ticket, language="en"):
    return f"/{language}/visits/{ticket.status_token}/"


def test_book_move_and_cancel_in_english(client, urumqi, time_machine):
    time_machine.move_to(MONDAY)
    ticket = exemption(urumqi)
    page = client.get(visit_url(ticket)).content.decode()
    assert "Choose a time" in page and 'value="2024-07-02T11:30:00+08:00"' in page
    assert 'value="2024-07-02T12:00:00+08:00"' not in page  # would end after the 12:00 deadline
    response = client.post(visit_url(ticket), {"action": "book", "slot": "2024-07-02T11:30:00+08:00"}, follow=True)
    assert "Your visit is booked" in response.content.decode()
    assert "2024-07-02 11:30" in client.get(f"/en/requests/status/{ticket.status_token}/").content.decode()
    assert "2024-07-02 11:30" in client.get(f"/en/requests/status/{ticket.status_token}/print/").content.decode()
    client.post(visit_url(ticket), {"action": "move", "slot": "2024-07-01T16:00:00+08:00"})
    assert Booking.objects.get(ticket=ticket, status=Status.BOOKED).slot.starts_at == at(2024, 7, 1, 16)
    client.post(visit_url(ticket), {"action": "cancel"})
    assert not Booking.objects.filter(ticket=ticket, status=Status.BOOKED).exists()


def test_chinese_page_and_a_full_slot_offers_others(client, urumqi, time_machine):
    time_machine.move_to(MONDAY)
    CounterSettings.objects.create(office=urumqi, counters=1, kinds=["exemption"])
    first, second = exemption(urumqi), exemption(urumqi)
    client.post(visit_url(first, "zh-hans"), {"action": "book", "slot": "2024-07-02T11:30:00+08:00"})
    response = client.post(visit_url(second, "zh-hans"), {"action": "book", "slot": "2024-07-02T11:30:00+08:00"})
    page = response.content.decode()
    assert response.status_code == 200 and 'id="alternatives"' in page
    assert Slot.objects.get(starts_at=at(2024, 7, 2, 11, 30)).booked == 1


def test_a_forged_time_is_refused(client, urumqi, time_machine):
    time_machine.move_to(MONDAY)
    ticket = exemption(urumqi)
    for value in ("2024-07-02T12:00:00+08:00", "2024-06-29T10:00:00+08:00", "garbage", "2024-07-02T10:00:00"):
        response = client.post(visit_url(ticket), {"action": "book", "slot": value})
        assert response.status_code == 200
    assert not Booking.objects.exists()


def test_an_unknown_token_is_a_404(client, db):
    assert client.get("/en/visits/not-a-token/").status_code == 404


def test_changes_are_rate_limited_per_private_link(client, urumqi, time_machine, settings):
    time_machine.move_to(MONDAY)
    settings.PORTAL_RATE_SUBMIT = "2/m"
    ticket = exemption(urumqi)
    for _ in range(2):
        assert client.post(visit_url(ticket), {"action": "book", "slot": "garbage"}).status_code == 200
    assert client.post(visit_url(ticket), {"action": "book", "slot": "garbage"}).status_code == 429
