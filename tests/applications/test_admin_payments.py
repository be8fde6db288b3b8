"""Payment import by the regional office: dry run, confirm, idempotent re-import, matching, permissions."""

import datetime
import io

import openpyxl
import pytest
import tablib
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from applications.models import ApplicationEvent, ExamSession, Payment, Status
from applications.resources import PaymentResource
from applications.workflow import APPLICATIONS
from core.transitions import Act
from notifications.models import OutboxMessage
from tests.applications.admin_helpers import application, at, messages_of, staff_client
from tests.factories import approve

pytestmark = pytest.mark.django_db

PAYMENTS = "/admin/applications/payment/"
IMPORT = f"{PAYMENTS}import/"
PROCESS = f"{PAYMENTS}process_import/"
XLSX, CSV = "0", "1"  # positions in IMPORT_EXPORT_FORMATS
CHINESE_HEADERS = ["证件号码", "姓名", "缴费金额", "缴费时间", "缴费编号"]


def xlsx_file(rows, headers=CHINESE_HEADERS, name="payments.xlsx"):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def csv_file(rows, headers=("document_number", "name", "amount", "paid_at", "payment_code"), name="payments.csv"):
    data = tablib.Dataset(*rows, headers=headers)
    return SimpleUploadedFile(name, data.export("csv").encode("utf-8"))


def row(app, code, paid_at=datetime.datetime(2024, 7, 1, 10, 30), amount=300):
    """A row as the national platform writes it: naive Beijing times."""
    return [app.candidate.document_number, app.candidate.name, amount, paid_at, code]


def dry_run(client, upload, session, file_format=XLSX):
    return client.post(IMPORT, {"import_file": upload, "format": file_format, "resource": "0", "session": session.pk})


def confirm(client, response):
    form = response.context["confirm_form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    return client.post(PROCESS, data)


def do_import(client, upload, session, file_format=XLSX):
    response = dry_run(client, upload, session, file_format)
    assert response.context.get("confirm_form") is not None, response.content.decode()[-3000:]
    return confirm(client, response)


@pytest.fixture
def approved(session_2024, urumqi, reviewer_urumqi):
    app = application(session_2024, urumqi)
    approve(app, reviewer_urumqi)
    return app


@pytest.fixture
def regional(client, regional_admin):
    return staff_client(client, regional_admin)


def test_dry_run_changes_nothing_and_the_confirmed_import_pays(regional, session_2024, approved):
    events, emails = approved.events.count(), OutboxMessage.objects.count()
    response = dry_run(regional, xlsx_file([row(approved, "PAY-001")]), session_2024)
    assert response.status_code == 200
    assert "PAY-001" in response.content.decode()  # the preview
    assert Payment.objects.count() == 0
    approved.refresh_from_db()
    assert approved.status == Status.APPROVED and approved.events.count() == events
    assert OutboxMessage.objects.count() == emails

    response = confirm(regional, response)
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.payment_code, payment.application, payment.note) == ("PAY-001", approved, "")
    assert payment.paid_at == at(2024, 7, 1, 10, 30)
    assert payment.session == session_2024
    approved.refresh_from_db()
    assert (approved.status, approved.payment_code) == (Status.PAID, "PAY-001")
    assert approved.events.latest("pk").to_status == Status.PAID
    assert OutboxMessage.objects.count() == emails + 1
    assert any("1 application(s) now paid; 0 unmatched" in message for message in messages_of(response))


def test_the_same_file_again_changes_nothing(regional, session_2024, approved):
    do_import(regional, xlsx_file([row(approved, "PAY-001")]), session_2024)
    state = (Payment.objects.count(), ApplicationEvent.objects.count(), OutboxMessage.objects.count())
    response = do_import(regional, xlsx_file([row(approved, "PAY-001")]), session_2024)
    assert response.status_code == 302
    assert (Payment.objects.count(), ApplicationEvent.objects.count(), OutboxMessage.objects.count()) == state
    assert Payment.objects.get().note == ""


def test_a_payment_code_imported_before_with_other_values_is_refused(regional, session_2024, approved):
    do_import(regional, xlsx_file([row(approved, "PAY-001")]), session_2024)
    response = dry_run(regional, xlsx_file([row(approved, "PAY-001", amount=999)]), session_2024)
    assert response.context.get("confirm_form") is None
    assert "Payment PAY-001 was imported before with a different value." in response.content.decode()
    assert Payment.objects.get().amount == 300


