"""What the public pages of the load benchmark ask of the database (docs/performance.md): the status lookup
reads one row with the three values it needs; the home page one row, and it sets no session."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from offices.workdays import BEIJING
from tests.factories import submit_application

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _inside_registration(time_machine):
    time_machine.move_to("2024-06-21T10:00:00+08:00")


@pytest.fixture
def application(session_2024, urumqi):
    return submit_application(session_2024, urumqi, now=datetime.datetime(2024, 6, 20, 9, tzinfo=BEIJING))


def test_the_lookup_reads_one_row_with_only_what_it_compares_and_redirects_with(client, application):
    data = {"reference": application.reference, "document_number": application.candidate.document_number}
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/en/applications/status/", data)
    assert response.status_code == 302
    assert response["Location"] == f"/en/applications/status/{application.status_token}/"
    (query,) = queries.captured_queries
    selected = query["sql"].split(" FROM ")[0]
    assert '"status_token"' in selected and '"document_number"' in selected
    assert '"email"' not in selected and '"name"' not in selected


def test_the_lookup_still_refuses_a_wrong_number_for_a_known_reference(client, application, session_2024, urumqi):
    other = submit_application(session_2024, urumqi)
    data = {"reference": application.reference, "document_number": other.candidate.document_number}
    response = client.post("/en/applications/status/", data)
    assert response.status_code == 200
    assert b"No application matches this reference and document number." in response.content
