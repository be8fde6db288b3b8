"""Large imports and exports run as background jobs of django-import-export-extensions (core/admin_spreadsheets.py):
progress, report, confirmation, download, scoping, and 404 for anyone but the job's creator. Tasks run eagerly
here; tests/portal/test_spreadsheet_jobs_worker.py runs an import and an export through a real worker. Below the
threshold the usual synchronous pages stay (their own tests cover them)."""

import csv
import datetime
import io
import os
import uuid

import openpyxl
import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from import_export_extensions.models import ExportJob, ImportJob

from applications.models import Application, ApplicationEvent, Payment, Status
from notifications.models import OutboxMessage
from offices.models import Office, User
from portal.celery import app as celery_app
from portal.sweeps import delete_old_spreadsheet_jobs
from tests.applications.admin_helpers import application, clone_applications, messages_of, staff_client
from tests.factories import approve, resident_id, submit_application
from tickets.models import DuplicatePayment, Kind, Ticket

pytestmark = pytest.mark.django_db

PAYMENTS = "/admin/applications/payment/"
PAYMENT_IMPORT = f"{PAYMENTS}import/"
DUPLICATE_IMPORT = "/admin/tickets/duplicatepayment/import/"
APPLICATIONS = "/admin/applications/application/"
EXPORT = f"{APPLICATIONS}export/"
IMPORT_JOBS = "/admin/import_export_extensions/importjob/"
EXPORT_JOBS = "/admin/import_export_extensions/exportjob/"
XLSX, CSV = "0", "1"  # positions in IMPORT_EXPORT_FORMATS
PAYMENT_HEADERS = ["证件号码", "姓名", "缴费金额", "缴费时间", "缴费编号"]
EXPORT_COLUMNS = (
    "reference",
    "office",
    "document_number",
    "name",
    "qualification",
    "status",
    "decided_by",
    "decided_at",
    "verified_months",
)
Import, Export = ImportJob.ImportStatus, ExportJob.ExportStatus


@pytest.fixture(autouse=True)
def small_threshold(settings):
    settings.PORTAL_BACKGROUND_SPREADSHEET_ROWS = 5


@pytest.fixture
def kashgar(db):
    return Office.objects.get(code="653100")


@pytest.fixture
def manager_kashgar(staff):
    user = staff["reviewer_kashgar"]
    user.role = "manager"
    user.save()
    return user


@pytest.fixture
def other_regional(staff):
    return User.objects.create_staff(
        "regional_second", office=Office.objects.get(code="650000"), role="regional", password="x" * 12
    )


def xlsx_upload(headers, rows, name="list.xlsx"):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def payment_row(app, code, paid_at=datetime.datetime(2024, 7, 1, 10, 30), amount=300):
    return [app.candidate.document_number, app.candidate.name, amount, paid_at, code]


def stranger_rows(count):
    paid_at = datetime.datetime(2024, 7, 1, 9)
    return [[resident_id(area="650103"), f"路人{n}", 300, paid_at, f"PAY-X{n}"] for n in range(count)]


def import_payments(client, rows, session, callbacks, headers=PAYMENT_HEADERS, upload=None):
    upload = upload or xlsx_upload(headers, rows)
    data = {"import_file": upload, "format": XLSX, "resource": "0", "session": session.pk}
    with callbacks(execute=True):
        return client.post(PAYMENT_IMPORT, data)


def job_page(job):
    admin = f"{PAYMENTS}import-jobs" if isinstance(job, ImportJob) else f"{APPLICATIONS}export-jobs"
    return f"{admin}/{job.pk}/"


def the_job(response, model=ImportJob):
    assert response.status_code == 302, response.content.decode()[-2000:]
    job = model.objects.latest("pk")
    assert response["Location"] == job_page(job)
    return job


def confirm(client, job, callbacks):
    with callbacks(execute=True):
        return client.post(f"{job_page(job)}confirm/")


def state():
    return (
        Payment.objects.count(),
        ApplicationEvent.objects.count(),
        OutboxMessage.objects.count(),
        list(Application.objects.order_by("pk").values_list("status", flat=True)),
    )


