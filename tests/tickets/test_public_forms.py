"""The public request forms: one ticket per submission, windows on the server, one open request per kind
and scope, errors next to their fields in the page's language, kept uploads, abuse."""

import datetime

import pytest
from django.utils import translation

from applications.models import Candidate
from core.forms import KEPT_SUFFIX
from core.id_numbers import check_digit
from core.models import PendingUpload
from notifications.models import OutboxMessage
from offices.workdays import BEIJING
from tests.factories import approve, pdf_bytes, png_bytes, submit_application
from tickets.models import InfoChange, Kind, Refund, Ticket

from .request_data import (
    IN_WINDOW,
    KIND_SLUGS,
    PASSWORD_SHAPE,
    field_html,
    file_request,
    form_data,
    pdf_upload,
    png_upload,
)

pytestmark = pytest.mark.django_db

CHECK_DIGIT_ERROR = "The check digit of this ID number is wrong: please check every digit."
SELF_SERVICE_ERROR = "For the national platform, try the self-service recovery first (FAQ 5)."
DUPLICATE_ERROR = "You already have an open request of this kind."


@pytest.fixture
def in_window(time_machine):
    time_machine.move_to(IN_WINDOW)


def nothing_saved():
    return not Ticket.objects.exists() and not Candidate.objects.exists()


def non_field_errors(html):
    return html.split('class="form-errors"')[1].split("</div>")[0]


def paid_application(session, office, number, reviewer, time_machine):
    """An application of `number`'s candidate, approved and paid inside the 2024 windows."""
    application = submit_application(
        session,
        office,
        identity_changes={"document_number": number},
        now=datetime.datetime(2024, 6, 20, 9, tzinfo=BEIJING),
    )
    approve(application, reviewer, now=datetime.datetime(2024, 6, 21, 9, tzinfo=BEIJING))
    application.mark_paid(datetime.datetime(2024, 6, 21, 10, tzinfo=BEIJING), "PAY-1")
    return application


# Each kind creates its ticket -----------------------------------------------------------------------


@pytest.mark.usefixtures("in_window")
@pytest.mark.parametrize("slug", KIND_SLUGS)
def test_each_form_creates_a_ticket_with_its_detail_row_and_a_confirmation_email(client, slug, session_2024):
    response, data = file_request(client, slug)

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/en/requests/submitted/{ticket.status_token}/"
    assert ticket.detail is not None
    assert (ticket.candidate.name, ticket.candidate.document_number) == ("张三", data["document_number"])
    assert (ticket.office_id, ticket.email, ticket.phone, ticket.language) == (
        "650100",
        "zhang@example.com",
        "13800000000",
        "en",
    )
    email = OutboxMessage.objects.get(dedup_key=f"ticket:{ticket.pk}:received")
    assert email.recipient == "zhang@example.com"
    assert ticket.reference in email.context["subject"]
    assert ticket.status_url in email.context["body"]
    assert not PendingUpload.objects.exists()

    page = client.get(response["Location"])
    html = page.content.decode()
    assert ticket.reference in html
    assert f'href="/en/requests/status/{ticket.status_token}/print/"' in html
    assert ticket.status_url in html
    for text in (html, email.context["subject"] + email.context["body"]):
        assert not PASSWORD_SHAPE.search(text)


