"""The exemption summary (FAQ 19): only after registration closes; masked, scoped, formulas defused."""

import datetime
import io

import openpyxl
import pytest
import time_machine

from tests.tickets.factories import EXEMPTION_SUMMARY, INBOX, at, messages_of, open_ticket, staff_client
from tickets.models import Exemption, Kind

pytestmark = pytest.mark.django_db

HEADERS = [
    "exam office",
    "reference",
    "name",
    "document number (masked)",
    "degree",
    "school",
    "certificate number",
    "graduation date",
    "decided by",
    "decided at",
]


def approved_exemption(office, by, *, day=25, **changes):
    ticket = open_ticket(Kind.EXEMPTION, office, **changes)
    ticket.verify(by, "ID card", now=at(2024, 6, day, 9))
    Exemption.objects.filter(ticket=ticket).update(
        id_card_seen=True, degree_certificate_seen=True, chsi_record_seen=True, application_form_seen=True
    )
    ticket.refresh_from_db()
    ticket.complete(by, now=at(2024, 6, day, 10))
    return ticket


def sheet_rows(response):
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return [list(values) for values in book.active.iter_rows(values_only=True)]


@pytest.fixture
def exemptions(urumqi, kashgar, staff):
    own = approved_exemption(urumqi, staff["reviewer_urumqi"], identity_changes={"name": "=HYPERLINK(1)"})
    theirs = approved_exemption(kashgar, staff["reviewer_kashgar"], day=24)
    pending = open_ticket(Kind.EXEMPTION, urumqi)  # not completed: not in the summary
    return own, theirs, pending


def test_refused_before_registration_closes(client, exemptions, manager_urumqi):
    client = staff_client(client, manager_urumqi)
    with time_machine.travel(at(2024, 7, 2, 11, 59), tick=False):
        response = client.get(EXEMPTION_SUMMARY)
    assert response.status_code == 302 and response["Location"] == INBOX
    assert messages_of(response) == [
        "The exemption summary of 2024 intermediate accounting exam is available after registration closes "
        "(2024-07-02 12:00, Beijing time)."
    ]


def test_manager_gets_their_office_masked_with_formulas_defused(client, exemptions, manager_urumqi):
    own, _theirs, _pending = exemptions
    client = staff_client(client, manager_urumqi)
    with time_machine.travel(at(2024, 7, 2, 12), tick=False):
        rows = sheet_rows(client.get(EXEMPTION_SUMMARY))
    number = own.candidate.document_number
    assert rows[0] == HEADERS
    assert rows[1:] == [
        [
            str(own.office),
            own.reference,
            "'=HYPERLINK(1)",
            f"{number[:6]}********{number[-4:]}",
            "Master of Professional Accounting (MPAcc, 会计硕士)",
            "新疆财经大学",
            "1075532015000123",
            "2015-06-30",
            "reviewer_urumqi",
            "2024-06-25 10:00",
        ]
    ]


def test_regional_gets_every_office_grouped_per_office(client, exemptions, regional_admin):
    own, theirs, _pending = exemptions
    extra = approved_exemption(own.office, regional_admin, day=26)
    with time_machine.travel(at(2024, 7, 3, 9), tick=False):
        response = staff_client(client, regional_admin).get(EXEMPTION_SUMMARY)
    assert response["Content-Disposition"] == 'attachment; filename="exemptions-2024-all.xlsx"'
    rows = sheet_rows(response)
    assert [(row[0][:6], row[1]) for row in rows[1:]] == [
        ("650100", own.reference),
        ("650100", extra.reference),
        ("653100", theirs.reference),
    ]
    assert all(row[2] != theirs.candidate.document_number for row in rows)


def test_reviewers_have_no_export_and_no_button(client, staff):
    reviewer = staff_client(client, staff["reviewer_urumqi"])
    assert reviewer.get(EXEMPTION_SUMMARY).status_code == 403
    assert EXEMPTION_SUMMARY not in reviewer.get(INBOX).content.decode()
    assert EXEMPTION_SUMMARY in staff_client(client, staff["manager_urumqi"]).get(INBOX).content.decode()


def test_graduation_before_2002_is_exported_too(client, urumqi, staff, manager_urumqi):
    ticket = approved_exemption(urumqi, staff["reviewer_urumqi"], graduation_date=datetime.date(2001, 7, 1))
    with time_machine.travel(at(2024, 7, 3, 9), tick=False):
        rows = sheet_rows(staff_client(client, manager_urumqi).get(EXEMPTION_SUMMARY))
    assert [row[1] for row in rows[1:]] == [ticket.reference]
    assert rows[1][7] == "2001-07-01"
