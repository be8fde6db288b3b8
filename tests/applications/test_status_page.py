"""The candidate's private status page (edit, withdraw, resubmit) and the status lookup."""

import re
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from applications.models import Application, ApplicationEvent, Status
from core.references import new_reference
from offices.workdays import BEIJING
from tests.factories import approve, pdf_bytes, submit_application

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _inside_registration(time_machine):
    time_machine.move_to("2024-06-21T10:00:00+08:00")


@pytest.fixture
def application(session_2024, urumqi):
    import datetime

    return submit_application(
        session_2024, urumqi, now=datetime.datetime(2024, 6, 20, 9, tzinfo=BEIJING), language="en", phone="13800000000"
    )


def status_path(application):
    return f"/en/applications/status/{application.status_token}/"


def edit_data(application, **changes):
    data = {
        "office": application.office_id,
        "email": application.email,
        "phone": application.phone,
        "qualification": application.qualification,
        "school": application.school,
        "major": application.major,
        "graduation_date": application.graduation_date.isoformat(),
        "work_start_date": application.work_start_date.isoformat(),
        "claimed_insured_months": application.claimed_insured_months,
        "ce_professional_credits": application.ce_professional_credits,
        "ce_public_credits": application.ce_public_credits,
        "subjects": ["subject_practice", "subject_management", "subject_law"],
    }
    data.update(changes)
    return data


def without_csrf(content):
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


# The status page ---------------------------------------------------------------------------------


def test_the_private_link_shows_the_status_but_not_the_checks(client, application):
    assert urlsplit(application.status_url).path == status_path(application)
    response = client.get(status_path(application))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert application.reference in html
    assert "Submitted, waiting for review" in html
    assert "will decide by 2024-06-24 23:59" in html
    for check in application.checks:
        assert check["message"] not in html
    assert f'href="{status_path(application)}edit/"' in html
    assert f'href="{status_path(application)}withdraw/"' in html


def test_an_unknown_token_is_404(client, application):
    assert client.get("/en/applications/status/not-a-token/").status_code == 404
    assert client.post("/en/applications/status/not-a-token/withdraw/", {"confirm": "on"}).status_code == 404


def test_history_shows_dates_and_statuses_but_no_staff_names(client, application, reviewer_urumqi):
    application.return_for_correction(reviewer_urumqi, "Upload the full social-insurance record.")
    html = client.get(status_path(application)).content.decode()
    assert "Returned for correction" in html
    assert "Upload the full social-insurance record." in html
    assert "reviewer_urumqi" not in html
    history = html.split('id="history"')[1]
    assert "2024-06-20 09:00" in history and "Returned for correction" in history


# Edit, resubmit, withdraw ------------------------------------------------------------------------------


def test_edit_before_a_decision_changes_the_application_and_writes_history(client, application):
    form = client.get(f"{status_path(application)}edit/")
    assert form.status_code == 200 and "no-store" in form["Cache-Control"]
    html = form.content.decode()
    assert 'value="13800000000"' in html
    assert "Current file: shebao.pdf" in html
    assert 'name="name"' not in html and 'name="document_number"' not in html

    data = edit_data(application, phone="13900000000", school="石河子大学", subjects=["subject_law"], name="李四")
    response = client.post(f"{status_path(application)}edit/", data)

    assert response.status_code == 302 and response["Location"] == status_path(application)
    application.refresh_from_db()
    assert (application.phone, application.school, application.status) == (
        "13900000000",
        "石河子大学",
        Status.SUBMITTED,
    )
    assert (application.subject_practice, application.subject_law) == (False, True)
    assert application.candidate.name == "张三"  # identity is not editable here
    assert application.insurance_pdf_name == "shebao.pdf"  # kept without a new upload
    event = application.events.order_by("-pk").first()
    assert (event.actor, event.from_status, event.to_status) == ("candidate", Status.SUBMITTED, Status.SUBMITTED)
    assert "You edited the application" in client.get(status_path(application)).content.decode()


