"""Changelists count at most CappedCountPaginator.cap rows, and say "N+" when there are more."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.pagination import CappedCountPaginator
from tests.applications.admin_helpers import CHANGELIST, application, clone_applications, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def five(session_2024, urumqi):
    first = application(session_2024, urumqi)
    return [first, *clone_applications(first, 4)]


def test_the_count_stops_at_the_cap_and_says_so(client, five, reviewer_urumqi, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    client = staff_client(client, reviewer_urumqi)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(CHANGELIST).content.decode()
    assert "3+ applications" in html
    counts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert len(counts) == 1 and "LIMIT 4" in counts[0] and "JOIN" not in counts[0]

    monkeypatch.setattr(CappedCountPaginator, "cap", 10)
    html = client.get(CHANGELIST).content.decode()
    assert "5 applications" in html and "5+" not in html


def test_pages_up_to_the_cap_are_reachable(client, five, reviewer_urumqi, monkeypatch):
    from applications.admin import ApplicationAdmin

    monkeypatch.setattr(CappedCountPaginator, "cap", 4)
    monkeypatch.setattr(ApplicationAdmin, "list_per_page", 2)
    client = staff_client(client, reviewer_urumqi)
    response = client.get(CHANGELIST + "?p=2")
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 2
    assert "4+ applications" in response.content.decode()
    # Past the cap: the admin's own answer to a page that does not exist (back to the first page).
    assert client.get(CHANGELIST + "?p=3").status_code == 302
