"""Browser tests: Debian's Chromium driven by Playwright (sync API) against pytest-django's live server."""

import io
import os
import shutil

import pytest

from tests.conftest import PASSWORD, require

# The sync Playwright API runs an event loop in the test thread; Django would then refuse ORM calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    require(executable is not None, "needs Debian's chromium package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def demo_staff(transactional_db):
    """The demo's records (every status of every kind, a current session open now) and its staff, who log in with
    the tests' password."""
    from django.core.management import call_command

    from offices.models import User

    call_command("demo", stdout=io.StringIO())
    for user in User.objects.filter(username__in=["reviewer_urumqi", "regional_admin"]):
        user.set_password(PASSWORD)
        user.save()
