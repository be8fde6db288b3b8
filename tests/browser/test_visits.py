"""Booking a visit at the counter in a real browser: in English, in Chinese on a 375 px wide phone, and moving it."""

import pytest
from playwright.sync_api import expect

from appointments.models import Booking, Status
from tests.appointments.helpers import MONDAY, at, exemption

pytestmark = pytest.mark.browser


def test_an_exemption_visit_booked_before_the_deadline_then_moved_in_english(page, live_server, time_machine, urumqi):
    time_machine.move_to(MONDAY)
    ticket = exemption(urumqi, language="en")
    page.goto(f"{live_server.url}/en/requests/status/{ticket.status_token}/")
    page.locator(f'a[href="/en/visits/{ticket.status_token}/"]').click()
    expect(page.locator("h1")).to_contain_text(f"Visit for {ticket.reference}")
    # The last morning: the 11:30 slot ends at the 12:00 deadline, no later one is offered.
    expect(page.locator('input[value="2024-07-02T12:00:00+08:00"]')).to_have_count(0)
    page.locator('input[value="2024-07-02T11:30:00+08:00"]').check()
    page.get_by_role("button", name="Book this time").click()
    expect(page.locator(".messages")).to_contain_text("Your visit is booked")
    expect(page.locator(".booked-slot")).to_have_text("2024-07-02 11:30")

    page.locator('input[value="2024-07-01T16:00:00+08:00"]').check()
    page.get_by_role("button", name="Move the visit").click()
    expect(page.locator(".booked-slot")).to_have_text("2024-07-01 16:00")
    assert Booking.objects.get(ticket=ticket, status=Status.BOOKED).slot.starts_at == at(2024, 7, 1, 16)

    page.goto(f"{live_server.url}/en/requests/status/{ticket.status_token}/print/")
    expect(page.locator(".print-head .booked-slot")).to_have_text("2024-07-01 16:00")


def test_booking_in_chinese_on_a_375px_phone(page, live_server, time_machine, urumqi):
    time_machine.move_to(MONDAY)
    ticket = exemption(urumqi)
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/zh-hans/visits/{ticket.status_token}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_contain_text("现场预约")
    widths = page.evaluate("({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"] == 375, widths
    page.locator('input[value="2024-07-02T10:00:00+08:00"]').check()
    page.get_by_role("button", name="预约此时间").click()
    expect(page.locator(".messages")).to_contain_text("预约成功")
    expect(page.locator(".booked-slot")).to_have_text("2024-07-02 10:00")
    widths = page.evaluate("({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"] == 375, widths
    page.get_by_role("button", name="取消预约").click()
    expect(page.locator(".messages")).to_contain_text("预约已取消")
    assert not Booking.objects.filter(ticket=ticket, status=Status.BOOKED).exists()
