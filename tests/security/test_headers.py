"""Pages with personal data are never cached, error pages show no internals, candidate forms are sensitive
in error reports, and every page carries the Content-Security-Policy."""

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.views.debug import SafeExceptionReporterFilter

from tests.applications.admin_helpers import CHANGELIST, application, change_url, decide_url, file_url, staff_client
from tickets.models import Kind

from .conftest import open_ticket
from .urls import FAILING_NUMBER

pytestmark = pytest.mark.django_db


def no_store(response):
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


@pytest.fixture
def application_and_ticket(session_2024, urumqi):
    return application(session_2024, urumqi), open_ticket(Kind.PASSWORD_RESET, urumqi, {"platform": "xinjiang"})


# Cache-Control -----------------------------------------------------------------------------------------------


def test_every_admin_page_is_no_store(client, regional_admin, application_and_ticket):
    app, ticket = application_and_ticket
    client = staff_client(client, regional_admin)
    urls = ["/admin/", "/admin/password_change/", change_url(app), decide_url(app, "approve"), file_url(app)]
    for model, model_admin in admin.site._registry.items():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        urls += [base, f"{base}add/"]
        obj = model_admin.get_queryset(_request_of(client, regional_admin)).first()
        if obj is not None:
            urls += [f"{base}{obj.pk}/change/", f"{base}{obj.pk}/history/", f"{base}{obj.pk}/delete/"]
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        assert no_store(response), (url, response.status_code, response.get("Cache-Control"))


def _request_of(client, user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_admin_login_and_refusals_are_no_store(client, reviewer_kashgar, application_and_ticket):
    app, _ticket = application_and_ticket
    assert no_store(client.get("/admin/login/"))
    assert no_store(client.get(CHANGELIST))  # the redirect to the login page
    kashgar = staff_client(client, reviewer_kashgar)
    for url in (change_url(app), file_url(app)):  # another office's: refused, and not cached either
        response = kashgar.get(url)
        assert response.status_code in (302, 403, 404), url
        assert no_store(response), url


def test_public_pages_with_personal_data_are_no_store(client, application_and_ticket):
    app, ticket = application_and_ticket
    pages = [
        ("get", "/zh-hans/applications/apply/"),
        ("post", "/zh-hans/applications/apply/"),
        ("get", f"/zh-hans/applications/submitted/{app.status_token}/"),
        ("get", f"/zh-hans/applications/status/{app.status_token}/"),
        ("get", f"/zh-hans/applications/status/{app.status_token}/edit/"),
        ("get", f"/zh-hans/applications/status/{app.status_token}/withdraw/"),
        ("get", "/zh-hans/applications/status/"),
        ("post", "/zh-hans/applications/status/"),
        ("get", "/zh-hans/requests/password-reset/new/"),
        ("post", "/zh-hans/requests/password-reset/new/"),
        ("get", f"/zh-hans/requests/submitted/{ticket.status_token}/"),
        ("get", f"/zh-hans/requests/status/{ticket.status_token}/"),
        ("get", f"/zh-hans/requests/status/{ticket.status_token}/print/"),
        ("get", "/zh-hans/requests/status/"),
        ("post", "/zh-hans/requests/status/"),
    ]
    for method, url in pages:
        response = getattr(client, method)(url, {"document_number": "650102198804120119"} if method == "post" else {})
        assert response.status_code < 500, url
        assert no_store(response), (method, url, response.get("Cache-Control"))


# Error pages ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/zh-hans/applications/status/no-such-token/", "/no-such-page/"])
def test_not_found_page_is_the_sites_and_shows_no_internals(client, url):
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 404
    assert 'class="site-header"' in html and "页面不存在" in html
    for internal in ("URLconf", "Traceback", "Http404", "urlpatterns", "DEBUG"):
        assert internal not in html


def test_server_error_page_shows_no_internals_and_the_log_is_masked(client, settings, log_output):
    settings.ROOT_URLCONF = "tests.security.urls"
    client.raise_request_exception = False

    response = client.get("/failing/")

    html = response.content.decode()
    assert response.status_code == 500
    assert 'class="site-header"' in html and "服务暂时不可用" in html and "Service temporarily unavailable" in html
    assert "RuntimeError" not in html and "Traceback" not in html and FAILING_NUMBER not in html
    written = log_output.getvalue()
    assert "Internal Server Error: /failing/" in written and "RuntimeError" in written
    assert FAILING_NUMBER not in written and "650102********0119" in written


def test_permission_denied_page_is_the_sites(client, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="x-long-password-1", is_staff=True)
    response = staff_client(client, clerk).get("/admin/auditlog/logentry/")
    assert response.status_code == 403
    assert 'class="site-header"' in response.content.decode()


# A form posted without its CSRF token (an expired page, cookies blocked, a forged post) ---------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("/en/applications/status/", "The form could not be sent"),
        ("/zh-hans/requests/status/", "表单未能提交"),
        ("/admin/login/", "表单未能提交"),  # the admin speaks Chinese unless the browser asks otherwise
    ],
)
def test_a_csrf_failure_is_the_sites_page_in_the_users_language(url, words):
    client = Client(enforce_csrf_checks=True)
    response = client.post(url, {"reference": "A", "document_number": "E1234567", "username": "x", "password": "y"})
    html = response.content.decode()
    assert response.status_code == 403
    assert 'class="site-header"' in html and words in html
    # Not Django's built-in page, which carries an inline style and speaks English only.
    assert "<style" not in html and "style=" not in html and "CSRF verification failed" not in html
    for internal in ("CSRF cookie not set", "CSRF token missing", "Referer", "CSRF_FAILURE_VIEW", "DEBUG"):
        assert internal not in html
    assert csp_of(response)["style-src"] == ["'self'"] and no_store(response)


