"""The applications list opens on the current session's open work: last year's lapsed rows and this year's finished
ones are one click away (the sidebar shows the defaults as chosen), and a search looks everywhere."""

import datetime

import pytest

from applications.models import Application, Status
from tests.applications.admin_helpers import CHANGELIST, application, staff_client
from tests.applications.test_exam_session import session_2025

pytestmark = pytest.mark.django_db


def rows(response):
    return {app.reference for app in response.context["cl"].result_list}


@pytest.fixture
def two_sessions(session_2024, urumqi):
    """2024's application lapsed; 2025 is current, with one application open and one paid."""
    old = application(session_2024, urumqi)
    Application.objects.filter(pk=old.pk).update(status=Status.LAPSED)
    current = session_2025()
    current.full_clean()
    current.save()
    current.make_current()
    opened = current.registration_opens + datetime.timedelta(hours=1)
    open_one = application(current, urumqi, now=opened)
    paid = application(current, urumqi, now=opened)
    Application.objects.filter(pk=paid.pk).update(status=Status.PAID)
    return old, open_one, paid, current


def test_the_default_list_is_the_current_sessions_open_work(client, reviewer_urumqi, two_sessions):
    old, open_one, paid, current = two_sessions
    client = staff_client(client, reviewer_urumqi)
    response = client.get(CHANGELIST)
    assert rows(response) == {open_one.reference}
    selected = {
        spec.title: [choice["display"] for choice in spec.choices(response.context["cl"]) if choice["selected"]]
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "parameter_name", None) in ("session", "work")
    }
    assert selected == {"exam session": ["2025"], "work": ["Open work"]}

    assert rows(client.get(CHANGELIST, {"work": "all"})) == {open_one.reference, paid.reference}
    assert rows(client.get(CHANGELIST, {"work": "all", "session": "all"})) == {
        old.reference,
        open_one.reference,
        paid.reference,
    }
    assert rows(client.get(CHANGELIST, {"status__exact": "paid"})) == {paid.reference}  # a chosen status wins
    assert rows(client.get(CHANGELIST, {"q": old.reference})) == {old.reference}  # a search looks everywhere


@pytest.mark.parametrize("url", [CHANGELIST, "/admin/tickets/ticket/"])
def test_the_status_column_does_not_wrap(client, reviewer_urumqi, session_2024, url):
    from django.contrib.staticfiles import finders

    page = staff_client(client, reviewer_urumqi).get(url).content.decode()
    assert "applications/admin.css" in page
    with open(finders.find("applications/admin.css"), encoding="utf-8") as file:
        css = file.read()
    rule = css[css.index("#result_list td.field-status") :]
    assert "white-space: nowrap" in rule[: rule.index("}")]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_dates_in_one_format_in_both_languages(client, regional_admin, session_2024, language):
    from django.utils import translation

    from applications.models import Payment
    from tests.applications.admin_helpers import at

    Payment.objects.create(
        session=session_2024,
        payment_code="PAY-1",
        document_number="650102199001010011",
        name="张三",
        amount=300,
        paid_at=at(2024, 7, 1, 10, 30),
        imported_at=at(2024, 7, 3, 9, 5),
    )
    client = staff_client(client, regional_admin)
    with translation.override(language):
        page = client.get("/admin/applications/payment/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        session_page = client.get(f"/admin/applications/examsession/{session_2024.pk}/change/").content.decode()
    assert "2024-07-01 10:30" in page and "2024-07-03 09:05" in page
    assert "July" not in page and "7月" not in page
    assert "2024-07-02" in session_page  # a date field of the session's form
