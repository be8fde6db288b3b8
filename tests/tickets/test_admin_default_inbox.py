"""The request inbox opens on open work; finished requests are one click away and found by a search."""

import pytest

from tests.tickets.factories import INBOX, open_ticket, staff_client
from tickets.models import Kind

pytestmark = pytest.mark.django_db


def rows(response):
    return {ticket.reference for ticket in response.context["cl"].result_list}


def test_the_inbox_shows_open_work_by_default(client, urumqi, reviewer_urumqi):
    open_one = open_ticket(Kind.PASSWORD_RESET, urumqi)
    done = open_ticket(Kind.INFO_CHANGE, urumqi)
    done.reject(reviewer_urumqi, "came without ID")
    client = staff_client(client, reviewer_urumqi)
    response = client.get(INBOX)
    assert response.status_code == 200, response
    assert rows(response) == {open_one.reference}
    assert rows(client.get(INBOX, {"work": "all"})) == {open_one.reference, done.reference}
    assert rows(client.get(INBOX, {"status__exact": "rejected"})) == {done.reference}
    assert client.get(INBOX, {"q": done.reference}).status_code == 302  # the reference jump opens it anyway
