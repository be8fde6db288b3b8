"""The private status page of a request and the lookup by reference + document number."""

from urllib.parse import urlsplit

import pytest

from core.references import new_reference
from notifications.models import OutboxMessage
from tickets.models import Status, Ticket

from .request_data import IN_WINDOW, PASSWORD_SHAPE, file_request, without_csrf

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_window(time_machine):
    time_machine.move_to(IN_WINDOW)


@pytest.fixture
def ticket(client):
    response, data = file_request(client, "password-reset")
    assert response.status_code == 302
    return Ticket.objects.get(submission_key=data["submission_key"])


def status_path(ticket):
    return f"/en/requests/status/{ticket.status_token}/"


def page(client, ticket):
    response = client.get(status_path(ticket))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return response.content.decode()


# The status page -----------------------------------------------------------------------------------


def test_the_private_link_shows_kind_reference_status_and_the_print_link(client, ticket):
    assert urlsplit(ticket.status_url).path == status_path(ticket)
    html = page(client, ticket)
    assert ticket.reference in html
    assert "Password reset" in html
    assert "Submitted: come to the office in person" in html
    assert f"Come in person to {ticket.office.name_en}" in html
    assert f'href="{status_path(ticket)}print/"' in html
    assert ticket.candidate.document_number not in html


def test_the_status_page_shows_the_deadline_of_a_kind_that_has_one(client):
    response, data = file_request(client, "exemption")
    exemption = Ticket.objects.get(submission_key=data["submission_key"])
    html = page(client, exemption)
    assert "2024-07-02 12:00 (Beijing time)" in html
    assert "A request not verified in person by then expires." in html


def test_candidate_messages_are_shown_but_internal_notes_are_not(client, ticket, reviewer_urumqi):
    ticket.post_message("Please bring your ID card on Monday.", by=reviewer_urumqi, visible_to_candidate=True)
    ticket.post_message("Candidate called twice; seems anxious.", by=reviewer_urumqi, visible_to_candidate=False)
    html = page(client, ticket)
    assert "Please bring your ID card on Monday." in html
    assert "Candidate called twice" not in html
    assert "reviewer_urumqi" not in html


def test_history_shows_dates_and_statuses_but_no_staff_names_or_notes(client, ticket, reviewer_urumqi):
    ticket.assign(reviewer_urumqi, by=reviewer_urumqi)
    ticket.verify(reviewer_urumqi, "Resident ID card original, checked at counter 3")
    ticket.start(reviewer_urumqi)
    ticket.detail.record_reset(reviewer_urumqi)
    ticket.complete(reviewer_urumqi)

    html = page(client, ticket)
    history = html.split('id="history"')[1]
    for label in ("Submitted: come to the office in person", "Identity verified in person", "In progress", "Completed"):
        assert label in history
    assert "2024-06-20 10:00" in history
    assert "reviewer_urumqi" not in html
    assert "counter 3" not in html
    assert "Password reset on the platform." not in html
    assert "change it at your first login" in html
    assert not PASSWORD_SHAPE.search(html)
    for message in OutboxMessage.objects.all():
        assert not PASSWORD_SHAPE.search(message.context["subject"] + message.context["body"])


def test_a_rejected_request_shows_the_rejection(client, ticket, reviewer_urumqi):
    ticket.reject(reviewer_urumqi, "Not the account holder.")
    html = page(client, ticket)
    assert "Rejected" in html
    assert "The request was rejected." in html
    assert "Not the account holder." in html  # the reason is the candidate's (the email says it too)
    assert "reviewer_urumqi" not in html


def test_an_expired_request_says_why(client, reviewer_urumqi):
    import datetime

    from offices.workdays import BEIJING

    _response, data = file_request(client, "exemption")
    exemption = Ticket.objects.get(submission_key=data["submission_key"])
    exemption.expire(datetime.datetime(2024, 7, 2, 12, tzinfo=BEIJING))
    html = page(client, exemption)
    assert Status.EXPIRED.value in html  # the status class
    assert "The request expired: it was not verified in person by the deadline." in html
    assert "Come in person until" not in html


