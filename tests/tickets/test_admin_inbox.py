"""The request inbox: columns, masking, filters, search, the reference jump and a fixed number of queries."""

import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tickets.factories import (
    INBOX,
    at,
    change_url,
    clone_tickets,
    open_ticket,
    rows,
    staff_client,
)
from tickets.models import Kind, Status

pytestmark = pytest.mark.django_db


def results_html(response):
    """The result table without links (the search box and sort links echo what was typed)."""
    html = response.content.decode().split("<tbody>")[1].split("</tbody>")[0]
    return re.sub(r'href="[^"]*"', "", html)


def test_columns_show_kind_status_due_assignee_and_the_masked_number(client, urumqi, reviewer_urumqi):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi, identity_changes={"name": "古丽"})
    ticket.assign(reviewer_urumqi, by=reviewer_urumqi)
    number = ticket.candidate.document_number
    response = staff_client(client, reviewer_urumqi).get(INBOX)
    html = results_html(response)
    assert ticket.reference in html
    assert "Password reset" in html
    assert "Submitted: come to the office in person" in html
    assert f"{number[:6]}********{number[-4:]}" in html
    assert number not in response.content.decode()
    assert "古丽" in html
    assert "reviewer_urumqi" in html


def test_overdue_is_highlighted_and_filtered(client, urumqi, reviewer_urumqi):
    early = open_ticket(Kind.PASSWORD_RESET, urumqi, now=at(2024, 6, 20, 9))  # 2 working days: due 06-24 23:59:59
    later = open_ticket(Kind.CERT_DELETION, urumqi, now=at(2024, 6, 24, 9))  # 5 working days: due 07-01
    done = open_ticket(Kind.PASSWORD_RESET, urumqi, now=at(2024, 6, 20, 9), identity_changes={"name": "王五"})
    done.reject(reviewer_urumqi, "not here")
    with time_machine.travel(at(2024, 6, 26, 10), tick=False):
        client = staff_client(client, reviewer_urumqi)
        assert rows(client.get(INBOX, {"due": "overdue"})) == [early.reference]
        html = results_html(client.get(INBOX))
    assert html.count('<span class="overdue">') == 1
    assert '<span class="overdue">2024-06-24 23:59 (overdue)</span>' in html
    assert later.reference in html


def test_due_today_filter(client, urumqi, reviewer_urumqi):
    today = open_ticket(Kind.PASSWORD_RESET, urumqi, now=at(2024, 6, 20, 9))  # due 2024-06-24
    open_ticket(Kind.CERT_DELETION, urumqi, now=at(2024, 6, 20, 9))  # due 2024-06-27
    with time_machine.travel(at(2024, 6, 24, 8), tick=False):
        assert rows(staff_client(client, reviewer_urumqi).get(INBOX, {"due": "today"})) == [today.reference]


def test_kind_status_and_assignee_filters(client, urumqi, reviewer_urumqi, manager_urumqi):
    mine = open_ticket(Kind.PASSWORD_RESET, urumqi)
    mine.assign(reviewer_urumqi, by=reviewer_urumqi)
    theirs = open_ticket(Kind.CERT_DELETION, urumqi)
    theirs.assign(manager_urumqi, by=manager_urumqi)
    nobody = open_ticket(Kind.REFUND, urumqi)
    nobody.verify(reviewer_urumqi, "ID card")
    client = staff_client(client, reviewer_urumqi)
    assert rows(client.get(INBOX, {"assignee": "mine"})) == [mine.reference]
    assert rows(client.get(INBOX, {"assignee": "unassigned"})) == [nobody.reference]
    assert rows(client.get(INBOX, {"kind__exact": Kind.CERT_DELETION})) == [theirs.reference]
    assert rows(client.get(INBOX, {"status__exact": Status.VERIFIED})) == [nobody.reference]
    assert set(rows(client.get(INBOX))) == {mine.reference, theirs.reference, nobody.reference}


def test_office_filter_and_column_for_regional_staff_only(client, urumqi, staff):
    open_ticket(Kind.PASSWORD_RESET, urumqi)
    html = staff_client(client, staff["reviewer_urumqi"]).get(INBOX).content.decode()
    assert "office__code__exact" not in html
    html = staff_client(client, staff["regional_admin"]).get(INBOX).content.decode()
    assert "office__code__exact" in html


