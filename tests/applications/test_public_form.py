"""The public application form: submission, errors next to their fields, kept uploads, window, abuse."""

import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from applications.models import Application, Candidate, ExamSession, Status
from core.forms import KEPT_SUFFIX
from core.id_numbers import check_digit
from core.models import PendingUpload
from notifications.models import OutboxMessage
from tests.factories import pdf_bytes, png_bytes, resident_id

pytestmark = pytest.mark.django_db

IN_WINDOW = "2024-06-20T10:00:00+08:00"
CHECK_DIGIT_ERROR = "The check digit of this ID number is wrong: please check every digit."


@pytest.fixture
def registration_open(time_machine):
    time_machine.move_to(IN_WINDOW)


def pdf_upload(name="shebao.pdf", content=None):
    return SimpleUploadedFile(name, pdf_bytes() if content is None else content, content_type="application/pdf")


def form_data(**changes):
    data = {
        "name": "张三",
        "document_type": "resident_id",
        "document_number": resident_id("19900101", male=True),
        "birth_date": "1990-01-01",
        "gender": "M",
        "nationality": "",
        "office": "650100",
        "email": "zhang@example.com",
        "phone": "13800000000",
        "qualification": "bachelor",
        "school": "新疆大学",
        "major": "会计学",
        "graduation_date": "2012-07-01",
        "work_start_date": "2012-08-01",
        "claimed_insured_months": "120",
        "ce_professional_credits": "60",
        "ce_public_credits": "30",
        "subjects": ["subject_practice", "subject_law"],
        "submission_key": uuid.uuid4().hex,
        "website": "",
        "insurance_pdf": pdf_upload(),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def wrong_check_digit(number):
    wrong = "0" if check_digit(number[:17]) != "0" else "1"
    return number[:17] + wrong


def field_html(html, name):
    """The markup of one field's block (label, help, errors, input)."""
    match = re.search(
        rf'<div class="field[^"]*" id="field-{name}">(.*?)</div>\s*(?=<div class="field|</fieldset>)', html, re.S
    )
    assert match, f"no field {name} in the page"
    return match.group(1)


def nothing_saved():
    return not Application.objects.exists() and not Candidate.objects.exists()


# A valid submission --------------------------------------------------------------------------------


@pytest.mark.usefixtures("registration_open")
def test_valid_submission_creates_one_application_and_redirects_to_its_confirmation(client):
    response = client.post("/en/applications/apply/", form_data())

    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/en/applications/submitted/{application.status_token}/"
    assert Candidate.objects.get().name == "张三"
    assert (application.status, application.language, application.office_id) == (Status.SUBMITTED, "en", "650100")
    assert (application.subject_practice, application.subject_management, application.subject_law) == (
        True,
        False,
        True,
    )
    assert application.insurance_pdf_name == "shebao.pdf"
    assert application.insurance_pdf.read() == pdf_bytes()
    assert OutboxMessage.objects.get(dedup_key=f"application:{application.pk}:received").recipient == (
        "zhang@example.com"
    )
    assert not PendingUpload.objects.exists()

    page = client.get(response["Location"])
    html = page.content.decode()
    assert application.reference in html
    assert "Submitted, waiting for review" in html
    assert "2024-06-24 23:59" in html  # review due: 2 working days after Thursday 06-20
    assert "2024-07-02 18:00" in html  # payment deadline
    assert application.status_url in html


@pytest.mark.usefixtures("registration_open")
def test_the_same_submission_key_posted_twice_creates_one_application(client):
    key = uuid.uuid4().hex
    first = client.post("/en/applications/apply/", form_data(submission_key=key))
    second = client.post("/en/applications/apply/", form_data(submission_key=key))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Application.objects.count() == 1


@pytest.mark.usefixtures("registration_open")
def test_a_retried_post_with_a_kept_upload_still_leads_to_the_one_application(client):
    data = form_data(email="not-an-email")
    client.post("/en/applications/apply/", data)
    token = PendingUpload.objects.get().token
    fixed = {**form_data(submission_key=data["submission_key"], insurance_pdf=None), "insurance_pdf_kept": token}
    fixed["document_number"] = data["document_number"]
    first = client.post("/en/applications/apply/", fixed)
    second = client.post("/en/applications/apply/", fixed)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Application.objects.count() == 1


@pytest.mark.usefixtures("registration_open")
def test_the_form_lists_the_fourteen_local_offices_by_the_page_language(client):
    en = client.get("/en/applications/apply/").content.decode()
    zh = client.get("/zh-hans/applications/apply/").content.decode()
    office_options = re.findall(r'<option value="(65\d{4})"', field_html(en, "office"))
    assert len(office_options) == 14 and "650000" not in office_options
    assert "Accounting Section, Kashgar Prefecture Finance Bureau" in en
    assert "喀什地区" in field_html(zh, "office")
    assert re.search(r'name="submission_key" value="[0-9a-f]{32}"', en)


# Errors next to their fields, nothing lost -----------------------------------------------------------


@pytest.mark.usefixtures("registration_open")
def test_errors_in_english_keep_what_was_typed_and_the_upload(client):
    data = form_data()
    good_number = data["document_number"]
    data["document_number"] = wrong_check_digit(good_number)
    response = client.post("/en/applications/apply/", data)

    assert response.status_code == 200
    assert nothing_saved()
    html = response.content.decode()
    assert CHECK_DIGIT_ERROR in field_html(html, "document_number")
    assert f'value="{data["document_number"]}"' in html
    assert 'value="新疆大学"' in html and 'value="zhang@example.com"' in html
    assert f'value="{data["submission_key"]}"' in html
    pending = PendingUpload.objects.get()
    insurance = field_html(html, "insurance_pdf")
    assert f'name="insurance_pdf{KEPT_SUFFIX}" value="{pending.token}"' in insurance
    assert "Kept: shebao.pdf" in insurance

    # Only the wrong field is fixed; the PDF is not sent again.
    fixed = {**data, "document_number": good_number, f"insurance_pdf{KEPT_SUFFIX}": pending.token}
    del fixed["insurance_pdf"]
    response = client.post("/en/applications/apply/", fixed)
    assert response.status_code == 302
    application = Application.objects.get()
    assert application.insurance_pdf_name == "shebao.pdf"
    assert application.insurance_pdf.read() == pdf_bytes()
    assert not PendingUpload.objects.exists()


@pytest.mark.usefixtures("registration_open")
def test_errors_in_chinese_on_a_chinese_page(client):
    data = form_data(school="")
    data["document_number"] = wrong_check_digit(data["document_number"])
    response = client.post("/zh-hans/applications/apply/", data)

    html = response.content.decode()
    assert 'lang="zh-hans"' in html
    assert "这个字段是必填项。" in field_html(html, "school")
    with translation.override("zh-hans"):
        expected = translation.gettext(CHECK_DIGIT_ERROR)
    assert expected in field_html(html, "document_number")
    assert 'value="会计学"' in html
    token = PendingUpload.objects.get().token
    assert f'value="{token}"' in field_html(html, "insurance_pdf")
    assert "shebao.pdf" in field_html(html, "insurance_pdf")
    assert nothing_saved()

    fixed = {**form_data(insurance_pdf=None, submission_key=data["submission_key"]), "insurance_pdf_kept": token}
    response = client.post("/zh-hans/applications/apply/", fixed)
    assert response.status_code == 302 and response["Location"].startswith("/zh-hans/applications/submitted/")
    assert Application.objects.get().language == "zh-hans"


@pytest.mark.usefixtures("registration_open")
@pytest.mark.parametrize(
    ("field", "content", "name", "message"),
    [
        ("insurance_pdf", b"MZ\x90\x00" + b"\x00" * 300, "shebao.pdf", "Only these file types are accepted: PDF."),
        ("insurance_pdf", b"", "shebao.pdf", "The file is empty."),
        ("insurance_pdf", b"%PDF-1.4\n/OpenAction << /S /JavaScript /JS (x) >>\n%%EOF", "shebao.pdf", "scripts"),
        ("insurance_pdf", png_bytes(), "shebao.png", "Only these file types are accepted: PDF."),
        ("degree_certificate", png_bytes()[:40], "degree.png", "This image cannot be read."),
    ],
    ids=["renamed-executable", "empty", "javascript-pdf", "png-as-pdf", "truncated-png"],
)
def test_a_bad_upload_is_refused_next_to_its_field(client, field, content, name, message):
    response = client.post("/en/applications/apply/", form_data(**{field: SimpleUploadedFile(name, content)}))
    assert response.status_code == 200
    assert message in field_html(response.content.decode(), field)
    assert nothing_saved()
    assert not PendingUpload.objects.filter(field=field).exists()


@pytest.mark.usefixtures("registration_open")
def test_a_file_over_the_size_limit_is_refused(client, settings):
    settings.PORTAL_UPLOAD_MAX_BYTES = 1024 * 1024
    big = pdf_bytes() + b"\n%" + b"x" * (1024 * 1024)
    response = client.post("/en/applications/apply/", form_data(insurance_pdf=pdf_upload(content=big)))
    assert "The file is larger than 1 MB." in field_html(response.content.decode(), "insurance_pdf")
    assert nothing_saved()


@pytest.mark.usefixtures("registration_open")
def test_the_social_insurance_pdf_is_required(client):
    response = client.post("/en/applications/apply/", form_data(insurance_pdf=None))
    assert "This field is required." in field_html(response.content.decode(), "insurance_pdf")
    assert nothing_saved()


@pytest.mark.usefixtures("registration_open")
def test_at_least_one_subject(client):
    response = client.post("/en/applications/apply/", form_data(subjects=[]))
    assert "Choose at least one subject." in field_html(response.content.decode(), "subjects")
    assert nothing_saved()


@pytest.mark.usefixtures("registration_open")
def test_birth_date_and_gender_must_agree_with_the_id_number(client):
    data = form_data(birth_date="1990-01-02", gender="F")
    html = client.post("/en/applications/apply/", data).content.decode()
    assert "This differs from the birth date in your document number (1990-01-01)." in field_html(html, "birth_date")
    assert "This differs from the gender in your document number (Male)." in field_html(html, "gender")
    assert nothing_saved()


@pytest.mark.usefixtures("registration_open")
def test_a_foreign_passport_needs_a_passport_copy_and_a_nationality(client):
    data = form_data(document_type="passport", document_number="E12345678", nationality="")
    html = client.post("/en/applications/apply/", data).content.decode()
    assert "Foreign candidates must upload a copy of their passport." in field_html(html, "passport_copy")
    assert "Enter the nationality shown on your document." in field_html(html, "nationality")
    assert nothing_saved()


@pytest.mark.usefixtures("registration_open")
def test_a_foreign_candidate_is_told_to_come_in_person(client):
    data = form_data(
        document_type="passport",
        document_number="e1234 5678",
        nationality="Kazakhstan",
        passport_copy=SimpleUploadedFile("passport.png", png_bytes()),
    )
    response = client.post("/en/applications/apply/", data, follow=True)
    application = Application.objects.get()
    assert application.status == Status.IN_PERSON_REVIEW
    assert (application.candidate.document_number, application.candidate.nationality) == ("E12345678", "Kazakhstan")
    assert application.passport_copy_name == "passport.png"
    html = response.content.decode()
    assert "Come in person to your exam office before 2024-07-02 12:00" in html
    assert application.office.address_en in html and application.office.hours_en in html


# The registration window ---------------------------------------------------------------------------


def test_submission_at_11_59_59_on_the_last_day_succeeds(client, time_machine):
    time_machine.move_to("2024-07-02T11:59:59+08:00", tick=False)
    response = client.post("/en/applications/apply/", form_data())
    assert response.status_code == 302
    assert Application.objects.count() == 1


def test_submission_at_12_00_00_is_refused_and_nothing_is_saved(client, time_machine):
    time_machine.move_to("2024-07-02T12:00:00+08:00", tick=False)
    data = form_data()
    response = client.post("/en/applications/apply/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Online registration is open from 2024-06-19 00:00 to 2024-07-02 12:00 (Beijing time)" in html
    assert 'value="新疆大学"' in html
    assert nothing_saved()
    assert not PendingUpload.objects.exists()


@pytest.mark.usefixtures("registration_open")
def test_registration_closing_between_the_checks_and_the_submission_keeps_the_form(client, monkeypatch):
    # The form saw the window open; Application.submit, a moment later, finds it closed.
    monkeypatch.setattr(ExamSession, "registration_is_open", lambda self, now=None: now is None)
    response = client.post("/en/applications/apply/", form_data())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Registration for 2024 intermediate accounting exam is closed." in html
    assert 'value="zhang@example.com"' in html
    assert "Kept: shebao.pdf" in html
    assert nothing_saved()


def test_outside_the_window_the_page_shows_the_dates_instead_of_the_form(client, time_machine):
    time_machine.move_to("2024-07-02T12:00:00+08:00")
    html = client.get("/en/applications/apply/").content.decode()
    assert "is closed: it was open from 2024-06-19 00:00 to 2024-07-02 12:00" in html
    assert 'name="submission_key"' not in html
    time_machine.move_to("2024-06-18T23:00:00+08:00")
    html = client.get("/en/applications/apply/").content.decode()
    assert "is not open yet: it is open from 2024-06-19 00:00 to 2024-07-02 12:00" in html
    assert "Apply now" not in client.get("/en/").content.decode()


@pytest.mark.usefixtures("registration_open")
def test_home_page_invites_to_apply_while_registration_is_open(client):
    html = client.get("/en/").content.decode()
    assert 'href="/en/applications/apply/">Apply now' in html
    assert 'href="/en/applications/status/"' in html


# Abuse ----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("registration_open")
def test_a_filled_honeypot_saves_nothing(client):
    response = client.post("/en/applications/apply/", form_data(website="http://spam.example"))
    assert response.status_code == 200
    assert "The form could not be sent. Check your answers and send it again." in response.content.decode()
    assert nothing_saved()
    assert not PendingUpload.objects.exists()


@pytest.mark.usefixtures("registration_open")
def test_too_many_submissions_from_one_address_get_429_in_the_page_language(client, settings):
    settings.PORTAL_RATE_SUBMIT = "2/m"
    for _ in range(2):
        assert client.post("/zh-hans/applications/apply/", form_data(email="bad")).status_code == 200
    response = client.post("/zh-hans/applications/apply/", form_data())
    assert response.status_code == 429
    assert 'lang="zh-hans"' in response.content.decode()
    assert nothing_saved()
    english = client.post("/en/applications/apply/", form_data())
    assert english.status_code == 429
    assert "Too many attempts" in english.content.decode()
    # Reading the form is not limited.
    assert client.get("/en/applications/apply/").status_code == 200


@pytest.mark.usefixtures("registration_open")
def test_pages_with_personal_data_are_not_cached(client):
    assert "no-store" in client.get("/en/applications/apply/")["Cache-Control"]
    invalid = client.post("/en/applications/apply/", form_data(email="bad"))
    assert "no-store" in invalid["Cache-Control"]
    response = client.post("/en/applications/apply/", form_data())
    assert "no-store" in response["Cache-Control"]
    assert "no-store" in client.get(response["Location"])["Cache-Control"]
