"""Spreadsheet jobs through a real Celery worker process (tests/worker.py): an import checked, confirmed and
imported, and an export written, by the worker in its own process, with its own database connection, reporting
its progress to the result backend that the job's page reads. Eager tests: tests/portal/test_spreadsheet_jobs.py."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from import_export_extensions.models import ExportJob, ImportJob

from applications.models import Payment, Status
from tests import worker as worker_helpers
from tests.applications.admin_helpers import application, clone_applications, staff_client
from tests.factories import approve, resident_id

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

# The worker process and the fixture that sends this module's tasks to it (tests/worker.py).
celery_worker_process = worker_helpers.celery_worker_process
worker = worker_helpers.worker

JOB_SECONDS = 60
Import, Export = ImportJob.ImportStatus, ExportJob.ExportStatus


@pytest.fixture(autouse=True)
def shared_files(settings, worker):
    """The web process and the worker store and read the jobs' files in one place, as in production."""
    settings.MEDIA_ROOT = worker.media_root
    settings.PORTAL_BACKGROUND_SPREADSHEET_ROWS = 5


def job_status(model, pk, *statuses):
    job = model.objects.get(pk=pk)
    status = job.import_status if model is ImportJob else job.export_status
    return job if status in statuses else None


def test_a_payment_list_is_checked_and_imported_by_the_worker(client, worker, regional_admin, session_2024, urumqi):
    approved = application(session_2024, urumqi)
    approve(approved, regional_admin)
    book = openpyxl.Workbook()
    book.active.append(["证件号码", "姓名", "缴费金额", "缴费时间", "缴费编号"])
    paid_at = datetime.datetime(2024, 7, 1, 10, 30)
    book.active.append([approved.candidate.document_number, approved.candidate.name, 300, paid_at, "PAY-W1"])
    for n in range(6):
        book.active.append([resident_id(area="650103"), f"路人{n}", 300, paid_at, f"PAY-X{n}"])
    out = io.BytesIO()
    book.save(out)

    regional = staff_client(client, regional_admin)
    upload = SimpleUploadedFile("payments.xlsx", out.getvalue())
    response = regional.post(
        "/admin/applications/payment/import/",
        {"import_file": upload, "format": "0", "resource": "0", "session": session_2024.pk},
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    job = ImportJob.objects.get(created_by=regional_admin)
    page = f"/admin/applications/payment/import-jobs/{job.pk}/"
    assert response["Location"] == page

    worker.wait_for(lambda: job_status(ImportJob, job.pk, Import.PARSED, Import.INPUT_ERROR, Import.PARSE_ERROR),
                    "the check", seconds=JOB_SECONDS)  # fmt: skip
    job.refresh_from_db()
    assert job.import_status == Import.PARSED, (job.error_message, worker.log()[-3000:])
    assert Payment.objects.count() == 0
    html = regional.get(page).content.decode()
    assert "Result of the check (nothing was imported yet)" in html and "new: 7" in html
    assert "650103********" in html and approved.candidate.document_number not in html

    assert regional.post(f"{page}confirm/").status_code == 302
    worker.wait_for(lambda: job_status(ImportJob, job.pk, Import.IMPORTED, Import.IMPORT_ERROR),
                    "the import", seconds=JOB_SECONDS)  # fmt: skip
    job.refresh_from_db()
    assert job.import_status == Import.IMPORTED, (job.error_message, worker.log()[-3000:])
    assert Payment.objects.count() == 7
    approved.refresh_from_db()
    assert approved.status == Status.PAID
    html = regional.get(page).content.decode()
    assert "Result of the import" in html and "1 application(s) now paid; 6 unmatched" in html


def test_an_export_is_written_by_the_worker(client, worker, manager_urumqi, reviewer_urumqi, session_2024, urumqi):
    first = application(session_2024, urumqi)
    approve(first, reviewer_urumqi)
    ours = [first, *clone_applications(first, 6)]

    manager = staff_client(client, manager_urumqi)
    data = {"format": "1", "resource": "0", "applicationexportresource_reference": "on"}
    response = manager.post("/admin/applications/application/export/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    job = ExportJob.objects.get(created_by=manager_urumqi)
    page = f"/admin/applications/application/export-jobs/{job.pk}/"
    assert response["Location"] == page

    worker.wait_for(lambda: job_status(ExportJob, job.pk, Export.EXPORTED, Export.EXPORT_ERROR),
                    "the export", seconds=JOB_SECONDS)  # fmt: skip
    job.refresh_from_db()
    assert job.export_status == Export.EXPORTED, (job.error_message, worker.log()[-3000:])
    assert f"{page}download/" in manager.get(page).content.decode()
    response = manager.get(f"{page}download/")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
    assert rows[0] == ["reference"]
    assert sorted(line[0] for line in rows[1:]) == sorted(app.reference for app in ours)
