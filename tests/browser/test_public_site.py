"""The public site in a real browser: deadlines in both languages, the office directory, phones and paper."""

import re

import pytest
from playwright.sync_api import expect

from offices.seed import LOCAL_OFFICES

pytestmark = pytest.mark.browser

PUBLIC_PAGES = ["/zh-hans/", "/zh-hans/offices/", "/zh-hans/help/"]


def test_home_shows_the_registration_deadline_in_chinese_and_after_switching_to_english(page, live_server):
    page.goto(f"{live_server.url}/zh-hans/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    # The first key date of the session is online registration (2024: closes 2 July, 12:00 Beijing time).
    expect(page.locator(".key-dates .row").first.locator(".deadline")).to_have_text("2024-07-02 12:00")

    page.locator(".language-switch").get_by_role("button", name="English").click()

    expect(page).to_have_url(f"{live_server.url}/en/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Key dates")).to_be_visible()
    registration = page.locator(".key-dates .row").filter(has=page.get_by_text(re.compile("^Online registration$")))
    expect(registration.locator(".deadline")).to_have_text("2024-07-02 12:00")


def test_office_directory_lists_the_fourteen_local_offices_and_the_regional_office(page, live_server):
    page.goto(f"{live_server.url}/zh-hans/offices/")

    expect(page.locator(".office-list > .office")).to_have_count(14)
    for code, name_zh, *_ in LOCAL_OFFICES:
        expect(page.locator(f"#office-{code}")).to_contain_text(name_zh)
    expect(page.locator("#office-650000")).to_contain_text("自治区会计考试办公室")


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_no_horizontal_scroll_on_a_375px_wide_phone(page, live_server, path):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}{path}")

    expect(page.locator(".site-header")).to_be_visible()
    widths = page.evaluate("({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["inner"] == 375
    assert widths["scroll"] <= widths["inner"], f"{path} scrolls sideways at 375 px: {widths}"


def test_printed_page_hides_the_navigation_and_the_language_switch(page, live_server):
    page.goto(f"{live_server.url}/zh-hans/")
    navigation, language_switch = page.locator(".site-nav"), page.locator(".language-switch")
    expect(navigation).to_be_visible()
    expect(language_switch).to_be_visible()

    page.emulate_media(media="print")

    expect(navigation).to_be_hidden()
    expect(language_switch).to_be_hidden()
    expect(page.locator(".key-dates")).to_be_visible()