def test_a_row_repeated_in_the_file_is_one_payment(regional, session_2024, approved):
    emails = OutboxMessage.objects.count()
    response = do_import(regional, xlsx_file([row(approved, "PAY-001"), row(approved, "PAY-001")]), session_2024)
    assert response.status_code == 302
    assert Payment.objects.get().application == approved
    assert approved.events.filter(to_status=Status.PAID).count() == 1
    assert OutboxMessage.objects.count() == emails + 1

    response = dry_run(
        regional, xlsx_file([row(approved, "PAY-002"), row(approved, "PAY-002", amount=1)]), session_2024
    )
    assert response.context.get("confirm_form") is None
    assert "Payment PAY-002 was imported before with a different value." in response.content.decode()


def test_a_second_payment_of_the_same_application_in_one_file_is_noted(regional, session_2024, approved):
    do_import(regional, xlsx_file([row(approved, "PAY-001"), row(approved, "PAY-002")]), session_2024)
    notes = dict(Payment.objects.values_list("payment_code", "note"))
    assert notes == {"PAY-001": "", "PAY-002": "Application already paid."}
    approved.refresh_from_db()
    assert (approved.status, approved.payment_code) == (Status.PAID, "PAY-001")


def test_the_import_is_bulk_not_per_row(session_2024, urumqi, reviewer_urumqi, regional_admin):
    """5 or 40 rows cost the same queries: payments, matches, history, audit and emails are written in bulk."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.applications.admin_helpers import clone_applications

    template = application(session_2024, urumqi)
    approve(template, reviewer_urumqi)
    apps = [template, *clone_applications(template, 44)]

    def import_rows(rows):
        dataset = tablib.Dataset(*rows, headers=CHINESE_HEADERS)
        with CaptureQueriesContext(connection) as queries:
            result = PaymentResource(session=session_2024).import_data(dataset, user=regional_admin)
        assert not result.has_errors() and not result.has_validation_errors()
        return len(queries), result.payment_outcome

    few, outcome = import_rows([row(app, f"P{app.pk}") for app in apps[:5]])
    assert outcome == {"paid": 5, "unmatched": 0, "not_applied": 0}
    many, outcome = import_rows([row(app, f"P{app.pk}") for app in apps[5:]])
    assert outcome == {"paid": 40, "unmatched": 0, "not_applied": 0}
    assert many == few
    assert ApplicationEvent.objects.filter(to_status=Status.PAID).count() == 45


def test_payment_after_payment_close_is_not_applied(regional, session_2024, approved):
    late = datetime.datetime(2024, 7, 2, 18, 0, 1)  # payment closed at 18:00:00 Beijing time
    do_import(
        regional, csv_file([row(approved, "PAY-LATE", paid_at=late.strftime("%Y-%m-%d %H:%M:%S"))]), session_2024, CSV
    )
    payment = Payment.objects.get()
    assert payment.application == approved
    assert payment.note == "Paid after payment closed: not applied."
    approved.refresh_from_db()
    assert approved.status == Status.APPROVED


def test_payment_at_payment_close_moves_lapsed_to_paid(regional, session_2024, approved):
    APPLICATIONS.run_one("lapse", approved, Act(actor="system"))
    do_import(
        regional, xlsx_file([row(approved, "PAY-EDGE", paid_at=datetime.datetime(2024, 7, 2, 18, 0))]), session_2024
    )
    approved.refresh_from_db()
    assert approved.status == Status.PAID


def test_unmatched_rows_are_kept_with_a_note_and_listed(regional, session_2024, approved):
    stranger = ["650102199001019999", "李四", 300, datetime.datetime(2024, 7, 1, 9), "PAY-X"]
    do_import(regional, xlsx_file([row(approved, "PAY-001"), stranger]), session_2024)
    unmatched = Payment.objects.get(payment_code="PAY-X")
    assert unmatched.application is None
    assert unmatched.note == "No application of this session has this document number."
    response = regional.get(PAYMENTS, {"match": "unmatched"})
    listed = {payment.payment_code for payment in response.context["cl"].result_list}
    assert listed == {"PAY-X"}
    html = response.content.decode()
    assert "650102********9999" in html and "650102199001019999" not in html
    response = regional.get(PAYMENTS, {"match": "matched"})
    assert {payment.payment_code for payment in response.context["cl"].result_list} == {"PAY-001"}


def test_rows_with_errors_are_reported_per_row_and_nothing_is_imported(regional, session_2024, approved):
    rows = [
        row(approved, "PAY-001"),
        [approved.candidate.document_number, "张三", 300, "2024-07-01", "PAY-002"],  # no time of day
        [approved.candidate.document_number, "张三", -5, datetime.datetime(2024, 7, 1, 9), "PAY-003"],
    ]
    response = dry_run(regional, xlsx_file(rows), session_2024)
    html = response.content.decode()
    assert response.context.get("confirm_form") is None
    assert "Enter the payment time as 2024-07-02 17:30:00 (Beijing time)." in html
    assert "The amount must be a positive number." in html
    assert Payment.objects.count() == 0
    assert type(approved).objects.get(pk=approved.pk).status == Status.APPROVED


def test_a_failed_import_writes_nothing_even_without_the_preview(session_2024, approved, regional_admin):
    """The confirm step cannot be reached with errors; the resource is safe on its own too."""
    dataset = tablib.Dataset(
        row(approved, "PAY-001"),
        ["", "无名", 300, datetime.datetime(2024, 7, 1, 9), "PAY-002"],
        headers=CHINESE_HEADERS,
    )
    result = PaymentResource(session=session_2024).import_data(
        dataset, dry_run=False, rollback_on_validation_errors=True, user=regional_admin
    )
    assert result.has_validation_errors()
    assert Payment.objects.count() == 0
    assert type(approved).objects.get(pk=approved.pk).status == Status.APPROVED


def test_missing_columns_are_an_error(regional, session_2024):
    response = dry_run(regional, xlsx_file([["x", "y"]], headers=["证件号码", "姓名"]), session_2024)
    assert response.context.get("confirm_form") is None
    html = response.content.decode()
    assert "<li>Columns missing from the file: amount, paid_at, payment_code.</li>" in html
    assert "Traceback" not in html and "Line number" not in html  # the rows were not read


def test_the_session_is_chosen_on_the_form(regional, session_2024):
    form = regional.get(IMPORT).context["form"]
    assert form.initial["session"] == session_2024.pk


@pytest.mark.parametrize("username", ["reviewer_urumqi", "manager_urumqi"])
def test_only_regional_staff_reach_the_import(client, staff, session_2024, approved, username):
    client = staff_client(client, staff[username])
    assert client.get(IMPORT).status_code == 403
    assert dry_run(client, xlsx_file([row(approved, "PAY-001")]), session_2024).status_code == 403
    assert client.post(PROCESS, {"import_file_name": "x", "original_file_name": "x", "format": XLSX}).status_code == 403
    assert client.get(PAYMENTS).status_code == 403
    assert Payment.objects.count() == 0


def test_final_payment_import_is_marked_by_regional_staff_only(client, staff, session_2024):
    sessions = "/admin/applications/examsession/"
    data = {"action": "mark_payments_final", "_selected_action": [session_2024.pk]}
    staff_client(client, staff["manager_urumqi"]).post(sessions, data)
    assert ExamSession.objects.get(pk=session_2024.pk).payments_final_at is None

    with_time = at(2024, 7, 3, 9)
    with time_machine.travel(with_time, tick=False):
        response = staff_client(client, staff["regional_admin"]).post(sessions, data)
    assert response.status_code == 302
    assert ExamSession.objects.get(pk=session_2024.pk).payments_final_at == with_time
    # Marked once: a second click does not move the moment the lapse emails wait for.
    staff_client(client, staff["regional_admin"]).post(sessions, data)
    assert ExamSession.objects.get(pk=session_2024.pk).payments_final_at == with_time


def test_the_sample_payment_file_imports(regional, session_2024, approved, tmp_path):
    from django.core.management import call_command

    out = tmp_path / "sample.xlsx"
    call_command("sample_payment_file", "--year", "2024", "--out", str(out))
    response = do_import(regional, SimpleUploadedFile("sample.xlsx", out.read_bytes()), session_2024)
    assert response.status_code == 302
    approved.refresh_from_db()
    assert approved.status == Status.PAID
    assert Payment.objects.unmatched().count() == 1


# The dry run says per row what will happen ------------------------------------------------------------------


def outcomes(response):
    """{payment code: (outcome, text, amount note)} of the dry run's preview rows."""
    result = response.context["result"]
    return {
        row.instance.payment_code: (row.payment_outcome, row.payment_outcome_text, row.payment_amount_note)
        for row in result.valid_rows()
    }