@pytest.mark.usefixtures("in_window")
def test_the_detail_rows_hold_what_the_candidate_typed(client, session_2024):
    file_request(client, "password-reset", platform="national", self_service_tried="on")
    file_request(client, "info-change")
    file_request(client, "refund")
    file_request(client, "exemption")
    file_request(client, "certification-deletion")

    reset = Ticket.objects.get(kind=Kind.PASSWORD_RESET)
    assert (reset.detail.platform, reset.detail.self_service_tried, reset.session) == ("national", True, None)
    change = Ticket.objects.get(kind=Kind.INFO_CHANGE)
    assert (change.detail.scope, change.detail.old_name, change.detail.new_name) == (
        InfoChange.Scope.PLATFORM_IDENTITY,
        "张三",
        "张珊",
    )
    assert (change.session, change.deadline, change.detail.application) == (None, None, None)
    assert change.detail.proof_name == "name-change.pdf"
    assert change.detail.proof.read() == pdf_bytes()
    refund = Ticket.objects.get(kind=Kind.REFUND)
    assert (refund.session, refund.detail.source, refund.detail.receipt_name) == (
        session_2024,
        Refund.Source.CANDIDATE_REPORT,
        "receipt.pdf",
    )
    assert (refund.detail.payment_codes, refund.detail.amounts) == ("6500001, 6500002", "176, 176")
    exemption = Ticket.objects.get(kind=Kind.EXEMPTION)
    assert (exemption.session, exemption.deadline) == (session_2024, session_2024.exemption_deadline)
    assert (exemption.detail.degree, exemption.detail.graduation_date) == ("mpacc", datetime.date(2015, 6, 30))
    deletion = Ticket.objects.get(kind=Kind.CERT_DELETION)
    assert "申请删除实名认证信息" in deletion.detail.statement
    assert deletion.session is None


@pytest.mark.usefixtures("in_window")
def test_the_form_lists_the_fourteen_local_offices_and_has_a_one_time_key(client):
    html = client.get("/en/requests/password-reset/new/").content.decode()
    offices = field_html(html, "office")
    assert offices.count('<option value="65') == 14 and "650000" not in offices
    assert 'name="submission_key"' in html and 'name="website"' in html


def test_an_unknown_kind_is_404(client):
    assert client.get("/en/requests/lottery/new/").status_code == 404


# Password reset: the national platform needs the self-service box --------------------------------------------


@pytest.mark.usefixtures("in_window")
def test_a_national_platform_reset_without_trying_self_service_is_refused_on_its_field(client):
    response, data = file_request(client, "password-reset", platform="national")
    assert response.status_code == 200
    html = response.content.decode()
    assert SELF_SERVICE_ERROR in field_html(html, "self_service_tried")
    assert f'value="{data["document_number"]}"' in html
    assert nothing_saved()

    response, _data = file_request(client, "password-reset", platform="national", self_service_tried="on")
    assert response.status_code == 302
    # The Xinjiang platform has no self-service recovery (FAQ 4).
    response, _data = file_request(client, "password-reset", platform="xinjiang")
    assert response.status_code == 302
    assert Ticket.objects.count() == 2


# Windows ------------------------------------------------------------------------------------------------


def test_an_exemption_just_before_the_deadline_is_accepted(client, time_machine):
    time_machine.move_to("2024-07-02T11:59:59+08:00", tick=False)
    response, _data = file_request(client, "exemption")
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.deadline == datetime.datetime(2024, 7, 2, 12, tzinfo=BEIJING)
    html = client.get(response["Location"]).content.decode()
    assert "2024-07-02 12:00" in html


@pytest.mark.parametrize("moment", ["2024-07-02T12:00:00+08:00", "2024-07-03T09:00:00+08:00"], ids=["at", "after"])
def test_an_exemption_at_or_after_the_deadline_is_refused_and_nothing_is_saved(client, time_machine, moment):
    time_machine.move_to(moment, tick=False)
    response, data = file_request(client, "exemption")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Subject exemption requests were accepted until 2024-07-02 12:00 (Beijing time)" in non_field_errors(html)
    assert 'value="新疆财经大学"' in html and f'value="{data["document_number"]}"' in html
    assert nothing_saved()
    assert not OutboxMessage.objects.exists()


def test_the_exemption_form_after_the_deadline_shows_the_refusal_instead_of_the_form(client, time_machine):
    time_machine.move_to("2024-07-02T11:59:59+08:00", tick=False)
    assert 'name="submission_key"' in client.get("/en/requests/exemption/new/").content.decode()
    time_machine.move_to("2024-07-02T12:00:00+08:00", tick=False)
    html = client.get("/en/requests/exemption/new/").content.decode()
    assert "Subject exemption requests were accepted until 2024-07-02 12:00 (Beijing time)" in html
    assert 'name="submission_key"' not in html
    # Other kinds stay open.
    assert 'name="submission_key"' in client.get("/en/requests/password-reset/new/").content.decode()