@pytest.fixture
def approved(session_2024, urumqi, reviewer_urumqi):
    apps = [application(session_2024, urumqi) for _ in range(2)]
    for app in apps:
        approve(app, reviewer_urumqi)
    return apps


@pytest.fixture
def regional(client, regional_admin):
    return staff_client(client, regional_admin)


# Imports -------------------------------------------------------------------------------------------------


def test_a_large_payment_list_is_checked_in_the_background_then_confirmed(
    regional, regional_admin, session_2024, approved, django_capture_on_commit_callbacks
):
    rows = [payment_row(approved[0], "PAY-1"), payment_row(approved[1], "PAY-2"), *stranger_rows(4)]
    before = state()
    response = import_payments(regional, rows, session_2024, django_capture_on_commit_callbacks)
    job = the_job(response)
    assert any("checked in the background" in message for message in messages_of(response))
    job.refresh_from_db()
    assert job.import_status == Import.PARSED
    assert job.created_by == regional_admin
    assert job.resource_kwargs == {"session": session_2024.pk, "created_by": regional_admin.pk, "language": "en"}
    assert job.data_file.name.endswith("/list.xlsx")
    assert state() == before  # the check changed nothing

    page = regional.get(job_page(job))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Result of the check (nothing was imported yet)" in html
    assert "new: 6" in html
    assert "Unmatched rows" in html and "650103********" in html and "路人0" in html
    assert all(app.candidate.document_number not in html for app in approved)
    assert 'http-equiv="refresh"' not in html  # nothing runs any more
    assert "Confirm import" in html and f'action="{job_page(job)}confirm/"' in html
    listing = regional.get(IMPORT_JOBS).content.decode()
    assert f'href="{job_page(job)}"' in listing and "Payment records (list.xlsx)" in listing

    response = confirm(regional, job, django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"] == job_page(job)
    job.refresh_from_db()
    assert job.import_status == Import.IMPORTED
    assert Payment.objects.count() == 6
    for app in approved:
        app.refresh_from_db()
        assert app.status == Status.PAID
    # The admin log of the import, written by the worker for the job's creator (as the import page writes it).
    entries = LogEntry.objects.filter(user=regional_admin, action_flag=ADDITION, content_type__model="payment")
    assert entries.count() == 6
    html = regional.get(job_page(job)).content.decode()
    assert "Result of the import" in html
    assert "2 application(s) now paid; 4 unmatched" in html
    assert "Confirm import" not in html
    # A second confirmation does nothing.
    response = confirm(regional, job, django_capture_on_commit_callbacks)
    assert any("not waiting for confirmation" in message for message in messages_of(response))

    # The same file again: checked, confirmed, and nothing changes.
    after = state()
    again = the_job(import_payments(regional, rows, session_2024, django_capture_on_commit_callbacks))
    confirm(regional, again, django_capture_on_commit_callbacks)
    again.refresh_from_db()
    assert again.import_status == Import.IMPORTED
    assert again.result.totals["skip"] == 6
    assert state() == after


def test_a_bad_row_fails_the_check_and_changes_nothing(
    regional, session_2024, approved, django_capture_on_commit_callbacks
):
    rows = [
        payment_row(approved[0], "PAY-1"),
        [approved[1].candidate.document_number, "张三", 300, "2024-07-01", "PAY-2"],  # no time of day
        *stranger_rows(3),
        [approved[1].candidate.document_number, "张三", -5, datetime.datetime(2024, 7, 1, 9), "PAY-3"],
    ]
    before = state()
    job = the_job(import_payments(regional, rows, session_2024, django_capture_on_commit_callbacks))
    job.refresh_from_db()
    assert job.import_status == Import.INPUT_ERROR
    html = regional.get(job_page(job)).content.decode()
    assert "Line number: 2 (paid_at) - Enter the payment time as 2024-07-02 17:30:00 (Beijing time)." in html
    assert "Line number: 6 (amount) - The amount must be a positive number." in html
    assert "Nothing was imported." in html and "Confirm import" not in html
    assert all(app.candidate.document_number not in html for app in approved)
    assert confirm(regional, job, django_capture_on_commit_callbacks).status_code == 302
    assert ImportJob.objects.get(pk=job.pk).import_status == Import.INPUT_ERROR
    assert state() == before


def test_a_confirmed_import_that_fails_writes_nothing(
    regional, session_2024, approved, django_capture_on_commit_callbacks
):
    """The file is checked again on confirmation: what changed since the check is caught, all or nothing."""
    rows = [payment_row(approved[0], "PAY-1"), payment_row(approved[1], "PAY-2"), *stranger_rows(4)]
    job = the_job(import_payments(regional, rows, session_2024, django_capture_on_commit_callbacks))
    job.refresh_from_db()
    assert job.import_status == Import.PARSED
    Payment.objects.create(
        session=session_2024,
        payment_code="PAY-2",
        document_number=approved[1].candidate.document_number,
        name="张三",
        amount=999,
        paid_at=timezone.now(),
    )
    before = state()
    confirm(regional, job, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.import_status == Import.IMPORT_ERROR
    assert {line for line, _errors in job.result.row_errors()} | {row.number for row in job.result.invalid_rows} == {2}
    assert state() == before
    assert Application.objects.get(pk=approved[0].pk).status == Status.APPROVED
    html = regional.get(job_page(job)).content.decode()
    assert "Line number: 2 (amount) - Payment PAY-2 was imported before with a different value." in html
    assert "Nothing was imported." in html and "Confirm import" not in html
    assert "The job stopped with an error" not in html


def test_missing_columns_fail_the_check_with_the_file_error(regional, session_2024, django_capture_on_commit_callbacks):
    rows = [[resident_id(), f"某{n}"] for n in range(6)]
    response = import_payments(
        regional, rows, session_2024, django_capture_on_commit_callbacks, headers=["证件号码", "姓名"]
    )
    job = the_job(response)
    job.refresh_from_db()
    assert job.import_status == Import.INPUT_ERROR
    html = regional.get(job_page(job)).content.decode()
    assert "Columns missing from the file: amount, paid_at, payment_code." in html
    assert Payment.objects.count() == 0


def test_a_csv_with_a_byte_order_mark_is_read_as_the_import_page_reads_it(
    regional, session_2024, approved, django_capture_on_commit_callbacks
):
    lines = [",".join(PAYMENT_HEADERS)]
    lines += [
        f"{number},{name},300,2024-07-01 09:00:00,P{n}" for n, (number, name, *_rest) in enumerate(stranger_rows(6))
    ]
    upload = SimpleUploadedFile("payments.csv", "\n".join(lines).encode("utf-8-sig"))
    data = {"import_file": upload, "format": CSV, "resource": "0", "session": session_2024.pk}
    with django_capture_on_commit_callbacks(execute=True):
        job = the_job(regional.post(PAYMENT_IMPORT, data))
    job.refresh_from_db()
    assert job.import_status == Import.PARSED, job.error_message
    assert job.result.totals["new"] == 6


def test_a_small_file_keeps_the_usual_preview_page(regional, session_2024, approved):
    response = regional.post(
        PAYMENT_IMPORT,
        {
            "import_file": xlsx_upload(PAYMENT_HEADERS, [payment_row(approved[0], "PAY-1")]),
            "format": XLSX,
            "resource": "0",
            "session": session_2024.pk,
        },
    )
    assert response.status_code == 200 and response.context["confirm_form"] is not None
    assert not ImportJob.objects.exists()


def test_a_large_duplicate_payment_list_opens_refund_requests_in_the_background(
    regional, session_2024, urumqi, reviewer_urumqi, django_capture_on_commit_callbacks
):
    paid = []
    for n in range(2):
        app = submit_application(session_2024, urumqi, email=f"paid{n}@example.com")
        approve(app, reviewer_urumqi)
        app.mark_paid(timezone.now(), f"PAY-{n}")
        paid.append(app)
    codes, amounts = "PAY-A, PAY-B", "176, 176"
    rows = [[app.candidate.document_number, app.candidate.name, codes, amounts, "2024-06-20"] for app in paid]
    rows += [[resident_id(area="650103"), f"路人{n}", "PAY-X", "176", "2024-06-20"] for n in range(4)]
    headers = ["证件号码", "姓名", "缴费编号", "缴费金额", "缴费时间"]
    with django_capture_on_commit_callbacks(execute=True):
        response = regional.post(
            DUPLICATE_IMPORT, {"import_file": xlsx_upload(headers, rows), "format": XLSX, "resource": "0"}
        )
    job = ImportJob.objects.latest("pk")
    assert response["Location"] == f"/admin/tickets/duplicatepayment/import-jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.import_status == Import.PARSED
    assert len(job.result.unmatched_rows) == 4
    assert DuplicatePayment.objects.count() == 0 and not Ticket.objects.filter(kind=Kind.REFUND).exists()

    with django_capture_on_commit_callbacks(execute=True):
        regional.post(f"{response['Location']}confirm/")
    job.refresh_from_db()
    assert job.import_status == Import.IMPORTED
    assert DuplicatePayment.objects.count() == 6
    assert Ticket.objects.filter(kind=Kind.REFUND).count() == 2
    html = regional.get(response["Location"]).content.decode()
    assert "Refund requests: 2 opened" in html
    # The job belongs to the duplicate-payment list: the payment list's pages do not know it.
    assert regional.get(f"{PAYMENTS}import-jobs/{job.pk}/").status_code == 404


def test_only_the_creator_sees_and_confirms_an_import(
    client, regional, session_2024, approved, staff, other_regional, django_capture_on_commit_callbacks
):
    rows = [payment_row(approved[0], "PAY-1"), *stranger_rows(5)]
    job = the_job(import_payments(regional, rows, session_2024, django_capture_on_commit_callbacks))
    page = job_page(job)
    # The creator: the page answers GET only, the confirmation POST only.
    assert regional.post(page).status_code == 405
    assert regional.get(f"{page}confirm/").status_code == 405
    for user in (staff["manager_urumqi"], other_regional):
        other = staff_client(client, user)
        assert other.get(page).status_code == 404
        assert other.post(page).status_code == 404
        assert other.post(f"{page}confirm/").status_code == 404
        assert other.get(f"{page}confirm/").status_code == 404
        assert other.get(f"{IMPORT_JOBS}{job.pk}/change/").status_code in (403, 404)
    # Regional staff list their own import jobs only.
    assert job.pk not in {row.pk for row in other.get(IMPORT_JOBS).context["cl"].result_list}
    assert ImportJob.objects.get(pk=job.pk).import_status == Import.PARSED


def test_a_running_job_shows_the_progress_its_task_reports(regional, regional_admin, session_2024):
    celery_app.conf.task_always_eager = False  # the web process reads states, as in production (reset by conftest)
    task_id = str(uuid.uuid4())
    job = ImportJob(
        resource_path="applications.resources.PaymentResource",
        resource_kwargs={"session": session_2024.pk},
        created_by=regional_admin,
        import_status=Import.PARSING,
        data_file=ContentFile(b"x", name="payments.xlsx"),
    )
    job.save()  # the library queues the check when the transaction commits: never, in this test
    ImportJob.objects.filter(pk=job.pk).update(parse_task_id=task_id)
    celery_app.backend.store_result(task_id, {"current": 1200, "total": 20000}, "PARSING")
    html = regional.get(job_page(job)).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html
    assert '<progress max="20000" value="1200"' in html and "1,200 / 20,000" in html
    assert "<script>" not in html
    listing = regional.get(IMPORT_JOBS).content.decode()
    assert "1,200 / 20,000" in listing


# Exports -------------------------------------------------------------------------------------------------


@pytest.fixture
def reviewed(session_2024, urumqi, kashgar, reviewer_urumqi, reviewer_kashgar):
    """Seven reviewed applications in Ürümqi (formula-like names), one waiting, three reviewed in Kashgar."""
    first = application(session_2024, urumqi, identity_changes={"name": '=HYPERLINK("http://evil.example","x")'})
    first.record_verified_months(reviewer_urumqi, 100)
    approve(first, reviewer_urumqi)
    rejected = application(session_2024, urumqi, identity_changes={"name": "+8613800000000"})
    rejected.reject(reviewer_urumqi, "work_years")
    ours = [first, rejected, *clone_applications(first, 5)]
    waiting = application(session_2024, urumqi)
    theirs = application(session_2024, kashgar)
    approve(theirs, reviewer_kashgar)
    return {"ours": ours, "waiting": waiting, "theirs": [theirs, *clone_applications(theirs, 2)]}


def export(client, file_format=CSV, query=""):
    data = {"format": file_format, "resource": "0"}
    data.update({f"applicationexportresource_{column}": "on" for column in EXPORT_COLUMNS})
    return client.post(EXPORT + query, data)


def downloaded(client, job):
    response = client.get(f"{job_page(job)}download/")
    assert response.status_code == 200, response.status_code
    return response, b"".join(response.streaming_content)


def test_a_large_export_is_written_in_the_background_scoped_masked_and_formula_safe(
    client, manager_urumqi, reviewed, django_capture_on_commit_callbacks
):
    manager = staff_client(client, manager_urumqi)
    with django_capture_on_commit_callbacks(execute=True):
        response = export(manager)
    job = the_job(response, ExportJob)
    assert any("written in the background" in message for message in messages_of(response))
    job.refresh_from_db()
    assert job.export_status == Export.EXPORTED, job.traceback
    name = os.path.basename(job.data_file.name)
    assert name.startswith("applications-650100-") and name.endswith(".csv")

    page = manager.get(job_page(job)).content.decode()
    assert f"{job_page(job)}download/" in page
    response, content = downloaded(manager, job)
    assert response["Content-Disposition"].startswith("attachment;") and name in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    assert rows[0][:3] == ["reference", "exam office", "document number (masked)"]
    by_reference = {line[0]: line for line in rows[1:]}
    assert set(by_reference) == {app.reference for app in reviewed["ours"]}  # not the waiting one, not Kashgar's
    first = reviewed["ours"][0]
    assert by_reference[first.reference][2] == first.candidate.masked_document_number
    assert by_reference[first.reference][3] == '\'=HYPERLINK("http://evil.example","x")'
    assert by_reference[reviewed["ours"][1].reference][3] == "'+8613800000000"
    assert by_reference[first.reference][5] == "Approved, waiting for payment"
    for app in [*reviewed["ours"], *reviewed["theirs"]]:
        assert app.candidate.document_number not in content.decode()
    listing = manager.get(EXPORT_JOBS).content.decode()
    assert f'href="{job_page(job)}"' in listing and name in listing


def test_a_background_export_follows_the_changelist_filters_and_writes_xlsx(
    client, manager_urumqi, reviewed, django_capture_on_commit_callbacks
):
    manager = staff_client(client, manager_urumqi)
    with django_capture_on_commit_callbacks(execute=True):
        job = the_job(export(manager, XLSX, query="?status=approved"), ExportJob)
    job.refresh_from_db()
    assert job.export_status == Export.EXPORTED, job.traceback
    _response, content = downloaded(manager, job)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    values = [[cell.value for cell in line] for line in sheet.iter_rows()]
    assert values[0][0] == "reference"
    approved = {app.reference for app in reviewed["ours"] if app.status == Status.APPROVED}
    assert {line[0] for line in values[1:]} == approved and len(approved) == 6
    assert all(line[3].startswith("'=HYPERLINK") for line in values[1:])
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)


def test_a_background_export_is_in_its_creators_language(
    client, manager_urumqi, reviewed, django_capture_on_commit_callbacks
):
    client.force_login(manager_urumqi)  # no language chosen: the admin's default, Chinese
    with django_capture_on_commit_callbacks(execute=True):
        job = the_job(export(client), ExportJob)
    _response, content = downloaded(client, job)
    header = next(csv.reader(io.StringIO(content.decode("utf-8"))))
    assert "reference" not in header and header[0] == "参考号"


def test_below_the_threshold_the_export_stays_synchronous(client, manager_urumqi, reviewed, settings):
    settings.PORTAL_BACKGROUND_SPREADSHEET_ROWS = 7
    response = export(staff_client(client, manager_urumqi))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    assert not ExportJob.objects.exists()


def test_an_export_job_answers_its_creator_only(
    client,
    manager_urumqi,
    manager_kashgar,
    regional_admin,
    other_regional,
    reviewed,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        job = the_job(export(staff_client(client, manager_urumqi)), ExportJob)
    for user in (manager_kashgar, regional_admin, other_regional):
        other = staff_client(client, user)
        for url in (job_page(job), f"{job_page(job)}download/", f"{EXPORT_JOBS}{job.pk}/change/"):
            assert other.get(url).status_code == 404, (user, url)
            assert other.post(url).status_code == 404, (user, url)
        assert job.pk not in {row.pk for row in other.get(EXPORT_JOBS).context["cl"].result_list}


def test_posting_to_an_export_job_is_refused_not_an_error(
    client, manager_urumqi, reviewed, django_capture_on_commit_callbacks
):
    """An export job has nothing to confirm: the page and its download take GET only (the former job pages
    answered 500 to a confirmation of an export). An import's confirmation does not know export jobs."""
    manager = staff_client(client, manager_urumqi)
    with django_capture_on_commit_callbacks(execute=True):
        job = the_job(export(manager), ExportJob)
    assert manager.post(job_page(job)).status_code == 405
    assert manager.post(f"{job_page(job)}download/").status_code == 405
    assert manager.post(f"{PAYMENTS}import-jobs/{job.pk}/confirm/").status_code in (403, 404)
    assert manager.get(job_page(job)).status_code == 200


def test_the_export_job_list_leads_to_the_job(client, manager_urumqi, reviewed, django_capture_on_commit_callbacks):
    manager = staff_client(client, manager_urumqi)
    with django_capture_on_commit_callbacks(execute=True):
        job = the_job(export(manager), ExportJob)
    response = manager.get(f"{EXPORT_JOBS}{job.pk}/change/")
    assert response.status_code == 302 and response["Location"] == job_page(job)


def test_kashgar_exports_its_own_rows_only(
    client, manager_kashgar, reviewed, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_BACKGROUND_SPREADSHEET_ROWS = 2
    client = staff_client(client, manager_kashgar)
    with django_capture_on_commit_callbacks(execute=True):
        job = the_job(export(client), ExportJob)
    _response, content = downloaded(client, job)
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert {line[0] for line in rows[1:]} == {app.reference for app in reviewed["theirs"]}


def test_the_worker_scopes_an_export_to_its_creator_again(
    client, manager_urumqi, reviewed, django_capture_on_commit_callbacks
):
    """The job carries the changelist's rows as primary keys; the worker still exports only the creator's
    office, whatever those keys say."""
    kashgar_pks = [app.pk for app in reviewed["theirs"]]
    ours = reviewed["ours"][0].pk
    with django_capture_on_commit_callbacks(execute=True):
        job = ExportJob.objects.create(
            resource_path="applications.resources.ApplicationExportResource",
            file_format_path="import_export.formats.base_formats.CSV",
            resource_kwargs={"admin_filters": {"pk__in": [*kashgar_pks, ours]}, "language": "en"},
            created_by=manager_urumqi,
        )
    job.refresh_from_db()
    assert job.export_status == Export.EXPORTED, job.traceback
    _response, content = downloaded(staff_client(client, manager_urumqi), job)
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert [line[0] for line in rows[1:]] == [reviewed["ours"][0].reference]


def test_the_download_needs_the_export_permission_still(
    client, manager_urumqi, reviewed, django_capture_on_commit_callbacks
):
    manager = staff_client(client, manager_urumqi)
    with django_capture_on_commit_callbacks(execute=True):
        job = the_job(export(manager), ExportJob)
    manager_urumqi.role = "reviewer"  # reviewers do not export
    manager_urumqi.save()
    manager = staff_client(client, type(manager_urumqi).objects.get(pk=manager_urumqi.pk))
    assert manager.get(f"{job_page(job)}download/").status_code == 403
    assert "download/" not in manager.get(job_page(job)).content.decode()


def test_reviewers_cannot_start_an_export_job(client, reviewer_urumqi, reviewed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert export(staff_client(client, reviewer_urumqi)).status_code == 403
    assert not ExportJob.objects.exists()


# Housekeeping --------------------------------------------------------------------------------------------


def test_old_jobs_and_their_files_are_deleted_and_stalled_ones_fail(
    client, manager_urumqi, regional_admin, session_2024, reviewed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        exported = the_job(export(staff_client(client, manager_urumqi)), ExportJob)
    exported.refresh_from_db()
    regional = staff_client(client, regional_admin)
    imported = the_job(import_payments(regional, stranger_rows(6), session_2024, django_capture_on_commit_callbacks))
    imported.refresh_from_db()
    files = [exported.data_file.path, imported.data_file.path]
    assert all(os.path.exists(path) for path in files)

    now = timezone.now()
    long_ago = now - datetime.timedelta(hours=3)
    stalled_export = ExportJob.objects.create(
        resource_path="applications.resources.ApplicationExportResource",
        file_format_path="import_export.formats.base_formats.CSV",
        created_by=manager_urumqi,
    )
    ExportJob.objects.filter(pk=stalled_export.pk).update(export_status=Export.EXPORTING, export_started=long_ago)
    stalled_import = ImportJob.objects.create(
        resource_path="applications.resources.PaymentResource",
        data_file=ContentFile(b"x", name="payments.xlsx"),
        created_by=manager_urumqi,
    )
    ImportJob.objects.filter(pk=stalled_import.pk).update(import_status=Import.PARSING, created=long_ago)
    waiting = ImportJob.objects.create(
        resource_path="applications.resources.PaymentResource",
        data_file=ContentFile(b"x", name="payments.xlsx"),
        created_by=manager_urumqi,
    )  # created now: not stalled yet

    summary = delete_old_spreadsheet_jobs(now)
    assert summary == "0 old spreadsheet jobs deleted, 2 stalled ones marked failed"
    stalled_export.refresh_from_db()
    stalled_import.refresh_from_db()
    assert (stalled_export.export_status, stalled_export.error_message) == (Export.EXPORT_ERROR, "worker lost")
    assert (stalled_import.import_status, stalled_import.error_message) == (Import.PARSE_ERROR, "worker lost")
    assert ImportJob.objects.get(pk=waiting.pk).import_status == Import.CREATED
    html = staff_client(client, manager_urumqi).get(job_page(stalled_export)).content.decode()
    assert "The worker stopped while running this job. Start the import or export again." in html
    assert delete_old_spreadsheet_jobs(now) == "0 old spreadsheet jobs deleted, 0 stalled ones marked failed"

    later = now + datetime.timedelta(days=8)
    assert delete_old_spreadsheet_jobs(later).startswith("5 old spreadsheet jobs deleted")
    assert not ExportJob.objects.exists() and not ImportJob.objects.exists()
    assert not any(os.path.exists(path) for path in files)
    assert delete_old_spreadsheet_jobs(later).startswith("0 old spreadsheet jobs deleted")


def test_the_job_pages_speak_chinese(
    client, regional_admin, session_2024, approved, django_capture_on_commit_callbacks
):
    """django-import-export-extensions ships no Chinese: its words that staff see are in the portal's catalogue."""
    client.force_login(regional_admin)  # the admin's default language
    rows = [payment_row(approved[0], "PAY-1"), *stranger_rows(5)]
    job = the_job(import_payments(client, rows, session_2024, django_capture_on_commit_callbacks))
    page = client.get(job_page(job)).content.decode()
    listing = client.get(IMPORT_JOBS).content.decode()
    index = client.get("/admin/").content.decode()
    assert "已检查，待确认" in page and "检查结果（尚未导入任何数据）" in page and "我的全部导入任务" in page
    assert "电子表格任务" in index and "导入任务" in index and "导出任务" in index
    assert "任务状态" in listing and "检查中" in listing and "导入出错" in listing
    english = ["Parsed", "Parsing", "Import job", "Export job", "Job status", "Created", "Celery", "Spreadsheet"]
    for html in (page, listing, index):
        assert not [word for word in english if word in html]
