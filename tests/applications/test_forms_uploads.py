"""Uploads of the application form: a valid form hands its checked files straight to the application (no
pending copy written, read back and deleted); a form shown again keeps them. One scan refuses active PDFs."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications.forms import ApplicationForm
from applications.models import Application, ExamSession
from core.forms import KEPT_SUFFIX
from core.models import PendingUpload
from core.uploads import ACTIVE_PDF_NAMES, clean_upload
from tests.factories import pdf_bytes, resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def registration_open(time_machine):
    time_machine.move_to("2024-06-20T10:00:00+08:00")


def form_data(**changes):
    data = {
        "name": "张三",
        "document_type": "resident_id",
        "document_number": resident_id("19900101", male=True),
        "birth_date": "1990-01-01",
        "gender": "M",
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
        "insurance_pdf": SimpleUploadedFile("shebao.pdf", pdf_bytes(), content_type="application/pdf"),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def stored_files(settings):
    return sorted(path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file())


@pytest.mark.usefixtures("registration_open")
def test_a_valid_submission_writes_its_pdf_once_and_no_pending_upload(client, settings):
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/en/applications/apply/", form_data())

    assert response.status_code == 302
    application = Application.objects.get()
    assert not [query for query in queries if "portal_pendingupload" in query["sql"]]
    # The application's copy is the only file: nothing was stored on the side and deleted again.
    assert stored_files(settings) == [settings.MEDIA_ROOT / application.insurance_pdf.name]
    assert application.insurance_pdf.read() == pdf_bytes()
    assert application.insurance_pdf_name == "shebao.pdf"


@pytest.mark.usefixtures("registration_open")
def test_a_valid_form_keeps_its_checked_file_in_memory_until_the_application_takes_it():
    data = form_data()
    files = {"insurance_pdf": data.pop("insurance_pdf")}
    form = ApplicationForm(data, files, session=ExamSession.objects.current(), language="en")

    assert form.is_valid(), form.errors
    assert form.kept["insurance_pdf"].pk is None
    assert not PendingUpload.objects.exists()
    kept = form.kept_files()["insurance_pdf"]
    assert kept.read() == pdf_bytes()
    assert kept.original_name == "shebao.pdf"


@pytest.mark.usefixtures("registration_open")
def test_a_form_with_errors_stores_the_upload_for_the_next_attempt(client):
    response = client.post("/en/applications/apply/", form_data(email="not-an-email"))

    assert response.status_code == 200
    pending = PendingUpload.objects.get()
    assert (pending.field, pending.original_name) == ("insurance_pdf", "shebao.pdf")
    assert pending.file.read() == pdf_bytes()
    assert f'name="insurance_pdf{KEPT_SUFFIX}" value="{pending.token}"' in response.content.decode()


@pytest.mark.usefixtures("registration_open")
def test_a_refusal_at_submission_stores_the_upload_and_the_kept_token_works_later(client, monkeypatch):
    # The form saw the window open; Application.submit, a moment later, finds it closed.
    with monkeypatch.context() as patch:
        patch.setattr(ExamSession, "registration_is_open", lambda self, now=None: now is None)
        data = form_data()
        response = client.post("/en/applications/apply/", data)
    assert response.status_code == 200
    pending = PendingUpload.objects.get()
    assert f'name="insurance_pdf{KEPT_SUFFIX}" value="{pending.token}"' in response.content.decode()
    assert not Application.objects.exists()

    again = {**data, f"insurance_pdf{KEPT_SUFFIX}": pending.token}
    del again["insurance_pdf"]
    assert client.post("/en/applications/apply/", again).status_code == 302
    assert Application.objects.get().insurance_pdf.read() == pdf_bytes()
    assert not PendingUpload.objects.exists()


@pytest.mark.usefixtures("registration_open")
def test_the_same_form_posted_twice_leads_to_its_confirmation_with_one_light_query(client):
    data = form_data()
    first = client.post("/en/applications/apply/", data)
    data["insurance_pdf"] = SimpleUploadedFile("shebao.pdf", pdf_bytes(), content_type="application/pdf")
    with CaptureQueriesContext(connection) as queries:
        second = client.post("/en/applications/apply/", data)
    assert first["Location"] == second["Location"]
    assert Application.objects.count() == 1
    lookup = next(query["sql"] for query in queries if "submission_key" in query["sql"])
    assert '"applications_application"."email"' not in lookup


@pytest.mark.parametrize("name", ACTIVE_PDF_NAMES)
def test_every_active_pdf_name_is_refused(name):
    content = pdf_bytes().replace(b"%%EOF", name + b" %%EOF")
    with pytest.raises(ValidationError) as refusal:
        clean_upload(SimpleUploadedFile("shebao.pdf", content))
    assert refusal.value.code == "pdf_active"


def test_a_plain_pdf_passes_the_scan():
    assert clean_upload(SimpleUploadedFile("shebao.pdf", pdf_bytes())).read() == pdf_bytes()


@pytest.mark.usefixtures("registration_open")
def test_the_stored_pdf_is_the_one_the_parser_read_without_what_was_appended(client):
    appended = b'\n<html><body onload="alert(document.domain)">page</body></html>\n'
    upload = SimpleUploadedFile("shebao.pdf", pdf_bytes() + appended, content_type="application/pdf")
    assert client.post("/en/applications/apply/", form_data(insurance_pdf=upload)).status_code == 302
    assert Application.objects.get().insurance_pdf.read() == pdf_bytes()
