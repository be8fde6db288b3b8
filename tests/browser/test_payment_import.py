"""The payment import's dry run in the browser: the file chosen, its format taken from its type, and each row's
outcome shown before anything is written (the admin speaks Chinese)."""

import datetime

import pytest
from playwright.sync_api import expect

from applications.models import Payment
from tests.applications.admin_helpers import application
from tests.applications.test_admin_payments import row, xlsx_file
from tests.browser.helpers import log_in
from tests.factories import approve

pytestmark = pytest.mark.browser


def test_the_dry_run_shows_each_rows_outcome_and_the_counts(
    page, live_server, session_2024, urumqi, reviewer_urumqi, regional_admin, tmp_path
):
    approved = application(session_2024, urumqi)
    approve(approved, reviewer_urumqi)
    stranger = application(session_2024, urumqi)
    unknown = row(stranger, "PAY-UNKNOWN")
    stranger.delete()
    late = row(approved, "PAY-LATE", paid_at=datetime.datetime(2024, 7, 2, 18, 30))
    upload = xlsx_file([row(approved, "PAY-OK"), unknown, late])
    path = tmp_path / "payments.xlsx"
    path.write_bytes(upload.read())

    log_in(page, live_server, regional_admin)
    page.goto(f"{live_server.url}/admin/applications/payment/import/")
    page.set_input_files("input[name=import_file]", str(path))
    page.select_option("select[name=session]", str(session_2024.pk))
    page.locator("form[enctype] input[type=submit]").click()

    expect(page.locator("td.payment-outcome")).to_have_count(3)
    expect(page.locator("tr.outcome-pays td.payment-outcome")).to_contain_text(approved.reference)
    expect(page.locator("tr.outcome-unmatched td.payment-outcome")).to_contain_text("未匹配")
    expect(page.locator("tr.outcome-late td.payment-outcome")).to_contain_text("不予入账")
    expect(page.locator("ul.payment-counts")).to_contain_text("未匹配：1")
    expect(page.locator("input[name=confirm]")).to_have_value("确认导入：1 笔缴费入账，1 笔未匹配，1 笔不予入账")
    assert Payment.objects.count() == 0

    page.locator("input[name=confirm]").click()
    expect(page.locator(".messagelist .success")).to_have_count(1)
    approved.refresh_from_db()
    assert approved.status == "paid"
