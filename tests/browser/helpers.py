"""Steps shared by browser tests."""

from pathlib import Path

from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import PASSWORD, require
from tests.factories import pdf_bytes


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/admin/")


def open_session_now():
    """A current session whose registration is open now (the browser's clock is the real one)."""
    from applications.models import ExamSession
    from portal.management.commands.demo import demo_session_dates

    session = ExamSession(**demo_session_dates(timezone.now()))
    session.full_clean()
    session.save()
    session.make_current()
    return session


def fill_application(page, *, name, document_number, birth_date, office="650100"):
    page.fill("[name=name]", name)
    page.select_option("[name=document_type]", "resident_id")
    page.fill("[name=document_number]", document_number)
    page.fill("[name=birth_date]", birth_date)
    page.check("[name=gender][value=M]")
    page.select_option("[name=office]", office)
    page.fill("[name=email]", "candidate@example.com")
    page.fill("[name=phone]", "13800000000")
    page.select_option("[name=qualification]", "bachelor")
    page.fill("[name=school]", "新疆大学")
    page.fill("[name=major]", "会计学")
    page.fill("[name=graduation_date]", "2012-07-01")
    page.fill("[name=work_start_date]", "2012-08-01")
    page.fill("[name=claimed_insured_months]", "140")
    page.fill("[name=ce_professional_credits]", "60")
    page.fill("[name=ce_public_credits]", "30")
    for box in page.locator("[name=subjects]").all():
        box.check()
    page.set_input_files(
        "[name=insurance_pdf]", files=[{"name": "shebao.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}]
    )


def decide(page, live_server, application, label):
    page.goto(f"{live_server.url}/admin/applications/application/{application.pk}/change/")
    page.get_by_role("link", name=label, exact=True).click()


# axe-core, installed by `make test` (npm install --prefix var/npm); under CI=true a missing axe fails.
AXE = Path(settings.BASE_DIR) / "var" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
# Serious and critical violations fail a test; moderate and minor ones are left to review.
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(" "))}));
}"""


def axe_context(browser, live_server, language, color_scheme="light"):
    """A browser context for axe: CSP forbids inline script, and injecting axe is one, so this context alone
    bypasses it (test_csp.py checks the policy holds). The language cookie is the staff's or the candidate's
    choice (Accept-Language is ignored: portal/middleware.py). The admin follows the system's dark scheme: axe
    checks colour contrast in the scheme given."""
    require(AXE.exists(), f"needs axe-core at {AXE} (make test installs it: npm install --prefix var/npm)")
    context = browser.new_context(bypass_csp=True, color_scheme=color_scheme)
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    context.set_default_timeout(10_000)
    return context


def axe_violations(page):
    """The serious and critical violations axe finds on the page as it is now, one line each: impact, rule id
    and the nodes it found them on."""
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    return [f"{v['impact']} {v['id']}: {', '.join(v['targets'])}" for v in page.evaluate(RUN_AXE)]
