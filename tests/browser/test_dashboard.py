"""The dashboard in a real browser, in Chinese and in English, for a reviewer and the regional office: its
figures and links are there, no English leaks into the Chinese page, and axe-core finds no serious or critical
accessibility violation. axe-core is installed by `make test` (var/npm); under CI=true a missing axe fails."""

import pytest

from tests.browser.helpers import axe_context, axe_violations
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# English words that must not appear on the Chinese dashboard (issue 11 found "AUDIT LOG" and "PORTAL").
ENGLISH = ["Audit log", "AUDIT LOG", "Portal", "PORTAL", "Today's work", "Season progress", "submitted →"]


def dashboard_page(browser, live_server, username, language):
    context = axe_context(browser, live_server, language)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    return context, page


@pytest.mark.parametrize("username", ["reviewer_urumqi", "regional_admin"])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_dashboard_reads_in_both_languages_and_passes_axe(browser, live_server, demo_staff, username, language):
    context, page = dashboard_page(browser, live_server, username, language)
    try:
        assert page.locator("html").get_attribute("lang") == language
        heading = "今日工作" if language == "zh-hans" else "Today's work"
        assert page.locator("#dashboard-today").inner_text() == heading
        overdue = page.locator('[data-figure="applications-overdue"] a')
        assert int(overdue.locator(".figure-count").inner_text()) > 0
        assert (page.locator("#dashboard-regional").count() == 1) == (username == "regional_admin")
        if language == "zh-hans":
            text = page.locator("body").inner_text()
            assert [word for word in ENGLISH if word in text] == []
        assert axe_violations(page) == []
        # A figure's link opens the changelist with exactly that many rows.
        count = int(overdue.locator(".figure-count").inner_text())
        overdue.click()
        page.wait_for_load_state("load")
        assert page.locator("#result_list tbody tr").count() == count
    finally:
        context.close()
