"""The application form says, as the candidate types, whether the work start date meets the work-years rule."""

import datetime

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import open_session_now

pytestmark = pytest.mark.browser


def test_the_work_years_result_shows_as_the_candidate_types(page, live_server):
    session = open_session_now()
    page.goto(f"{live_server.url}/en/applications/apply/")
    live = page.locator("#eligibility-live")
    expect(live).to_be_hidden()

    # An associate degree needs 5 years to 31 December: 4 years 10 months is short.
    short = datetime.date(session.year - 4, 3, 1)
    page.select_option("[name=qualification]", "associate")
    page.fill("[name=work_start_date]", short.isoformat())
    expect(live).to_be_visible()
    expect(live).to_contain_text("Does not meet the work-years rule")
    expect(live).to_contain_text("4 years 10 months")

    page.select_option("[name=qualification]", "bachelor")
    expect(live).to_contain_text("Meets the work-years rule")

    page.select_option("[name=qualification]", "other_intermediate")
    expect(live).to_contain_text("checks your certificate")