def test_an_unknown_token_is_404(client):
    assert client.get("/en/requests/status/not-a-token/").status_code == 404
    assert client.get("/en/requests/submitted/not-a-token/").status_code == 404


# Lookup --------------------------------------------------------------------------------------------


def test_lookup_with_the_right_pair_redirects_to_the_private_page(client, ticket):
    number = ticket.candidate.document_number
    spaced = f" {ticket.reference[:5].lower()} {ticket.reference[5:]} "
    response = client.post("/en/requests/status/", {"reference": spaced, "document_number": number.lower()})
    assert response.status_code == 302
    assert response["Location"] == status_path(ticket)
    assert "no-store" in client.get("/en/requests/status/")["Cache-Control"]


def test_wrong_number_and_unknown_reference_get_the_same_answer(client, ticket):
    _response, other_data = file_request(client, "certification-deletion")
    wrong_number = client.post(
        "/en/requests/status/", {"reference": ticket.reference, "document_number": other_data["document_number"]}
    )
    unknown = client.post(
        "/en/requests/status/",
        {"reference": new_reference("P"), "document_number": ticket.candidate.document_number},
    )
    assert wrong_number.status_code == unknown.status_code == 200
    assert without_csrf(wrong_number.content) == without_csrf(unknown.content)
    assert b"No request matches this reference and document number." in unknown.content
    assert ticket.reference.encode() not in wrong_number.content


def test_a_malformed_reference_is_reported_on_its_field(client):
    response = client.post("/en/requests/status/", {"reference": "P12345", "document_number": "E1234567"})
    assert "This is not a valid request reference" in response.content.decode()
    # An application reference is not a request reference.
    response = client.post("/en/requests/status/", {"reference": new_reference("A"), "document_number": "E1234567"})
    assert "This is not a valid request reference" in response.content.decode()


def test_lookup_is_rate_limited_per_address(client, settings):
    settings.PORTAL_RATE_LOOKUP = "2/m"
    for number in ("E0000001", "E0000002"):
        response = client.post("/en/requests/status/", {"reference": new_reference("P"), "document_number": number})
        assert response.status_code == 200
    response = client.post("/en/requests/status/", {"reference": new_reference("P"), "document_number": "E0000003"})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


def test_lookup_is_rate_limited_per_document_number_across_addresses(client, settings, ticket):
    settings.PORTAL_RATE_LOOKUP_PER_DOCUMENT = "2/m"
    number = ticket.candidate.document_number
    for address in ("10.0.0.1", "10.0.0.2"):
        response = client.post(
            "/en/requests/status/", {"reference": new_reference("P"), "document_number": number}, REMOTE_ADDR=address
        )
        assert response.status_code == 200
    response = client.post(
        "/en/requests/status/",
        {"reference": ticket.reference, "document_number": number.lower()},
        REMOTE_ADDR="10.0.0.3",
    )
    assert response.status_code == 429


def test_right_lookups_never_spend_the_per_number_limit(client, settings, ticket):
    settings.PORTAL_RATE_LOOKUP_PER_DOCUMENT = "2/h"
    number = ticket.candidate.document_number
    right = {"reference": ticket.reference, "document_number": number}
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"):
        assert client.post("/en/requests/status/", right, REMOTE_ADDR=address).status_code == 302
    wrong = {"reference": new_reference("P"), "document_number": number}
    for address in ("10.0.0.5", "10.0.0.6"):
        assert client.post("/en/requests/status/", wrong, REMOTE_ADDR=address).status_code == 200
    refused = client.post("/en/requests/status/", right, REMOTE_ADDR="10.0.0.7")
    assert refused.status_code == 429
    assert "The private link in your confirmation email still works" in refused.content.decode()
