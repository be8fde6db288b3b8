"""One rule for approval, whichever path: the single decision in the admin and the batch action give the same
answer for every (status, check state, role) combination, because both run the same transition
(applications/workflow.py) through the engine (core/transitions.py). A reviewer may override failing checks
for one application, with a reason the history keeps; a batch never overrides."""

import datetime
import itertools

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from applications.models import Application, Status
from applications.workflow import APPLICATIONS
from core.transitions import Act
from offices.models import Office, User
from tests.applications.admin_helpers import CHANGELIST, application, decide_url, messages_of, staff_client

# Decisions on the 2024 session's applications while they still have effect (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("during_the_2024_session")]

CHECK_STATES = ("green_verified", "green_unverified", "red_verified")
ROLES = ("reviewer_urumqi", "manager_urumqi", "regional_admin", "reviewer_kashgar", "viewer_urumqi")


@pytest.fixture
def users(staff):
    viewer = User.objects.create_staff("viewer_urumqi", office=Office.objects.get(code="650100"), role="reviewer")
    viewer.role = ""  # permissions come from the role: none left but viewing
    viewer.save()
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_application", content_type__app_label="applications")
    )
    return {**staff, "viewer_urumqi": viewer}


def in_state(session, office, status, check_state):
    """An application of Urumqi in `status` with the given checks (the state is set directly: the walk covers
    every status, including those only a sweep or a payment reaches)."""
    young = {"birth_date": datetime.date(1999, 1, 1)} if check_state == "red_verified" else {}
    app = application(session, office, identity_changes=young)
    verified = None if check_state == "green_unverified" else app.claimed_insured_months
    Application.objects.filter(pk=app.pk).update(status=status, verified_insured_months=verified)
    return Application.objects.get(pk=app.pk)


def approved_now(app):
    """Whether the path approved it: an approval in its history, and the status it leads to."""
    decided = app.events.filter(to_status=Status.APPROVED).exists()
    assert decided == (Application.objects.get(pk=app.pk).status == Status.APPROVED) or app.status == Status.APPROVED
    return decided


def single(user, app):
    client = staff_client(Client(), user)
    client.post(decide_url(app, "approve"), {"note": ""})
    return approved_now(app)


def batch(user, app):
    client = staff_client(Client(), user)
    client.post(CHANGELIST, {"action": "approve_selected", "_selected_action": [app.pk]})
    return approved_now(app)


def test_single_and_batch_approval_give_the_same_answer_everywhere(session_2024, urumqi, users):
    walked = 0
    for status, check_state, role in itertools.product(Status.values, CHECK_STATES, ROLES):
        user = users[role]
        by_single = single(user, in_state(session_2024, urumqi, status, check_state))
        by_batch = batch(user, in_state(session_2024, urumqi, status, check_state))
        expected = (
            status == Status.SUBMITTED
            and check_state == "green_verified"
            and role in ("reviewer_urumqi", "manager_urumqi", "regional_admin")
        )
        assert (by_single, by_batch) == (expected, expected), (status, check_state, role)
        walked += 1
    assert walked == len(Status.values) * len(CHECK_STATES) * len(ROLES)


@pytest.mark.parametrize("check_state", ["green_unverified", "red_verified"])
def test_a_reviewer_overrides_failing_checks_explicitly_with_a_recorded_reason(
    client, session_2024, urumqi, reviewer_urumqi, check_state
):
    app = in_state(session_2024, urumqi, Status.SUBMITTED, check_state)
    client = staff_client(client, reviewer_urumqi)
    page = client.get(decide_url(app, "approve")).content.decode()
    assert 'name="override"' in page  # the page asks for the reason instead of a silent click

    response = client.post(decide_url(app, "approve"), {"note": "", "override": ""})
    assert response.status_code == 200 and response.context["form"].errors["override"]
    assert Application.objects.get(pk=app.pk).status == Status.SUBMITTED

    response = client.post(decide_url(app, "approve"), {"note": "", "override": "PDF checked at the counter."})
    assert response.status_code == 302
    assert messages_of(response) == [f"{app.reference} approved; the candidate is told by email."]
    event = app.events.latest("pk")
    assert event.to_status == Status.APPROVED and event.by == reviewer_urumqi
    assert event.note.startswith("Failing checks overridden (")
    assert event.note.endswith("Reason: PDF checked at the counter.")
    history = client.get(f"{CHANGELIST}{app.pk}/change/").content.decode()
    assert "Reason: PDF checked at the counter." in history


def test_a_batch_never_overrides(session_2024, urumqi, reviewer_urumqi):
    red = in_state(session_2024, urumqi, Status.SUBMITTED, "red_verified")
    act = Act(by=reviewer_urumqi, batch=True, override="a reason a batch must ignore")
    outcome = APPLICATIONS.run("approve", Application.objects.filter(pk=red.pk), act)
    assert outcome.done == [] and [record.pk for record, _message in outcome.refused] == [red.pk]
    assert Application.objects.get(pk=red.pk).status == Status.SUBMITTED


def test_green_applications_show_no_override_field(client, session_2024, urumqi, reviewer_urumqi):
    app = in_state(session_2024, urumqi, Status.SUBMITTED, "green_verified")
    page = staff_client(client, reviewer_urumqi).get(decide_url(app, "approve")).content.decode()
    assert 'name="override"' not in page


def test_offering_asks_the_database_nothing_for_a_status_the_table_refuses(
    session_2024, urumqi, reviewer_urumqi, django_assert_num_queries
):
    # The change view asks `offers` for every decision; a refused status must not cost a query for its message.
    app = in_state(session_2024, urumqi, Status.SUBMITTED, "green_verified")
    app.approve(reviewer_urumqi)
    assert APPLICATIONS.permitted("approve", reviewer_urumqi)  # permissions cached on the user
    with django_assert_num_queries(0):
        assert not APPLICATIONS.offers("approve", app, reviewer_urumqi)
        assert not APPLICATIONS.offers("return", app, reviewer_urumqi)
    # Asked for the reason, the engine still says who decided and when.
    assert "reviewer_urumqi" in APPLICATIONS.refusal("approve", app, Act())
