"""Import of the system-screened duplicate-payment list: dry run, one refund request per candidate and
session, idempotent re-import, unmatched rows, per-row errors and whether the list came in time."""

import datetime
import io

import openpyxl
import pytest
import tablib
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from notifications.models import OutboxMessage
from tests.factories import approve, resident_id, submit_application
from tests.tickets.factories import DUPLICATES, at, messages_of, open_ticket, staff_client
from tickets.models import DuplicatePayment, Kind, Refund, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

IMPORT = f"{DUPLICATES}import/"
PROCESS = f"{DUPLICATES}process_import/"
XLSX, CSV = "0", "1"  # positions in IMPORT_EXPORT_FORMATS
CHINESE_HEADERS = ["证件号码", "姓名", "缴费编号", "缴费金额", "缴费时间"]
STRANGER = ["650102199001019999", "李四", "PAY-X", "176", "2024-06-20 09:00:00"]


def xlsx_file(rows, headers=CHINESE_HEADERS, name="duplicates.xlsx"):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def csv_file(rows, headers=("document_number", "name", "payment_codes", "amounts", "paid_at")):
    return SimpleUploadedFile("duplicates.csv", tablib.Dataset(*rows, headers=headers).export("csv").encode())


def row(application, codes="PAY-1, PAY-2", amounts="176, 176", paid_at="2024-06-20 10:00, 2024-06-20 10:05"):
    return [application.candidate.document_number, application.candidate.name, codes, amounts, paid_at]


def dry_run(client, upload, file_format=XLSX):
    return client.post(IMPORT, {"import_file": upload, "format": file_format, "resource": "0"})


def confirm(client, response):
    form = response.context["confirm_form"]
    return client.post(PROCESS, {name: form.initial.get(name, "") for name in form.fields})


def do_import(client, upload, file_format=XLSX):
    response = dry_run(client, upload, file_format)
    assert response.context.get("confirm_form") is not None, response.content.decode()[-3000:]
    return confirm(client, response)


@pytest.fixture
def paid(session_2024, urumqi, reviewer_urumqi):
    application = submit_application(
        session_2024, urumqi, now=at(2024, 6, 20, 9), email="paid@example.com", phone="13900000000", language="en"
    )
    approve(application, reviewer_urumqi, now=at(2024, 6, 20, 10))
    application.mark_paid(at(2024, 6, 20, 10), "PAY-1", now=at(2024, 6, 20, 10))
    return application


@pytest.fixture
def regional(client, regional_admin):
    return staff_client(client, regional_admin)


def state():
    return (
        DuplicatePayment.objects.count(),
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        OutboxMessage.objects.count(),
    )