def test_a_csrf_failure_page_follows_the_language_the_user_chose():
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post("/admin/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "The form could not be sent" in response.content.decode()


# Sensitive POST parameters -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/zh-hans/applications/apply/",
        "/zh-hans/applications/status/",
        "/zh-hans/requests/info-change/new/",
        "/zh-hans/requests/status/",
    ],
)
def test_candidate_forms_are_sensitive_in_error_reports(client, url, application_and_ticket):
    response = client.post(url, {"document_number": "650102198804120119", "name": "马晓", "reference": "A1"})
    request = response.wsgi_request
    assert request.sensitive_post_parameters == "__ALL__"
    cleansed = SafeExceptionReporterFilter().get_post_parameters(request)
    assert "650102198804120119" not in str(dict(cleansed)) and "马晓" not in str(dict(cleansed))


def test_the_edit_form_is_sensitive_too(client, application_and_ticket):
    app, _ticket = application_and_ticket
    response = client.post(f"/zh-hans/applications/status/{app.status_token}/edit/", {"name": "马晓"})
    assert response.wsgi_request.sensitive_post_parameters == "__ALL__"


# Content-Security-Policy ---------------------------------------------------------------------------------------------


def csp_of(response):
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("url", ["/zh-hans/", "/zh-hans/applications/apply/", "/admin/login/", "/zh-hans/nowhere/"])
def test_every_page_has_the_policy(client, url):
    policy = csp_of(client.get(url))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in str(policy) and "'unsafe-eval'" not in str(policy)


def test_admin_pages_have_the_policy(client, regional_admin):
    response = staff_client(client, regional_admin).get(CHANGELIST)
    assert csp_of(response)["script-src"] == ["'self'"]


def test_our_templates_have_no_inline_script_style_or_handler():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)
    offenders = []
    for path in [*root.glob("templates/**/*.html"), *root.glob("*/templates/**/*.html")]:
        if ".venv" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if inline.search(line):
                offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []
