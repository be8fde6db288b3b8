"""The Content-Security-Policy holds in a real browser: no page of the public site or the admin needs an inline
script, style or handler. Every console message and every `securitypolicyviolation` event is collected."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in, open_session_now
from tests.factories import submit_application
from tickets.models import Kind

pytestmark = pytest.mark.browser

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


@pytest.fixture
def watched(page):
    """The page, with every console message and policy violation recorded."""
    console = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text} {message.location['url']}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    page.add_init_script(WATCH_VIOLATIONS)
    page.console_messages = console
    return page


def visit(page, url):
    response = page.goto(url)
    assert response is not None and response.status < 400, url
    assert "script-src 'self'" in response.headers["content-security-policy"], url
    page.wait_for_load_state("load")


def assert_clean(page, url):
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], f"{url}: {violations}"
    assert page.console_messages == [], f"{url}: {page.console_messages}"


@pytest.fixture
def world(regional_admin):
    from applications.models import ExamSession
    from offices.models import Office
    from tests.security.conftest import open_ticket

    session = open_session_now()
    urumqi = Office.objects.get(code="650100")
    application = submit_application(session, urumqi, now=session.registration_opens)
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi, {"platform": "xinjiang"}, now=session.registration_opens)
    assert ExamSession.objects.current() == session
    return application, ticket


def test_public_pages_need_nothing_inline(watched, live_server, world):
    _application, ticket = world
    for path in (
        "/zh-hans/",
        "/en/",
        "/zh-hans/applications/apply/",
        "/zh-hans/applications/status/",
        "/zh-hans/requests/",
        "/zh-hans/requests/password-reset/new/",
        "/zh-hans/requests/status/",
        f"/zh-hans/requests/status/{ticket.status_token}/",
        f"/zh-hans/requests/status/{ticket.status_token}/print/",
        "/zh-hans/offices/",
        "/zh-hans/help/",
    ):
        visit(watched, f"{live_server.url}{path}")
        assert_clean(watched, path)

    # print.js (a file, not an inline handler) ran: it shows the print button.
    visit(watched, f"{live_server.url}/zh-hans/requests/status/{ticket.status_token}/print/")
    expect(watched.locator("[data-print]").first).to_be_visible()
    visit(watched, f"{live_server.url}/zh-hans/")
    # The language switch posts a form (form-action 'self') and lands on the English page.
    watched.locator(".language-switch").get_by_role("button", name="English").click()
    watched.wait_for_load_state("load")
    assert "/en/" in watched.url
    assert_clean(watched, "language switch")


def test_admin_pages_need_nothing_inline(watched, live_server, world, regional_admin):
    application, _ticket = world
    visit(watched, f"{live_server.url}/admin/login/")
    assert_clean(watched, "/admin/login/")
    log_in(watched, live_server, regional_admin)
    assert_clean(watched, "login")

    pages = [
        "/admin/",
        "/admin/applications/application/",
        f"/admin/applications/application/{application.pk}/change/",
        f"/admin/applications/application/{application.pk}/history/",
        f"/admin/applications/application/{application.pk}/decide/approve/",
        "/admin/applications/payment/import/",
        "/admin/offices/office/import/",
        "/admin/offices/office/export/",
        "/admin/applications/examsession/add/",
        "/admin/offices/user/",
        "/admin/auditlog/logentry/",
        "/admin/tickets/ticket/",
        "/admin/notifications/outboxmessage/",
    ]
    for path in pages:
        visit(watched, f"{live_server.url}{path}")
        assert_clean(watched, path)

    # Scripts that run on interaction: the changelist's action checkboxes, the export page's select-all
    # (an inline onchange in django-import-export, wired by portal/admin_export.js here), a date widget.
    visit(watched, f"{live_server.url}/admin/applications/application/")
    watched.locator("#action-toggle").check()
    expect(watched.locator(".action-counter")).to_contain_text("1")
    visit(watched, f"{live_server.url}/admin/offices/office/export/")
    boxes = watched.locator(".selectable-field-export-row input[type=checkbox]")
    watched.locator(".select-toggle").uncheck()
    expect(boxes.first).not_to_be_checked()
    watched.locator(".select-toggle").check()
    expect(boxes.first).to_be_checked()
    visit(watched, f"{live_server.url}/admin/applications/examsession/add/")
    watched.locator(".datetimeshortcuts a").first.click()
    assert_clean(watched, "interactions")
