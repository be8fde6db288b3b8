"""Office scoping of the outbox in the real admin: a local reviewer sees their own office's emails only."""

import pytest
from playwright.sync_api import expect

from notifications.models import OutboxMessage
from offices.models import Office
from tests.browser.helpers import log_in

pytestmark = pytest.mark.browser


def outbox_row(office_code, recipient):
    return OutboxMessage.objects.create(
        office=Office.objects.get(code=office_code),
        recipient=recipient,
        language="zh-hans",
        template="application_received",
        dedup_key=f"browser-test:{recipient}",
    )


def test_reviewer_sees_only_the_outbox_of_their_own_office(page, live_server, reviewer_urumqi):
    outbox_row("650100", "urumqi-candidate@example.com")
    kashgar = outbox_row("653100", "kashgar-candidate@example.com")

    log_in(page, live_server, reviewer_urumqi)
    page.goto(f"{live_server.url}/admin/notifications/outboxmessage/")

    results = page.locator("#result_list")
    expect(results).to_contain_text("urumqi-candidate@example.com")
    expect(results).not_to_contain_text("kashgar-candidate@example.com")
    expect(results.locator("tbody tr")).to_have_count(1)

    response = page.goto(f"{live_server.url}/admin/notifications/outboxmessage/{kashgar.pk}/change/")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("kashgar-candidate@example.com")
