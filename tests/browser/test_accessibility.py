"""axe-core finds no serious or critical violation on the public pages, in Chinese and in English, nor on the admin
pages staff use every day, in Chinese: the login, the index, the changelists with and without filters or a search, an
application's change view and its decision pages, the batch rejection, a request's change view and its step pages,
the payment import, the escalation queue, the session's dates; the reviewer's pages in the dark scheme as well.
Forms are checked again sent empty, with their error messages. Each page's violations are listed by impact, rule id
and the nodes found, so one run shows everything to fix."""

import pytest

from tests.browser.helpers import axe_context, axe_violations
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

REQUEST_KINDS = ["password-reset", "info-change", "certification-deletion", "refund", "exemption"]


def audit(page, url):
    """The violations axe finds on `url`, each line prefixed by the page's path."""
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    return [f"{url.split('/', 3)[-1]} — {line}" for line in axe_violations(page)]


def audit_errors(page, url, form="form.form"):
    """The violations axe finds on the form at `url` sent empty: the page with every error message shown."""
    page.goto(url)
    page.locator(form).evaluate("(form) => { form.noValidate = true; }")  # the server's messages, not the browser's
    page.locator(f"{form} [type=submit]").first.click()
    page.wait_for_load_state("load")
    assert page.locator(".errorlist, .form-errors").count() > 0, f"{url}: no error shown"
    return [f"{url.split('/', 3)[-1]} (sent empty) — {line}" for line in axe_violations(page)]


def audit_batch_reject(page, changelist):
    """The batch rejection's confirmation page: the undecided applications ticked, the action chosen."""
    page.goto(f"{changelist}?status__exact=submitted")
    page.locator("#result_list tbody input.action-select").first.check()
    page.locator("select[name=action]").select_option("reject_selected")
    page.locator("#changelist-form button[name=index]").click()
    page.wait_for_load_state("load")
    assert page.locator("#content-main form input[name=post][value=yes]").count() == 1, "no confirmation page"
    return [f"batch rejection — {line}" for line in axe_violations(page)]


def report(violations):
    return "serious or critical axe violations:\n" + "\n".join(violations)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_public_pages_pass_axe(browser, live_server, demo_staff, language):
    from applications.models import Application
    from tickets.models import Ticket

    application = Application.objects.filter(office__code="650100", status="submitted").first()
    returned = Application.objects.filter(status="returned").first()
    ticket = Ticket.objects.filter(office__code="650100", status="submitted").first()
    paths = [
        "",
        "help/",
        "offices/",
        "requests/",
        *(f"requests/{kind}/new/" for kind in REQUEST_KINDS),
        f"requests/submitted/{ticket.status_token}/",
        f"requests/status/{ticket.status_token}/print/",
        "requests/status/",
        f"requests/status/{ticket.status_token}/",
        f"visits/{ticket.status_token}/",  # booking a visit at the counter (issue 14)
        "applications/apply/",
        f"applications/submitted/{application.status_token}/",
        "applications/status/",
        f"applications/status/{application.status_token}/",
        f"applications/status/{application.status_token}/withdraw/",
        f"applications/status/{returned.status_token}/",
        f"applications/status/{returned.status_token}/edit/",
    ]
    context = axe_context(browser, live_server, language)
    try:
        page = context.new_page()
        violations = [line for path in paths for line in audit(page, f"{live_server.url}/{language}/{path}")]
        for path in ("requests/password-reset/new/", "applications/apply/"):
            violations += audit_errors(page, f"{live_server.url}/{language}/{path}")
    finally:
        context.close()
    assert not violations, report(violations)


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/")


def links(page, url, selector):
    page.goto(url)
    return [
        page.url.split("/admin/")[0] + href
        for href in page.locator(selector).evaluate_all("(a) => a.map((e) => e.getAttribute('href'))")
    ]


def reviewer_pages(base):
    """The reviewer's day: lists, an undecided application and its decisions, open requests and their steps."""
    from applications.models import Application
    from tickets.models import Ticket

    application = Application.objects.filter(office__code="650100", status="submitted").first()
    tickets = [
        Ticket.objects.filter(office__code="650100", status=status).first()
        for status in ("submitted", "verified", "in_progress")
    ]
    return (
        [
            f"{base}/admin/",
            f"{base}/admin/applications/application/",
            f"{base}/admin/applications/application/?status__exact=submitted",
            f"{base}/admin/applications/application/?q={application.reference}",
            f"{base}/admin/tickets/ticket/",
            f"{base}/admin/tickets/ticket/?kind__exact=password_reset&status__exact=submitted",
            f"{base}/admin/appointments/booking/today/",  # today's visits and the check-in (issue 14)
        ],
        [f"{base}/admin/applications/application/{application.pk}/change/"],
        [f"{base}/admin/tickets/ticket/{ticket.pk}/change/" for ticket in tickets if ticket],
    )


def regional_pages(base):
    """The regional office's: the escalation queue and an escalated request with its regional steps, the payment
    import (only the regional office imports the national platform's payment list)."""
    from applications.models import ExamSession
    from tickets.models import Ticket

    escalated = Ticket.objects.filter(status="escalated").first()
    session = ExamSession.objects.current()
    return (
        [
            f"{base}/admin/",
            f"{base}/admin/tickets/ticket/escalations/",
            f"{base}/admin/applications/payment/import/",
            # Not daily, but where the year's dates are set: each date and time box has its own label.
            f"{base}/admin/applications/examsession/{session.pk}/change/",
        ],
        [],
        [f"{base}/admin/tickets/ticket/{escalated.pk}/change/"],
    )


@pytest.mark.parametrize(
    "username, pages, color_scheme",
    [
        ("reviewer_urumqi", reviewer_pages, "light"),
        # Django's admin turns dark with the system: the portal's own colours (overdue, checks) must follow it.
        ("reviewer_urumqi", reviewer_pages, "dark"),
        ("regional_admin", regional_pages, "light"),
    ],
)
def test_daily_admin_pages_pass_axe_in_chinese(browser, live_server, demo_staff, username, pages, color_scheme):
    lists, applications, tickets = pages(live_server.url)
    context = axe_context(browser, live_server, "zh-hans", color_scheme)
    try:
        page = context.new_page()
        violations = audit(page, f"{live_server.url}/admin/login/")
        log_in(page, live_server, username)
        urls = list(lists)
        for url in applications:
            urls += [url, *links(page, url, "a.decision")]
        for url in tickets:
            urls += [url, *links(page, url, "a.ticket-step")]
        assert any("/decide/" in url for url in urls) or username != "reviewer_urumqi", urls
        assert any("/step/" in url for url in urls), urls
        violations += [line for url in urls for line in audit(page, url)]
        for url in urls:
            if url.endswith(("/decide/reject/", "/step/reject/")):
                violations += audit_errors(page, url, form="#content-main form")
        if username == "reviewer_urumqi":
            violations += audit_batch_reject(page, f"{live_server.url}/admin/applications/application/")
    finally:
        context.close()
    assert not violations, report(violations)


def test_the_helper_reports_what_axe_finds(page):
    """An empty list above means axe ran and found nothing, not that it failed to run."""
    page.set_content('<html lang="en"><head><title>t</title></head><body><main><img src="x.png"></main></body></html>')
    assert [line.split(":")[0] for line in axe_violations(page)] == ["critical image-alt"]
