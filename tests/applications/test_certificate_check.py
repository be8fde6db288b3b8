"""Economics, statistics or audit intermediate qualification holders need no work years: their own check, the
certificate to verify, instead of a "work years short" flag that reads as a failure."""

import datetime

import pytest
from django.utils import translation

from tests.applications.admin_helpers import CHANGELIST, application, staff_client

# Decisions on the 2024 session's applications while they still have effect (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("during_the_2024_session")]


def test_other_intermediate_gets_the_certificate_check_not_work_years_short(
    client, session_2024, urumqi, reviewer_urumqi
):
    with translation.override("zh-hans"):  # the public form's default language, whatever a test before left active
        app = application(
            session_2024,
            urumqi,
            qualification="other_intermediate",
            work_start_date=datetime.date(2024, 3, 1),
            claimed_insured_months=6,
        )
    assert (app.flag_work_years, app.flag_certificate) == (False, True)
    checks = {check["code"]: check for check in app.checks}
    assert checks["work_years"]["ok"] and checks["insured_months"]["ok"]
    assert not checks["certificate"]["ok"]
    assert checks["certificate"]["message"].startswith("待核验证书")  # stored as computed, in Chinese
    html = staff_client(client, reviewer_urumqi).get(CHANGELIST).content.decode()
    assert 'class="flag flag-amber" title="certificate to verify">certificate</span>' in html


def test_a_bachelor_has_no_certificate_check(session_2024, urumqi):
    app = application(session_2024, urumqi, qualification="bachelor")
    assert app.flag_certificate is False and "certificate" not in {check["code"] for check in app.checks}


def test_the_batch_approval_refusal_says_the_certificate_once(client, session_2024, urumqi, reviewer_urumqi):
    """Before: the two work-years checks (work start date, insured months) both failed with the same sentence, so
    the refusal listed it twice."""
    from tests.applications.admin_helpers import messages_of

    app = application(session_2024, urumqi, qualification="other_intermediate")
    app.record_verified_months(reviewer_urumqi, 100)
    client = staff_client(client, reviewer_urumqi)
    response = client.post(CHANGELIST, {"action": "approve_selected", "_selected_action": [app.pk]})
    (skipped,) = messages_of(response)
    line = skipped.split("<li>")[1]
    assert line.count("Certificate to verify") == 1, skipped
    assert "no work years needed" not in line