@time_machine.travel(datetime.datetime(2024, 7, 2, 12, tzinfo=datetime.UTC), tick=False)
def test_the_dry_run_shows_each_rows_outcome_with_counts_and_the_confirm_button_states_them(
    regional, session_2024, approved, urumqi, reviewer_urumqi
):
    session_2024.fee_per_subject = 100
    session_2024.save()
    paid = application(session_2024, urumqi)
    approve(paid, reviewer_urumqi)
    do_import(regional, xlsx_file([row(paid, "PAY-FIRST")]), session_2024)
    submitted = application(session_2024, urumqi)
    stranger = application(session_2024, urumqi)
    stranger_row = row(stranger, "PAY-UNKNOWN")
    stranger.delete()
    rows = [
        row(approved, "PAY-OK"),
        row(paid, "PAY-AGAIN"),
        stranger_row,
        row(submitted, "PAY-EARLY", amount=250),
        row(approved, "PAY-LATE", paid_at=datetime.datetime(2024, 7, 2, 18, 30)),
        row(approved, "PAY-FUTURE", paid_at=datetime.datetime(2024, 7, 3, 9, 0)),
    ]
    response = dry_run(regional, xlsx_file(rows), session_2024)
    shown = outcomes(response)
    assert {code: outcome for code, (outcome, _text, _note) in shown.items()} == {
        "PAY-OK": "pays",
        "PAY-AGAIN": "already_paid",
        "PAY-UNKNOWN": "unmatched",
        "PAY-EARLY": "not_approved",
        "PAY-LATE": "late",
        "PAY-FUTURE": "future",
    }
    assert shown["PAY-OK"][1] == f"Pays: {approved.reference} ({urumqi.name_zh})"
    assert shown["PAY-EARLY"][2] == "Amount differs from the fee (300.00)."
    assert shown["PAY-OK"][2] == ""
    assert response.context["result"].payment_counts == {
        "pays": 1,
        "already_paid": 1,
        "unmatched": 1,
        "late": 1,
        "future": 1,
        "not_approved": 1,
        "amount_differs": 1,
    }
    page = response.content.decode()
    assert 'value="Confirm import: 1 to pay, 1 unmatched, 4 not applied"' in page
    assert "<th>payment code</th>" in page and "<th>paid at</th>" in page  # the model's labels, translated
    assert list(Payment.objects.values_list("payment_code", flat=True)) == ["PAY-FIRST"]  # the dry run wrote nothing


