"""A registration application from the candidate's form to the reviewer's decision, in a real browser."""

import pytest
from playwright.sync_api import expect

from applications.models import Application, Status
from notifications.models import OutboxMessage
from tests.browser.helpers import fill_application, log_in, open_session_now
from tests.factories import resident_id

pytestmark = pytest.mark.browser


def submit_form(page, live_server, language, name, number):
    page.goto(f"{live_server.url}/{language}/applications/apply/")
    fill_application(page, name=name, document_number=number, birth_date="1990-01-01")
    page.locator("form [type=submit]").last.click()
    reference = page.locator(".reference").inner_text()
    return Application.objects.get(reference=reference)


def test_english_submit_approve_and_status_page(page, live_server, reviewer_urumqi):
    open_session_now()
    application = submit_form(page, live_server, "en", "Li Ming", resident_id("19900101"))
    expect(page.locator("h1")).to_have_text("Application received")
    status_link = page.locator(".private-link a").get_attribute("href")

    log_in(page, live_server, reviewer_urumqi)
    page.goto(f"{live_server.url}/admin/applications/application/{application.pk}/change/")
    # The reviewer records what the social-insurance PDF shows; with every check green, approval needs no override.
    page.locator("a.decision[href$='/decide/verified-months/']").click()
    page.locator("input[name=months]").fill(str(application.claimed_insured_months))
    page.locator("#content-main form [type=submit]").first.click()
    page.locator("a.decision[href$='/decide/approve/']").click()
    expect(page.locator("textarea[name=override]")).to_have_count(0)
    page.locator("#content-main form [type=submit]").first.click()
    expect(page.locator(".messagelist")).to_contain_text(application.reference)

    page.goto(f"{live_server.url}{status_link}")
    expect(page.locator(".status")).to_contain_text("Approved")
    application.refresh_from_db()
    assert application.status == Status.APPROVED
    approved_email = OutboxMessage.objects.filter(
        dedup_key__startswith=f"application:{application.pk}:event:", language="en"
    ).get()
    assert "Approved" in approved_email.context["subject"]


def test_chinese_return_for_correction_round_trip(page, live_server, reviewer_urumqi):
    open_session_now()
    application = submit_form(page, live_server, "zh-hans", "王芳", resident_id("19900101", male=True))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    status_link = page.locator(".private-link a").get_attribute("href")

    log_in(page, live_server, reviewer_urumqi)
    page.goto(f"{live_server.url}/admin/applications/application/{application.pk}/change/")
    page.locator("a.decision[href$='/decide/return/']").click()
    page.fill("[name=note]", "请上传完整的社保缴费证明。")
    page.locator("#content-main form [type=submit]").first.click()

    page.goto(f"{live_server.url}{status_link}")
    expect(page.locator("main")).to_contain_text("请上传完整的社保缴费证明。")
    page.locator("a.button").first.click()  # correct and send again
    page.fill("[name=claimed_insured_months]", "150")
    page.locator("form [type=submit]").last.click()
    expect(page.locator(".status")).to_have_count(1)

    application.refresh_from_db()
    assert application.status == Status.SUBMITTED
    assert application.claimed_insured_months == 150
    statuses = list(application.events.order_by("pk").values_list("to_status", flat=True))
    assert statuses == ["submitted", "returned", "submitted"]
    assert (
        OutboxMessage.objects.filter(dedup_key__startswith=f"application:{application.pk}:", language="zh-hans").count()
        >= 2
    )
