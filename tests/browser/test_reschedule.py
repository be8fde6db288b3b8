"""A regional admin moves the info-change cutoff of the current session: the preview says what moves, the
confirmation saves and the worker (eager here) moves the pending request's deadline."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.helpers import log_in, open_session_now
from tests.tickets.factories import open_ticket
from tickets.models import Kind, Ticket

pytestmark = pytest.mark.browser


def test_regional_admin_previews_and_confirms_a_date_change(page, live_server, regional_admin, urumqi):
    session = open_session_now()
    pending = open_ticket(Kind.INFO_CHANGE, urumqi, scope="registration", session=session, now=timezone.now())
    old_deadline = pending.deadline

    log_in(page, live_server, regional_admin)
    page.goto(f"{live_server.url}/admin/applications/examsession/{session.pk}/change/")
    field = page.locator("#id_info_change_deadline")
    shown = field.input_value()
    separator = "/" if "/" in shown else "-"
    later = datetime.datetime.strptime(shown, f"%Y{separator}%m{separator}%d").date() + datetime.timedelta(days=2)
    field.fill(later.strftime(f"%Y{separator}%m{separator}%d"))
    page.locator("[name=_save]").click()

    counts = page.locator("#reschedule-counts")
    expect(counts).to_be_visible()
    expect(counts.locator("li").first).to_contain_text("1")
    assert Ticket.objects.get(pk=pending.pk).deadline == old_deadline  # nothing saved yet

    page.locator("#content [type=submit][name=_save]").click()
    expect(page.locator(".messagelist")).to_be_visible()
    assert Ticket.objects.get(pk=pending.pk).deadline == old_deadline + datetime.timedelta(days=2)