def test_edit_errors_are_shown_next_to_the_field_and_a_new_file_replaces_the_old(client, application):
    new_pdf = SimpleUploadedFile("new-record.pdf", pdf_bytes("new"))
    response = client.post(
        f"{status_path(application)}edit/", edit_data(application, email="nope", insurance_pdf=new_pdf)
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a valid email address." in html
    assert "Kept: new-record.pdf" in html
    token = re.search(r'name="insurance_pdf_kept" value="([^"]+)"', html).group(1)

    response = client.post(f"{status_path(application)}edit/", {**edit_data(application), "insurance_pdf_kept": token})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.insurance_pdf_name == "new-record.pdf"
    assert application.insurance_pdf.read() == pdf_bytes("new")


def test_a_returned_application_is_resubmitted_by_the_edit(client, application, reviewer_urumqi):
    application.return_for_correction(reviewer_urumqi, "Claim the months of the PDF.")
    html = client.get(f"{status_path(application)}edit/").content.decode()
    assert "Claim the months of the PDF." in html
    response = client.post(f"{status_path(application)}edit/", edit_data(application, claimed_insured_months=130))
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.status, application.claimed_insured_months) == (Status.SUBMITTED, 130)
    assert list(application.events.values_list("to_status", flat=True)) == ["submitted", "returned", "submitted"]


