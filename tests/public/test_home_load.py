"""The home page for an anonymous visitor: one query (the current session), no session row or cookie."""

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def test_an_anonymous_home_page_reads_the_current_session_only_and_starts_no_session(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/zh-hans/")
    assert response.status_code == 200
    assert len(queries) == 1 and "applications_examsession" in queries[0]["sql"]
    assert "sessionid" not in response.cookies
    assert not Session.objects.exists()