def test_dry_run_previews_and_changes_nothing(regional, paid):
    before = state()
    response = dry_run(regional, xlsx_file([row(paid), STRANGER]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 row(s) match an application of the session" in html
    assert "650102********9999 李四" in html  # the unmatched row, masked
    assert paid.candidate.document_number not in html
    assert state() == before


def test_confirmed_import_opens_one_refund_request_from_the_application(regional, paid):
    response = do_import(regional, xlsx_file([row(paid)]))
    assert response.status_code == 302
    ticket = Ticket.objects.get(kind=Kind.REFUND)
    assert (ticket.office_id, ticket.candidate, ticket.session_id) == ("650100", paid.candidate, paid.session_id)
    assert (ticket.email, ticket.phone, ticket.language) == ("paid@example.com", "13900000000", "en")
    refund = ticket.refund
    assert (refund.source, refund.payment_codes, refund.amounts, refund.paid_at) == (
        Refund.Source.SCREENED_LIST,
        "PAY-1, PAY-2",
        "176, 176",
        "2024-06-20 10:00, 2024-06-20 10:05",
    )
    assert DuplicatePayment.objects.get().ticket == ticket
    assert OutboxMessage.objects.filter(dedup_key=f"ticket:{ticket.pk}:received").count() == 1
    assert any("1 opened, 0 updated" in message for message in messages_of(response))


def test_the_same_file_twice_gives_the_same_requests_and_no_second_email(regional, paid, session_2024, kashgar):
    other = submit_application(session_2024, kashgar, now=at(2024, 6, 21, 9))
    do_import(regional, xlsx_file([row(paid), row(other, codes="PAY-9")]))
    tickets = set(Ticket.objects.values_list("pk", "reference", "office_id"))
    assert len(tickets) == 2 and {office for _pk, _ref, office in tickets} == {"650100", "653100"}
    before = state()
    response = do_import(regional, xlsx_file([row(paid), row(other, codes="PAY-9")]))
    assert response.status_code == 302
    assert set(Ticket.objects.values_list("pk", "reference", "office_id")) == tickets
    assert state() == before
    assert any("0 opened, 0 updated" in message and "2 unchanged" in message for message in messages_of(response))


def test_a_corrected_list_updates_the_same_request(regional, paid):
    do_import(regional, xlsx_file([row(paid)]))
    ticket = Ticket.objects.get()
    do_import(regional, csv_file([row(paid, amounts="176, 180")]), CSV)
    assert Ticket.objects.get() == ticket
    assert Refund.objects.get(ticket=ticket).amounts == "176, 180"
    assert TicketEvent.objects.filter(ticket=ticket, note__contains="176, 180").count() == 1
    assert OutboxMessage.objects.filter(dedup_key__startswith=f"ticket:{ticket.pk}:").count() == 1


def test_a_refund_the_candidate_reported_gets_the_list_data(regional, paid, urumqi):
    reported = open_ticket(Kind.REFUND, urumqi, candidate=paid.candidate, session=paid.session, payment_codes="")
    do_import(regional, xlsx_file([row(paid)]))
    assert list(Ticket.objects.values_list("pk", flat=True)) == [reported.pk]
    refund = Refund.objects.get(ticket=reported)
    assert refund.source == Refund.Source.CANDIDATE_REPORT
    assert refund.payment_codes == "PAY-1, PAY-2"
    assert DuplicatePayment.objects.get().ticket_id == reported.pk
    assert TicketEvent.objects.filter(ticket=reported, note__startswith="On the system-screened").count() == 1


def test_unmatched_rows_are_kept_listed_and_filterable(regional, paid):
    response = do_import(regional, xlsx_file([row(paid), STRANGER]))
    assert any("650102********9999 李四" in message for message in messages_of(response))
    stranger = DuplicatePayment.objects.get(document_number=STRANGER[0])
    assert stranger.ticket is None
    assert stranger.note == "No application of this session has this document number."
    listed = regional.get(DUPLICATES, {"match": "unmatched"})
    assert [r.pk for r in listed.context["cl"].result_list] == [stranger.pk]
    assert Ticket.objects.count() == 1


def test_a_bad_row_is_reported_by_line_and_nothing_is_written(regional, paid):
    before = state()
    response = dry_run(regional, xlsx_file([row(paid), ["650102199001011234", "", "PAY-3", "176", "x"]]))
    assert response.context.get("confirm_form") is None
    html = response.content.decode()
    assert "This value is missing." in html
    response = dry_run(regional, xlsx_file([[650102199001011234, "王五", "P", "176", "x"]]))
    assert "format the column as text" in response.content.decode()
    response = dry_run(regional, xlsx_file([row(paid)], headers=["证件号码", "姓名", "缴费编号"]))
    assert "Columns missing from the file: amounts, paid_at." in response.content.decode()
    assert state() == before


def test_the_list_arrival_is_shown_on_time_or_late(regional, paid, session_2024):
    with time_machine.travel(at(2024, 7, 5, 10), tick=False):
        do_import(regional, xlsx_file([row(paid)]))
    html = regional.get(DUPLICATES).content.decode()
    assert "Duplicate-payment list of 2024: imported on 2024-07-05 10:00, due 2024-07-09: on time." in html

    DuplicatePayment.objects.update(imported_at=at(2024, 7, 10, 9))
    html = regional.get(DUPLICATES).content.decode()
    assert "Duplicate-payment list of 2024: imported on 2024-07-10 09:00, due 2024-07-09: late." in html
    # The due date is the session's data: moved by regional staff, the indicator follows.
    session_2024.duplicate_list_due = datetime.date(2024, 7, 12)
    session_2024.save()
    assert "due 2024-07-12: on time." in regional.get(DUPLICATES).content.decode()


def test_only_the_regional_office_imports(client, staff):
    for name in ("reviewer_urumqi", "manager_urumqi"):
        local = staff_client(client, staff[name])
        assert local.get(IMPORT).status_code == 403
        assert local.post(PROCESS, {}).status_code == 403


def test_the_dry_run_says_per_row_which_request_it_opens_updates_or_completes(regional, paid, urumqi, session_2024):
    own = submit_application(
        session_2024,
        urumqi,
        now=at(2024, 6, 20, 9),
        identity_changes={"document_number": resident_id("19910101", male=False), "name": "王五", "gender": "F"},
    )
    reported = open_ticket(Kind.REFUND, urumqi, session=session_2024, candidate=own.candidate)
    response = dry_run(regional, xlsx_file([row(paid), row(own, codes="PAY-7"), STRANGER]))
    shown = {
        row.instance.name: (row.refund_outcome, row.refund_outcome_text)
        for row in response.context["result"].valid_rows()
    }
    assert shown[paid.candidate.name] == (
        "create",
        f"Opens a refund request (application {paid.reference}, {urumqi.name_zh})",
    )
    assert shown[own.candidate.name] == (
        "attach",
        f"Completes the refund request {reported.reference} the candidate filed ({urumqi.name_zh})",
    )
    assert shown["李四"][0] == "unmatched"
    assert 'class="refund-outcome"' in response.content.decode()

    do_import(regional, xlsx_file([row(paid)]))
    ticket = Ticket.objects.get(kind=Kind.REFUND, candidate=paid.candidate)
    again = dry_run(regional, xlsx_file([row(paid, codes="PAY-1, PAY-3")]))
    (outcome,) = [(row.refund_outcome, row.refund_outcome_text) for row in again.context["result"].valid_rows()]
    assert outcome == ("update", f"Updates the refund request {ticket.reference} ({urumqi.name_zh})")
