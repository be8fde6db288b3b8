"""The regional office's escalation queue: every escalated request of every office, oldest escalation first."""

import pytest

from tests.tickets.factories import ESCALATIONS, INBOX, at, change_url, open_ticket, rows, staff_client
from tickets.models import Kind

pytestmark = pytest.mark.django_db


def escalated(kind, office, by, when):
    ticket = open_ticket(kind, office)
    ticket.verify(by, "ID card", now=when)
    ticket.escalate(by, "please finish", now=when)
    return ticket


def test_every_office_oldest_escalation_first(client, urumqi, kashgar, staff, regional_admin):
    urumqi_by, kashgar_by = staff["reviewer_urumqi"], staff["reviewer_kashgar"]
    newest = escalated(Kind.CERT_DELETION, urumqi, urumqi_by, at(2024, 6, 26, 9))
    oldest = escalated(Kind.REFUND, kashgar, kashgar_by, at(2024, 6, 21, 9))
    middle = escalated(Kind.REFUND, urumqi, urumqi_by, at(2024, 6, 24, 9))
    open_ticket(Kind.CERT_DELETION, urumqi)  # submitted, not escalated
    verified = open_ticket(Kind.REFUND, kashgar)
    verified.verify(kashgar_by, "ID card")
    response = staff_client(client, regional_admin).get(ESCALATIONS)
    assert response.status_code == 200
    assert rows(response) == [oldest.reference, middle.reference, newest.reference]
    html = response.content.decode()
    assert "Escalation queue: oldest escalation first" in html
    assert "Escalated at" in html or "escalated at" in html


def test_the_queue_keeps_its_order_and_filters_apply_inside_it(client, urumqi, kashgar, staff, regional_admin):
    urumqi_by = staff["reviewer_urumqi"]
    first = escalated(Kind.REFUND, urumqi, urumqi_by, at(2024, 6, 21, 9))
    second = escalated(Kind.CERT_DELETION, urumqi, urumqi_by, at(2024, 6, 22, 9))
    regional = staff_client(client, regional_admin)
    assert rows(regional.get(ESCALATIONS, {"kind__exact": Kind.CERT_DELETION})) == [second.reference]
    assert rows(regional.get(ESCALATIONS)) == [first.reference, second.reference]


def test_the_inbox_links_to_the_queue_for_regional_staff_only(client, staff):
    assert ESCALATIONS in staff_client(client, staff["regional_admin"]).get(INBOX).content.decode()
    for name in ("reviewer_urumqi", "manager_urumqi"):
        local = staff_client(client, staff[name])
        assert ESCALATIONS not in local.get(INBOX).content.decode()
        assert local.get(ESCALATIONS).status_code == 403


def test_a_reference_typed_in_the_queue_opens_the_request(client, kashgar, staff, regional_admin):
    ticket = escalated(Kind.REFUND, kashgar, staff["reviewer_kashgar"], at(2024, 6, 21, 9))
    response = staff_client(client, regional_admin).get(ESCALATIONS, {"q": ticket.reference})
    assert response.status_code == 302 and response["Location"] == change_url(ticket)