def test_the_deadline_is_the_sessions_data(client, time_machine, session_2024):
    session_2024.exemption_deadline = datetime.datetime(2024, 7, 1, 12, tzinfo=BEIJING)
    session_2024.save()
    time_machine.move_to("2024-07-01T12:30:00+08:00", tick=False)
    response, _data = file_request(client, "exemption")
    assert "accepted until 2024-07-01 12:00 (Beijing time)" in response.content.decode()
    assert nothing_saved()


def test_a_registration_change_is_linked_to_the_paid_application_until_the_end_of_the_deadline_day(
    client, time_machine, session_2024, urumqi, reviewer_urumqi
):
    data = form_data("info-change", scope="registration", changes=["name", "photo"], new_photo=png_upload())
    application = paid_application(session_2024, urumqi, data["document_number"], reviewer_urumqi, time_machine)

    time_machine.move_to("2024-08-18T23:59:59+08:00", tick=False)
    response = client.post("/en/requests/info-change/new/", data)

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.session, ticket.detail.application) == (session_2024, application)
    assert ticket.deadline == datetime.datetime(2024, 8, 19, tzinfo=BEIJING)
    assert ticket.detail.changed_fields() == ["name", "photo"]
    assert ticket.detail.new_photo.read() == png_bytes()


def test_a_registration_change_after_the_info_change_deadline_is_refused(
    client, time_machine, session_2024, urumqi, reviewer_urumqi
):
    data = form_data("info-change", scope="registration")
    paid_application(session_2024, urumqi, data["document_number"], reviewer_urumqi, time_machine)
    candidates = Candidate.objects.count()

    time_machine.move_to("2024-08-19T00:00:00+08:00", tick=False)
    html = client.post("/en/requests/info-change/new/", data).content.decode()

    assert "Changes of the registration after payment were accepted until the end of 2024-08-18" in (
        non_field_errors(html)
    )
    assert 'value="张珊"' in html
    assert not Ticket.objects.exists() and Candidate.objects.count() == candidates
    assert not PendingUpload.objects.exists()
    # The platform identity (FAQ 9) has no deadline.
    data = form_data("info-change", document_number=data["document_number"])
    assert client.post("/en/requests/info-change/new/", data).status_code == 302


@pytest.mark.usefixtures("in_window")
def test_a_registration_change_needs_a_paid_application(client, session_2024, urumqi):
    data = form_data("info-change", scope="registration")
    submit_application(session_2024, urumqi, identity_changes={"document_number": data["document_number"]})
    html = client.post("/en/requests/info-change/new/", data).content.decode()
    assert "This is only for paid applications" in field_html(html, "scope")
    assert not Ticket.objects.exists()


@pytest.mark.usefixtures("in_window")
def test_an_info_change_needs_the_new_values_and_a_proof(client):
    response, _data = file_request(
        client, "info-change", changes=["name", "document_number", "photo"], new_name="", proof=None
    )
    html = response.content.decode()
    assert "Enter the new value." in field_html(html, "new_name")
    assert "Enter the new value." in field_html(html, "new_document_number")
    assert "Upload the new photo." in field_html(html, "new_photo")
    assert "Upload a proof of the change." in field_html(html, "proof")
    assert nothing_saved()

    response, _data = file_request(client, "info-change", changes=["photo"], proof=None, new_photo=png_upload())
    assert response.status_code == 302  # a photo alone needs no proof


# One open request per kind and scope -------------------------------------------------------------------