def test_withdraw_needs_confirmation(client, application):
    page = client.get(f"{status_path(application)}withdraw/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    response = client.post(f"{status_path(application)}withdraw/", {})
    assert response.status_code == 200
    assert "Tick the box to confirm that you want to withdraw." in response.content.decode()
    assert Application.objects.get(pk=application.pk).status == Status.SUBMITTED

    response = client.post(f"{status_path(application)}withdraw/", {"confirm": "on"})
    assert response.status_code == 302 and response["Location"] == status_path(application)
    assert Application.objects.get(pk=application.pk).status == Status.WITHDRAWN
    html = client.get(status_path(application)).content.decode()
    assert "You withdrew this application." in html
    assert "/withdraw/" not in html


def test_nothing_changes_after_payment(client, application, reviewer_urumqi):
    import datetime

    approve(application, reviewer_urumqi)
    application.mark_paid(datetime.datetime(2024, 6, 22, 10, tzinfo=BEIJING), "P-1")
    events = ApplicationEvent.objects.count()

    html = client.get(status_path(application)).content.decode()
    assert "Nothing can change after payment (FAQ 14)" in html
    assert "/edit/" not in html and "/withdraw/" not in html
    assert "reviewer_urumqi" not in html

    edit = client.post(f"{status_path(application)}edit/", edit_data(application, phone="13900000000"))
    withdraw = client.post(f"{status_path(application)}withdraw/", {"confirm": "on"})
    for response in (edit, withdraw):
        assert response.status_code == 409
        assert (
            f"{application.reference} is paid: nothing can change after payment (FAQ 14)." in response.content.decode()
        )
        assert "no-store" in response["Cache-Control"]
    application.refresh_from_db()
    assert (application.status, application.phone) == (Status.PAID, "13800000000")
    assert ApplicationEvent.objects.count() == events


def test_a_decided_application_cannot_be_edited_and_the_refusal_names_no_staff(client, application, reviewer_urumqi):
    approve(application, reviewer_urumqi)
    response = client.post(f"{status_path(application)}edit/", edit_data(application, phone="13900000000"))
    assert response.status_code == 409
    html = response.content.decode()
    assert "it can no longer be changed online" in html
    assert "reviewer_urumqi" not in html
    assert Application.objects.get(pk=application.pk).phone == "13800000000"


# Lookup by reference + document number ----------------------------------------------------------------


def test_lookup_with_the_right_pair_redirects_to_the_private_page(client, application):
    number = application.candidate.document_number
    spaced = f" {application.reference[:5].lower()} {application.reference[5:]} "
    response = client.post("/en/applications/status/", {"reference": spaced, "document_number": number.lower()})
    assert response.status_code == 302
    assert response["Location"] == status_path(application)
    assert "no-store" in client.get("/en/applications/status/")["Cache-Control"]


def test_wrong_number_and_unknown_reference_get_the_same_answer(client, application, session_2024, urumqi):
    other = submit_application(session_2024, urumqi)
    wrong_number = client.post(
        "/en/applications/status/",
        {"reference": application.reference, "document_number": other.candidate.document_number},
    )
    unknown = client.post(
        "/en/applications/status/",
        {"reference": new_reference("A"), "document_number": application.candidate.document_number},
    )
    assert wrong_number.status_code == unknown.status_code == 200
    assert without_csrf(wrong_number.content) == without_csrf(unknown.content)
    assert b"No application matches this reference and document number." in unknown.content
    assert application.reference.encode() not in wrong_number.content


def test_a_malformed_reference_is_reported_on_its_field(client):
    response = client.post("/en/applications/status/", {"reference": "A12345", "document_number": "E1234567"})
    assert "This is not a valid reference" in response.content.decode()


def test_lookup_is_rate_limited_per_address(client, settings, application):
    settings.PORTAL_RATE_LOOKUP = "2/m"
    data = {"reference": new_reference("A"), "document_number": "E1234567"}
    for number in ("E0000001", "E0000002"):
        assert client.post("/en/applications/status/", {**data, "document_number": number}).status_code == 200
    response = client.post("/en/applications/status/", data)
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


def test_lookup_is_rate_limited_per_document_number_across_addresses(client, settings, application):
    settings.PORTAL_RATE_LOOKUP_PER_DOCUMENT = "2/m"
    number = application.candidate.document_number
    for address in ("10.0.0.1", "10.0.0.2"):
        response = client.post(
            "/en/applications/status/",
            {"reference": new_reference("A"), "document_number": number},
            REMOTE_ADDR=address,
        )
        assert response.status_code == 200
    # Same number typed differently, from a third address, with the right reference: still limited.
    response = client.post(
        "/en/applications/status/",
        {"reference": application.reference, "document_number": number.lower()},
        REMOTE_ADDR="10.0.0.3",
    )
    assert response.status_code == 429


def test_right_lookups_never_spend_the_per_number_limit(client, settings, application):
    settings.PORTAL_RATE_LOOKUP_PER_DOCUMENT = "2/h"
    number = application.candidate.document_number
    right = {"reference": application.reference, "document_number": number}
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"):
        assert client.post("/en/applications/status/", right, REMOTE_ADDR=address).status_code == 302
    # Someone who knows the number but not the reference: the failures count, up to the limit.
    wrong = {"reference": new_reference("A"), "document_number": number}
    for address in ("10.0.0.5", "10.0.0.6"):
        assert client.post("/en/applications/status/", wrong, REMOTE_ADDR=address).status_code == 200
    refused = client.post("/en/applications/status/", right, REMOTE_ADDR="10.0.0.7")
    assert refused.status_code == 429
    # The candidate is told the way in that no limit closes.
    assert "The private link in your confirmation email still works" in refused.content.decode()


def test_the_lookup_limit_page_points_to_the_private_link_in_chinese_too(client, settings, application):
    settings.PORTAL_RATE_LOOKUP = "1/h"
    data = {"reference": new_reference("A"), "document_number": "E1234567"}
    client.post("/zh-hans/applications/status/", data)
    refused = client.post("/zh-hans/applications/status/", data)
    assert refused.status_code == 429
    assert "确认邮件中的专属链接仍然有效" in refused.content.decode()


def test_no_online_change_after_registration_closes(client, application, time_machine):
    time_machine.move_to("2024-07-02T12:00:00+08:00")
    response = client.post(status_path(application) + "edit/", edit_data(application, phone="13999999999"))
    assert response.status_code == 409
    assert "Registration is closed" in response.content.decode()
    application.refresh_from_db()
    assert application.phone == "13800000000"
