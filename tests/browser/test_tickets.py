"""In-person requests in a real browser: a password reset filed in Chinese and its form printed; an
exemption sent in English after the deadline refused."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from tests.factories import resident_id
from tickets.models import Kind, Ticket

pytestmark = pytest.mark.browser


def fill_identity(page, number, *, office="650100"):
    page.locator("#id_name").fill("王五")
    page.locator("#id_document_type").select_option("resident_id")
    page.locator("#id_document_number").fill(number)
    page.locator("#id_birth_date").fill("1990-01-01")
    page.locator("input[name=gender][value=M]").check()
    page.locator("#id_email").fill("wangwu@example.com")
    page.locator("#id_phone").fill("13900000000")
    page.locator("#id_office").select_option(office)


def test_a_password_reset_filed_in_chinese_and_its_in_person_form_printed(page, live_server):
    number = resident_id("19900101", male=True)
    page.goto(f"{live_server.url}/zh-hans/requests/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.locator('a[href="/zh-hans/requests/password-reset/new/"]').click()

    fill_identity(page, number)
    page.locator("input[name=platform][value=national]").check()
    page.locator("#id_self_service_tried").check()
    page.locator("form.form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/zh-hans/requests/submitted/[^/]+/$"))
    ticket = Ticket.objects.get()
    assert (ticket.kind, ticket.language, ticket.detail.platform) == (Kind.PASSWORD_RESET, "zh-hans", "national")
    expect(page.locator(".reference").first).to_have_text(ticket.reference)

    page.locator(f'a[href="/zh-hans/requests/status/{ticket.status_token}/print/"]').click()
    expect(page).to_have_url(f"{live_server.url}/zh-hans/requests/status/{ticket.status_token}/print/")
    expect(page.locator(".print-head .reference")).to_have_text(ticket.reference)
    expect(page.locator(".print-qr svg.qr-code")).to_be_visible()
    materials = page.locator("section[aria-labelledby=materials] .checklist li")
    expect(materials).to_have_count(1)
    with translation.override("zh-hans"):
        identity_document = translation.gettext("Your valid identity document (original)")
    expect(materials.first).to_contain_text(identity_document)
    expect(page.locator("body")).not_to_contain_text(number)
    expect(page.locator("body")).to_contain_text(ticket.office.address_zh)
    # The static script shows the print button (no inline JavaScript).
    print_button = page.locator("button[data-print]")
    expect(print_button).to_be_visible()

    page.emulate_media(media="print")

    expect(page.locator(".site-nav")).to_be_hidden()
    expect(page.locator(".language-switch")).to_be_hidden()
    expect(print_button).to_be_hidden()
    expect(page.locator(".print-head .reference")).to_be_visible()
    expect(materials.first).to_be_visible()


def test_an_exemption_sent_in_english_after_the_deadline_is_refused(page, live_server, time_machine):
    time_machine.move_to("2024-07-02T11:58:00+08:00")
    page.goto(f"{live_server.url}/en/requests/exemption/new/")
    expect(page.locator("h1")).to_contain_text("Subject exemption")

    fill_identity(page, resident_id("19880808", male=True))
    page.locator("input[name=degree][value=mpacc]").check()
    page.locator("#id_certificate_number").fill("1075532015000123")
    page.locator("#id_school").fill("Xinjiang University of Finance and Economics")
    page.locator("#id_graduation_date").fill("2015-06-30")

    # The candidate took too long: the deadline (12:00 Beijing time) passes before sending.
    time_machine.move_to("2024-07-02T12:00:05+08:00")
    page.locator("form.form button[type=submit]").click()

    errors = page.locator(".form-errors")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text("Subject exemption requests were accepted until 2024-07-02 12:00 (Beijing time)")
    expect(page.locator("#id_school")).to_have_value("Xinjiang University of Finance and Economics")
    assert not Ticket.objects.exists()

    # Opened now, the form is replaced by the refusal.
    page.goto(f"{live_server.url}/en/requests/exemption/new/")
    expect(page.locator(".request-closed")).to_contain_text("The deadline has passed")
    expect(page.locator("form.form")).to_have_count(0)


@pytest.mark.parametrize("path", ["/zh-hans/requests/", "/zh-hans/requests/info-change/new/", "/en/requests/status/"])
def test_no_horizontal_scroll_on_a_375px_wide_phone(page, live_server, path):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}{path}")
    widths = page.evaluate("({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"] == 375, f"{path} scrolls sideways at 375 px: {widths}"


def test_the_office_verifies_and_completes_the_password_reset(page, live_server, reviewer_urumqi):
    from notifications.models import OutboxMessage
    from tests.browser.helpers import log_in
    from tickets.models import Status

    number = resident_id("19900101", male=True)
    page.goto(f"{live_server.url}/zh-hans/requests/password-reset/new/")
    fill_identity(page, number)
    page.locator("input[name=platform][value=xinjiang]").check()
    page.locator("form.form button[type=submit]").click()
    ticket = Ticket.objects.get()
    status_path = f"/zh-hans/requests/status/{ticket.status_token}/"

    log_in(page, live_server, reviewer_urumqi)
    change_url = f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/"
    # The fewest pages: the change view, one step page (method chosen, reset ticked), back on the change view.
    page.goto(change_url)
    page.locator("a.ticket-step[href$='/step/verify-reset-complete/']").click()
    page.locator("input[name=method][value=id_card_reader]").check()
    page.locator("input[name=reset_done]").check()
    page.locator("#content-main form [type=submit]").first.click()
    expect(page.locator(".messagelist .error")).to_have_count(0)
    expect(page.locator(".messagelist .success")).to_have_count(1)
    assert page.url == change_url

    ticket.refresh_from_db()
    assert ticket.status == Status.COMPLETED
    page.goto(f"{live_server.url}{status_path}")
    expect(page.locator(".status.status-completed")).to_be_visible()
    completed = OutboxMessage.objects.filter(dedup_key__startswith=f"ticket:{ticket.pk}:event:").order_by("pk").last()
    assert "首次登录" in completed.context["body"]