@pytest.mark.usefixtures("in_window")
def test_a_second_open_request_of_the_same_kind_and_scope_is_refused_with_a_pointer_to_the_lookup(client):
    first, data = file_request(client, "password-reset", platform="xinjiang")
    assert first.status_code == 302

    again, _data = file_request(client, "password-reset", platform="xinjiang", document_number=data["document_number"])
    assert again.status_code == 200
    errors = non_field_errors(again.content.decode())
    assert DUPLICATE_ERROR in errors
    assert 'href="/en/requests/status/"' in errors
    assert Ticket.objects.count() == 1

    other_platform, _data = file_request(
        client, "password-reset", platform="national", self_service_tried="on", document_number=data["document_number"]
    )
    assert other_platform.status_code == 302
    assert Ticket.objects.count() == 2
    assert Candidate.objects.count() == 1


@pytest.mark.usefixtures("in_window")
def test_a_finished_request_does_not_block_a_new_one(client, reviewer_urumqi):
    _response, data = file_request(client, "certification-deletion")
    Ticket.objects.get().reject(reviewer_urumqi, "Not the account holder.")
    response, _data = file_request(client, "certification-deletion", document_number=data["document_number"])
    assert response.status_code == 302
    assert Ticket.objects.count() == 2


@pytest.mark.usefixtures("in_window")
def test_the_same_submission_key_posted_twice_creates_one_ticket(client):
    data = form_data("exemption")
    first = client.post("/en/requests/exemption/new/", data)
    second = client.post("/en/requests/exemption/new/", data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Ticket.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


# Errors in the page's language, nothing lost -------------------------------------------------------------


def wrong_check_digit(number):
    return number[:17] + ("0" if check_digit(number[:17]) != "0" else "1")


@pytest.mark.usefixtures("in_window")
def test_field_errors_in_english(client):
    data = form_data("exemption", school="")
    data["document_number"] = wrong_check_digit(data["document_number"])
    html = client.post("/en/requests/exemption/new/", data).content.decode()
    assert 'lang="en"' in html
    assert "This field is required." in field_html(html, "school")
    assert CHECK_DIGIT_ERROR in field_html(html, "document_number")
    assert 'value="1075532015000123"' in html and 'value="zhang@example.com"' in html
    assert nothing_saved()


@pytest.mark.usefixtures("in_window")
def test_field_errors_in_chinese(client):
    data = form_data("exemption", school="", email="不是邮箱")
    data["document_number"] = wrong_check_digit(data["document_number"])
    html = client.post("/zh-hans/requests/exemption/new/", data).content.decode()
    assert 'lang="zh-hans"' in html
    assert "这个字段是必填项。" in field_html(html, "school")
    assert "输入一个有效的 Email 地址。" in field_html(html, "email")
    with translation.override("zh-hans"):
        expected = translation.gettext(CHECK_DIGIT_ERROR)
    assert expected in field_html(html, "document_number")
    assert nothing_saved()


@pytest.mark.usefixtures("in_window")
def test_an_upload_that_passed_is_kept_when_another_field_fails(client):
    data = form_data("refund", email="not-an-email")
    html = client.post("/en/requests/refund/new/", data).content.decode()

    pending = PendingUpload.objects.get()
    receipt = field_html(html, "receipt")
    assert f'name="receipt{KEPT_SUFFIX}" value="{pending.token}"' in receipt
    assert "Kept: receipt.pdf" in receipt
    assert nothing_saved()

    fixed = {**data, "email": "zhang@example.com", f"receipt{KEPT_SUFFIX}": pending.token}
    del fixed["receipt"]
    response = client.post("/en/requests/refund/new/", fixed)
    assert response.status_code == 302
    refund = Ticket.objects.get().detail
    assert refund.receipt_name == "receipt.pdf"
    assert refund.receipt.read() == pdf_bytes()
    assert not PendingUpload.objects.exists()


@pytest.mark.usefixtures("in_window")
def test_the_bank_receipt_is_required_and_checked(client):
    html = client.post("/en/requests/refund/new/", form_data("refund", receipt=None)).content.decode()
    assert "Upload the bank receipt of the duplicate payment." in field_html(html, "receipt")
    renamed = pdf_upload("receipt.pdf", b"MZ\x90\x00" + b"\x00" * 300)
    html = client.post("/en/requests/refund/new/", form_data("refund", receipt=renamed)).content.decode()
    assert "Only these file types are accepted" in field_html(html, "receipt")
    assert nothing_saved() and not PendingUpload.objects.exists()


@pytest.mark.usefixtures("in_window")
def test_a_photo_must_be_an_image(client):
    data = form_data("info-change", changes=["photo"], proof=None, new_photo=pdf_upload("photo.pdf"))
    html = client.post("/en/requests/info-change/new/", data).content.decode()
    assert "Only these file types are accepted: JPG, PNG." in field_html(html, "new_photo")
    assert nothing_saved()


# Abuse and caching ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("in_window")
def test_a_filled_honeypot_saves_nothing(client):
    response, _data = file_request(client, "refund", website="http://spam.example")
    assert response.status_code == 200
    assert "The form could not be sent. Check your answers and send it again." in response.content.decode()
    assert nothing_saved() and not PendingUpload.objects.exists()


@pytest.mark.usefixtures("in_window")
def test_too_many_submissions_get_429_in_the_page_language(client, settings):
    settings.PORTAL_RATE_SUBMIT = "2/m"
    for _ in range(2):
        assert file_request(client, "exemption", "zh-hans", email="bad")[0].status_code == 200
    response, _data = file_request(client, "exemption", "zh-hans")
    assert response.status_code == 429
    assert 'lang="zh-hans"' in response.content.decode()
    assert nothing_saved()
    assert client.get("/en/requests/exemption/new/").status_code == 200


@pytest.mark.usefixtures("in_window")
def test_submissions_for_one_document_number_are_limited_across_addresses(client, settings):
    settings.PORTAL_RATE_SUBMIT = "2/m"
    data = form_data("exemption", email="bad")
    for address in ("10.0.0.1", "10.0.0.2"):
        assert client.post("/en/requests/exemption/new/", data, REMOTE_ADDR=address).status_code == 200
    fixed = {**form_data("exemption"), "document_number": data["document_number"].lower()}
    assert client.post("/en/requests/exemption/new/", fixed, REMOTE_ADDR="10.0.0.3").status_code == 429
    assert nothing_saved()


@pytest.mark.usefixtures("in_window")
def test_pages_with_personal_data_are_not_cached(client):
    assert "no-store" in client.get("/en/requests/refund/new/")["Cache-Control"]
    assert "no-store" in file_request(client, "refund", email="bad")[0]["Cache-Control"]
    response, _data = file_request(client, "refund")
    assert "no-store" in response["Cache-Control"]
    assert "no-store" in client.get(response["Location"])["Cache-Control"]


# The requests page ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("in_window")
def test_the_requests_page_explains_each_kind_with_the_sessions_deadlines(client):
    html = client.get("/en/requests/").content.decode()
    for slug in KIND_SLUGS:
        assert f'id="kind-{slug}"' in html
        assert f'href="/en/requests/{slug}/new/"' in html
    exemption = html.split('id="kind-exemption"')[1].split("</section>")[0]
    assert "2024-07-02 12:00" in exemption
    assert "Degree certificate (MPAcc or DPAcc): original and copy" in exemption
    assert "学信网" in exemption and "2002 or later" in exemption
    assert "Exemption application form" in exemption
    change = html.split('id="kind-info-change"')[1].split("</section>")[0]
    assert "until the end of 2024-08-18" in change
    refund = html.split('id="kind-refund"')[1].split("</section>")[0]
    assert "bank card receipts" in refund
    reset = html.split('id="kind-password-reset"')[1].split("</section>")[0]
    assert "tells you the initial password in person" in reset
    assert "Change it at your first login" in reset
    assert not PASSWORD_SHAPE.search(html)
    assert 'href="/en/requests/"' in client.get("/en/").content.decode()  # navigation and home page


def test_after_the_exemption_deadline_the_requests_page_says_it_is_closed(client, time_machine):
    time_machine.move_to("2024-07-02T12:00:00+08:00", tick=False)
    html = client.get("/zh-hans/requests/").content.decode()
    assert 'href="/zh-hans/requests/exemption/new/"' not in html
    assert 'href="/zh-hans/requests/password-reset/new/"' in html