@time_machine.travel(datetime.datetime(2024, 7, 2, 12, tzinfo=datetime.UTC), tick=False)
def test_a_payment_in_the_future_is_refused_by_the_import(regional, session_2024, approved):
    do_import(
        regional, xlsx_file([row(approved, "PAY-FUTURE", paid_at=datetime.datetime(2024, 7, 3, 9))]), session_2024
    )
    approved.refresh_from_db()
    assert approved.status == Status.APPROVED
    assert Payment.objects.get().note == "Payment time in the future: refused."


def test_the_dry_run_in_chinese(client, regional_admin, session_2024, approved):
    regional = staff_client(client, regional_admin)
    regional.cookies["django_language"] = "zh-hans"
    response = regional.post(
        IMPORT,
        {
            "import_file": xlsx_file([row(approved, "PAY-OK")]),
            "format": XLSX,
            "resource": "0",
            "session": session_2024.pk,
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    page = response.content.decode()
    assert "<th>缴费编号</th>" in page and "确认导入：1 笔缴费入账" in page
    assert "缴费对应报名：" in page  # full-width punctuation in Chinese


@pytest.mark.parametrize(("upload", "fmt"), [("xlsx", "0"), ("csv", "1")])
def test_the_format_is_the_files_type_unless_chosen(regional, session_2024, approved, upload, fmt):
    page = regional.get(IMPORT).content.decode()
    assert '<option value="" selected>The file&#x27;s type</option>' in page
    made = xlsx_file([row(approved, "PAY-1")]) if upload == "xlsx" else csv_file([row(approved, "PAY-1")])
    response = regional.post(IMPORT, {"import_file": made, "format": "", "resource": "0", "session": session_2024.pk})
    assert response.context.get("confirm_form") is not None, response.content.decode()[-3000:]
    assert response.context["confirm_form"].initial["format"] == fmt


def test_a_file_of_another_type_asks_for_the_format(regional, session_2024):
    upload = SimpleUploadedFile("payments.ods", b"x")
    response = regional.post(IMPORT, {"import_file": upload, "format": "", "resource": "0", "session": session_2024.pk})
    assert response.context["form"].errors["format"] == ["Choose the format: the file's type is not one of them."]
