"""Large imports and exports run as background jobs (portal.SpreadsheetJob): progress, report, confirmation,
download, scoping. Below the threshold the usual synchronous pages stay (their own tests cover them)."""

import csv
import datetime
import io
import os

import openpyxl
import pytest
import tablib
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from applications.models import Application, ApplicationEvent, Payment, Status
from applications.resources import PaymentResource
from notifications.models import OutboxMessage
from offices.models import Office
from portal import spreadsheets
from portal.models import SpreadsheetJob
from portal.sweeps import delete_old_spreadsheet_jobs
from tests.applications.admin_helpers import application, clone_applications, messages_of, staff_client
from tests.factories import approve, resident_id, submit_application
from tickets.models import DuplicatePayment, Kind, Ticket

pytestmark = pytest.mark.django_db

JOBS = "/admin/portal/spreadsheetjob/"
PAYMENT_IMPORT = "/admin/applications/payment/import/"
DUPLICATE_IMPORT = "/admin/tickets/duplicatepayment/import/"
APPLICATIONS = "/admin/applications/application/"
EXPORT = f"{APPLICATIONS}export/"
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


def import_payments(client, rows, session, callbacks, headers=PAYMENT_HEADERS):
    data = {"import_file": xlsx_upload(headers, rows), "format": XLSX, "resource": "0", "session": session.pk}
    return post_in_background(client, PAYMENT_IMPORT, data, callbacks)


def post_in_background(client, url, data, callbacks):
    with callbacks(execute=True):
        return client.post(url, data)