def test_search_by_full_document_number_finds_that_request_shown_masked(client, urumqi, reviewer_urumqi):
    wanted = open_ticket(Kind.PASSWORD_RESET, urumqi)
    other = open_ticket(Kind.PASSWORD_RESET, urumqi)
    number = wanted.candidate.document_number
    response = staff_client(client, reviewer_urumqi).get(INBOX, {"q": number.lower()})
    assert rows(response) == [wanted.reference]
    html = results_html(response)
    assert number not in html
    assert wanted.candidate.masked_document_number in html
    assert other.reference not in html


def test_search_by_name(client, urumqi, reviewer_urumqi):
    wanted = open_ticket(Kind.PASSWORD_RESET, urumqi, identity_changes={"name": "古丽娜尔"})
    open_ticket(Kind.PASSWORD_RESET, urumqi)
    latin = open_ticket(Kind.CERT_DELETION, urumqi, identity_changes={"name": "Aigerim Nurlanovna"})
    client = staff_client(client, reviewer_urumqi)
    assert rows(client.get(INBOX, {"q": "丽娜"})) == [wanted.reference]
    assert rows(client.get(INBOX, {"q": "aigerim"})) == [latin.reference]


def test_a_reference_typed_or_scanned_opens_its_request(client, urumqi, reviewer_urumqi):
    wanted = open_ticket(Kind.PASSWORD_RESET, urumqi)
    open_ticket(Kind.CERT_DELETION, urumqi)
    client = staff_client(client, reviewer_urumqi)
    typed = f"{wanted.reference[:4]} {wanted.reference[4:].lower()}"
    response = client.get(INBOX, {"q": typed})
    assert response.status_code == 302
    assert response["Location"] == change_url(wanted)
    assert client.get(INBOX, {"q": wanted.reference}, follow=True).context["original"] == wanted


def test_a_reference_with_a_wrong_check_character_is_no_jump(client, urumqi, reviewer_urumqi):
    wanted = open_ticket(Kind.PASSWORD_RESET, urumqi)
    wrong = wanted.reference[:-1] + ("A" if wanted.reference[-1] != "A" else "B")
    response = staff_client(client, reviewer_urumqi).get(INBOX, {"q": wrong})
    assert response.status_code == 200
    assert rows(response) == []


def test_another_offices_reference_neither_jumps_nor_shows(client, kashgar, reviewer_urumqi):
    theirs = open_ticket(Kind.PASSWORD_RESET, kashgar)
    client = staff_client(client, reviewer_urumqi)
    response = client.get(INBOX, {"q": theirs.reference})
    assert response.status_code == 200
    assert rows(response) == []
    assert rows(client.get(INBOX, {"q": theirs.candidate.document_number})) == []


def count_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(INBOX)
    assert response.status_code == 200
    return len(queries), len(response.context["cl"].result_list)


@pytest.mark.parametrize("role", ["reviewer_urumqi", "regional_admin"])
def test_inbox_runs_the_same_queries_for_10_and_100_rows(client, urumqi, staff, role):
    first = open_ticket(Kind.PASSWORD_RESET, urumqi)
    first.assign(staff["reviewer_urumqi"], by=staff["reviewer_urumqi"])
    first.refresh_from_db()
    clone_tickets(first, 9)
    client = staff_client(client, staff[role])
    client.get(INBOX)  # warm up: content types, permissions
    ten = count_queries(client)
    clone_tickets(first, 90)
    hundred = count_queries(client)
    assert (ten[1], hundred[1]) == (10, 100)
    assert ten[0] == hundred[0]


def test_no_add_no_edit_no_delete(client, urumqi, reviewer_urumqi):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    client = staff_client(client, reviewer_urumqi)
    assert client.get(f"{INBOX}add/").status_code == 403
    assert client.post(change_url(ticket), {"status": "completed"}).status_code == 403
    assert client.post(f"{INBOX}{ticket.pk}/delete/").status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Status.SUBMITTED
