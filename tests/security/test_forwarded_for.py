"""A malformed X-Forwarded-For behind the trusted proxy: the address is treated as absent (REMOTE_ADDR is used),
the operator is told once in the log, and no page answers 500: the status lookups, the public forms (rate
limits per address) and the staff login (django-axes writes the address into an inet column on PostgreSQL)."""

import logging

import pytest
from axes.models import AccessAttempt
from django.test import Client

from core import clientip
from core.clientip import client_ip
from core.references import new_reference
from tests.security.login_helpers import logged_in, post_login

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"
MALFORMED = ["999.1.1.1", "10.0.0.7, not-an-ip", "198.51.100.7:4711", "fe80::1%eth0", "unknown"]


@pytest.fixture(autouse=True)
def _behind_one_proxy(settings, monkeypatch):
    settings.PORTAL_PROXY_COUNT = 1
    monkeypatch.setattr(clientip, "_malformed_logged", False)  # each test sees the first warning again


@pytest.mark.parametrize("forwarded", MALFORMED)
def test_a_malformed_entry_in_the_trusted_position_falls_back_to_the_socket_address(rf, forwarded):
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=PROXY)
    assert client_ip(request) == PROXY


def test_a_well_formed_entry_is_used_in_its_canonical_form(rf):
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 2001:DB8:0:0::7", REMOTE_ADDR=PROXY)
    assert client_ip(request) == "2001:db8::7"


def test_a_malformed_entry_is_logged_once_not_once_per_request(rf, caplog):
    with caplog.at_level(logging.WARNING, logger="core.clientip"):
        for forwarded in MALFORMED * 20:
            client_ip(rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=PROXY))
    warnings = [record for record in caplog.records if record.name == "core.clientip"]
    assert len(warnings) == 1
    assert "999.1.1.1" in warnings[0].getMessage()


@pytest.mark.parametrize("forwarded", MALFORMED[:2])
@pytest.mark.parametrize("url", ["/en/applications/status/", "/en/requests/status/"])
def test_the_status_lookups_answer(client, url, forwarded):
    data = {"reference": new_reference(url.split("/")[2][0].upper()), "document_number": "E1234567"}
    response = client.post(url, data, HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=PROXY)
    assert response.status_code == 200


@pytest.mark.parametrize("forwarded", MALFORMED[:2])
@pytest.mark.parametrize("url", ["/en/applications/apply/", "/en/requests/password-reset/new/"])
def test_the_public_forms_answer(client, session_2024, url, forwarded):
    response = client.post(url, {"name": "x"}, HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=PROXY)
    assert response.status_code in (200, 302)


def test_the_rate_limit_then_counts_the_proxy_address(client, settings):
    settings.PORTAL_RATE_LOOKUP = "2/m"
    data = {"reference": new_reference("A"), "document_number": "E1234567"}
    for forwarded in MALFORMED[:2]:
        assert client.post("/en/applications/status/", data, HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=PROXY)
    response = client.post("/en/applications/status/", data, HTTP_X_FORWARDED_FOR="bad", REMOTE_ADDR=PROXY)
    assert response.status_code == 429


@pytest.mark.parametrize("forwarded", MALFORMED[:2])
def test_the_staff_login_answers_and_counts_failures_under_the_proxy_address(reviewer_urumqi, forwarded):
    wrong = post_login(Client(), "reviewer_urumqi", "wrong-password", address=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    assert wrong.status_code == 200  # the form again, with its error
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {PROXY}
    assert logged_in(post_login(Client(), "reviewer_urumqi", address=PROXY, HTTP_X_FORWARDED_FOR=forwarded))