def the_job(response):
    assert response.status_code == 302, response.content.decode()[-2000:]
    job = SpreadsheetJob.objects.latest("pk")
    assert response["Location"] == f"{JOBS}{job.pk}/change/"
    return job


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
    regional, session_2024, approved, django_capture_on_commit_callbacks
):
    rows = [payment_row(approved[0], "PAY-1"), payment_row(approved[1], "PAY-2"), *stranger_rows(4)]
    before = state()
    response = import_payments(regional, rows, session_2024, django_capture_on_commit_callbacks)
    job = the_job(response)
    assert any("checked in the background" in message for message in messages_of(response))
    job.refresh_from_db()
    assert (job.kind, job.dry_run, job.status) == ("import", True, SpreadsheetJob.Status.DRY_RUN_DONE)
    assert (job.processed_rows, job.total_rows) == (6, 6)
    assert job.resource_kwargs == {"session": {"__model__": "applications.examsession", "pk": session_2024.pk}}
    assert state() == before  # the check changed nothing

    page = regional.get(f"{JOBS}{job.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Result of the check (nothing was imported yet)" in html
    assert "new: 6" in html
    assert "Unmatched rows" in html and "650103********" in html and "路人0" in html
    assert all(app.candidate.document_number not in html for app in approved)
    assert 'http-equiv="refresh"' not in html  # nothing runs any more
    assert "Confirm import" in html
    listing = regional.get(JOBS).content.decode()
    assert '<progress max="6" value="6"' in listing and "6 / 6" in listing

    with django_capture_on_commit_callbacks(execute=True):
        response = regional.post(f"{JOBS}{job.pk}/confirm/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.dry_run, job.status, job.processed_rows, job.total_rows) == (False, "done", 6, 6)
    assert Payment.objects.count() == 6
    for app in approved:
        app.refresh_from_db()
        assert app.status == Status.PAID
    assert len(job.report["unmatched"]) == 4
    html = regional.get(f"{JOBS}{job.pk}/change/").content.decode()
    assert "Result of the import" in html
    assert "2 application(s) now paid; 4 unmatched" in html
    assert "Confirm import" not in html
    # A second confirmation does nothing.
    with django_capture_on_commit_callbacks(execute=True):
        response = regional.post(f"{JOBS}{job.pk}/confirm/")
    assert any("not waiting for confirmation" in message for message in messages_of(response))

    # The same file again: checked, confirmed, and nothing changes.
    after = state()
    response = import_payments(regional, rows, session_2024, django_capture_on_commit_callbacks)
    again = the_job(response)
    with django_capture_on_commit_callbacks(execute=True):
        regional.post(f"{JOBS}{again.pk}/confirm/")
    again.refresh_from_db()
    assert again.status == "done"
    assert again.report["totals"]["skip"] == 6
    assert state() == after


def test_a_bad_row_fails_the_job_and_changes_nothing(
    regional, session_2024, approved, django_capture_on_commit_callbacks
):
    rows = [
        payment_row(approved[0], "PAY-1"),
        [approved[1].candidate.document_number, "张三", 300, "2024-07-01", "PAY-2"],  # no time of day
        *stranger_rows(3),
        [approved[1].candidate.document_number, "张三", -5, datetime.datetime(2024, 7, 1, 9), "PAY-3"],
    ]
    before = state()
    response = import_payments(regional, rows, session_2024, django_capture_on_commit_callbacks)
    job = the_job(response)
    job.refresh_from_db()
    assert job.status == SpreadsheetJob.Status.FAILED
    lines = {(error["line"], error["field"]) for error in job.report["errors"]}
    assert lines == {(2, "paid_at"), (6, "amount")}
    html = regional.get(f"{JOBS}{job.pk}/change/").content.decode()
    assert "Line number: 2 (paid_at) - Enter the payment time as 2024-07-02 17:30:00 (Beijing time)." in html
    assert "Line number: 6 (amount) - The amount must be a positive number." in html
    assert "Nothing was imported." in html and "Confirm import" not in html
    assert regional.post(f"{JOBS}{job.pk}/confirm/").status_code == 302
    assert SpreadsheetJob.objects.get(pk=job.pk).status == SpreadsheetJob.Status.FAILED
    assert state() == before


def test_a_confirmed_import_that_fails_writes_nothing(regional, session_2024, approved, regional_admin):
    """The file is checked again on confirmation: what changed since the check is caught, all or nothing."""
    Payment.objects.create(
        session=session_2024,
        payment_code="PAY-2",
        document_number=approved[1].candidate.document_number,
        name="张三",
        amount=999,
        paid_at=timezone.now(),
    )
    rows = [payment_row(approved[0], "PAY-1"), payment_row(approved[1], "PAY-2"), *stranger_rows(4)]
    dataset = tablib.Dataset(*rows, headers=PAYMENT_HEADERS)
    job = SpreadsheetJob(
        kind="import",
        created_by=regional_admin,
        admin_label="applications.payment",
        resource="applications.resources.PaymentResource",
        file_format="csv",
        language="en",
        resource_kwargs={"session": {"__model__": "applications.examsession", "pk": session_2024.pk}},
        original_name="payments.csv",
        dry_run=False,
    )
    job.input_file.save("upload", SimpleUploadedFile("x", dataset.export("csv").encode()), save=False)
    job.save()
    before = state()
    SpreadsheetJob.claim(job.pk).run()
    job.refresh_from_db()
    assert job.status == SpreadsheetJob.Status.FAILED
    assert {error["line"] for error in job.report["errors"]} == {2}  # amount and time differ
    assert state() == before
    assert Application.objects.get(pk=approved[0].pk).status == Status.APPROVED


def test_missing_columns_fail_the_job_with_the_file_error(regional, session_2024, django_capture_on_commit_callbacks):
    rows = [[resident_id(), f"某{n}"] for n in range(6)]
    response = import_payments(
        regional, rows, session_2024, django_capture_on_commit_callbacks, headers=["证件号码", "姓名"]
    )
    job = the_job(response)
    job.refresh_from_db()
    assert job.status == SpreadsheetJob.Status.FAILED
    html = regional.get(f"{JOBS}{job.pk}/change/").content.decode()
    assert "Columns missing from the file: amount, paid_at, payment_code." in html
    assert Payment.objects.count() == 0


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
    assert not SpreadsheetJob.objects.exists()


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
    response = post_in_background(
        regional,
        DUPLICATE_IMPORT,
        {"import_file": xlsx_upload(headers, rows), "format": XLSX, "resource": "0"},
        django_capture_on_commit_callbacks,
    )
    job = the_job(response)
    job.refresh_from_db()
    assert job.status == SpreadsheetJob.Status.DRY_RUN_DONE
    assert len(job.report["unmatched"]) == 4
    assert DuplicatePayment.objects.count() == 0 and not Ticket.objects.filter(kind=Kind.REFUND).exists()

    with django_capture_on_commit_callbacks(execute=True):
        regional.post(f"{JOBS}{job.pk}/confirm/")
    job.refresh_from_db()
    assert job.status == "done"
    assert DuplicatePayment.objects.count() == 6
    assert Ticket.objects.filter(kind=Kind.REFUND).count() == 2
    assert any("2 opened" in message["text"] for message in job.report["messages"])


def test_only_the_creator_confirms_an_import(
    client, regional, session_2024, approved, staff, django_capture_on_commit_callbacks
):
    rows = [payment_row(approved[0], "PAY-1"), *stranger_rows(5)]
    response = import_payments(regional, rows, session_2024, django_capture_on_commit_callbacks)
    job = the_job(response)
    manager = staff_client(client, staff["manager_urumqi"])
    assert manager.get(f"{JOBS}{job.pk}/change/").status_code == 404
    assert manager.post(f"{JOBS}{job.pk}/confirm/").status_code == 404
    assert manager.get(f"{JOBS}{job.pk}/confirm/").status_code in (404, 405)
    assert SpreadsheetJob.objects.get(pk=job.pk).status == SpreadsheetJob.Status.DRY_RUN_DONE


def test_progress_of_a_running_import_comes_from_the_cache(regional, regional_admin):
    job = SpreadsheetJob.objects.create(
        kind="import",
        created_by=regional_admin,
        admin_label="applications.payment",
        resource="applications.resources.PaymentResource",
        file_format="xlsx",
        status=SpreadsheetJob.Status.RUNNING,
        total_rows=20000,
        dry_run=True,
    )
    cache.set(job.progress_cache_key, 1200)
    html = regional.get(f"{JOBS}{job.pk}/change/").content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html
    assert '<progress max="20000" value="1200"' in html and "1,200 / 20,000" in html
    assert "<script>" not in html
    assert '<meta http-equiv="refresh" content="2">' in regional.get(JOBS).content.decode()


def test_import_progress_is_counted_every_200_rows(session_2024, regional_admin):
    resource_class = spreadsheets.tracked_resource_class(PaymentResource, "progress-test")
    rows = [[resident_id(area="650103"), f"某{n}", 300, "2024-07-01 09:00:00", f"P{n}"] for n in range(450)]
    result = resource_class(session=session_2024).import_data(
        tablib.Dataset(*rows, headers=PAYMENT_HEADERS), dry_run=True, use_transactions=True
    )
    assert not result.has_errors() and not result.has_validation_errors()
    assert cache.get("progress-test") == 400
    assert Payment.objects.count() == 0


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


def test_a_large_export_is_written_in_the_background_scoped_masked_and_formula_safe(
    client, manager_urumqi, reviewed, django_capture_on_commit_callbacks
):
    manager = staff_client(client, manager_urumqi)
    with django_capture_on_commit_callbacks(execute=True):
        response = export(manager)
    job = the_job(response)
    assert any("written in the background" in message for message in messages_of(response))
    job.refresh_from_db()
    assert (job.kind, job.status, job.processed_rows, job.total_rows) == ("export", "done", 7, 7)
    assert job.result_name.startswith("applications-650100-") and job.result_name.endswith(".csv")

    page = manager.get(f"{JOBS}{job.pk}/change/").content.decode()
    assert f"{JOBS}{job.pk}/download/" in page
    response = manager.get(f"{JOBS}{job.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert job.result_name in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
    assert rows[0][:3] == ["reference", "exam office", "document number (masked)"]
    by_reference = {line[0]: line for line in rows[1:]}
    assert set(by_reference) == {app.reference for app in reviewed["ours"]}  # not the waiting one, not Kashgar's
    first = reviewed["ours"][0]
    assert by_reference[first.reference][2] == first.candidate.masked_document_number
    assert by_reference[first.reference][3] == '\'=HYPERLINK("http://evil.example","x")'
    assert by_reference[reviewed["ours"][1].reference][3] == "'+8613800000000"
    assert by_reference[first.reference][5] == "Approved, waiting for payment"
    content = "\n".join(",".join(line) for line in rows)
    for app in [*reviewed["ours"], *reviewed["theirs"]]:
        assert app.candidate.document_number not in content


def test_a_background_export_follows_the_changelist_filters_and_writes_xlsx(
    client, manager_urumqi, reviewed, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(spreadsheets, "EXPORT_CHUNK_ROWS", 2)  # progress saved between chunks of the cursor
    manager = staff_client(client, manager_urumqi)
    with django_capture_on_commit_callbacks(execute=True):
        job = the_job(export(manager, XLSX, query="?status=approved"))
    job.refresh_from_db()
    assert job.query == "status=approved" and job.status == "done"
    response = manager.get(f"{JOBS}{job.pk}/download/")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in line] for line in sheet.iter_rows()]
    assert values[0][0] == "reference"
    approved = {app.reference for app in reviewed["ours"] if app.status == Status.APPROVED}
    assert {line[0] for line in values[1:]} == approved and len(approved) == 6
    assert all(line[3].startswith("'=HYPERLINK") for line in values[1:])
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)


def test_below_the_threshold_the_export_stays_synchronous(client, manager_urumqi, reviewed, settings):
    settings.PORTAL_BACKGROUND_SPREADSHEET_ROWS = 7
    response = export(staff_client(client, manager_urumqi))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    assert not SpreadsheetJob.objects.exists()


def test_another_office_gets_404_for_the_job_and_its_download(
    client, manager_urumqi, manager_kashgar, regional_admin, reviewed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = the_job(export(staff_client(client, manager_urumqi)))
    other = staff_client(client, manager_kashgar)
    assert other.get(f"{JOBS}{job.pk}/change/").status_code == 404
    assert other.get(f"{JOBS}{job.pk}/download/").status_code == 404
    assert job.pk not in {row.pk for row in other.get(JOBS).context["cl"].result_list}
    # Regional staff see every job; each job's rows are still its creator's scope.
    regional = staff_client(client, regional_admin)
    assert regional.get(f"{JOBS}{job.pk}/download/").status_code == 200


def test_kashgar_exports_its_own_rows_only(
    client, manager_kashgar, reviewed, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_BACKGROUND_SPREADSHEET_ROWS = 2
    client = staff_client(client, manager_kashgar)
    with django_capture_on_commit_callbacks(execute=True):
        job = the_job(export(client))
    rows = list(csv.reader(io.StringIO(b"".join(client.get(f"{JOBS}{job.pk}/download/").streaming_content).decode())))
    assert {line[0] for line in rows[1:]} == {app.reference for app in reviewed["theirs"]}


def test_the_download_needs_the_export_permission_still(
    client, manager_urumqi, reviewed, django_capture_on_commit_callbacks
):
    manager = staff_client(client, manager_urumqi)
    with django_capture_on_commit_callbacks(execute=True):
        job = the_job(export(manager))
    manager_urumqi.role = "reviewer"  # reviewers do not export
    manager_urumqi.save()
    manager = staff_client(client, type(manager_urumqi).objects.get(pk=manager_urumqi.pk))
    assert manager.get(f"{JOBS}{job.pk}/download/").status_code == 403


def test_reviewers_cannot_start_an_export_job(client, reviewer_urumqi, reviewed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert export(staff_client(client, reviewer_urumqi)).status_code == 403
    assert not SpreadsheetJob.objects.exists()


def test_old_jobs_and_their_files_are_deleted_and_stalled_ones_fail(
    client, manager_urumqi, reviewed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = the_job(export(staff_client(client, manager_urumqi)))
    job.refresh_from_db()
    stored = job.result_file.path
    stalled = SpreadsheetJob.objects.create(
        kind="export",
        created_by=manager_urumqi,
        admin_label="applications.application",
        resource="applications.resources.ApplicationExportResource",
        file_format="csv",
        status=SpreadsheetJob.Status.RUNNING,
        started_at=timezone.now() - datetime.timedelta(hours=3),
    )
    delete_old_spreadsheet_jobs(timezone.now())
    stalled.refresh_from_db()
    assert stalled.status == SpreadsheetJob.Status.FAILED and stalled.report == {"stalled": True}
    assert SpreadsheetJob.objects.filter(pk=job.pk).exists()
    summary = delete_old_spreadsheet_jobs(timezone.now() + datetime.timedelta(days=8))
    assert summary.startswith("2 old spreadsheet jobs deleted")
    assert not SpreadsheetJob.objects.exists()
    assert not os.path.exists(stored)
