"""The audit log (django-auditlog): who, when, from which address, before and after, masked; read-only in the
admin; regional staff see every entry, the others those of their office's objects."""

import json

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import update_last_login
from django.contrib.contenttypes.models import ContentType

from applications import sweeps
from applications.models import ExamSession, Status
from core import id_numbers
from offices.models import Office
from portal.audit import entries_for
from tests.applications.admin_helpers import application, at, decide_url, months_verified, staff_client
from tests.conftest import PASSWORD
from tests.factories import approve, resident_id

# Decisions on the 2024 session's applications while they still have effect (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("during_the_2024_session")]

AUDIT = "/admin/auditlog/logentry/"
SESSION_DATES = (
    "registration_opens",
    "registration_closes",
    "payment_closes",
    "exam_first_day",
    "exam_last_day",
    "admit_card_from",
    "admit_card_to",
)


def entries_of(obj, action=None):
    entries = LogEntry.objects.get_for_object(obj)
    return entries if action is None else entries.filter(action=action)


@pytest.fixture
def two_offices(session_2024, urumqi, kashgar, reviewer_urumqi, reviewer_kashgar):
    ours = application(session_2024, urumqi)
    theirs = application(session_2024, kashgar)
    approve(ours, reviewer_urumqi)
    approve(theirs, reviewer_kashgar)
    return ours, theirs


# What an entry holds ------------------------------------------------------------------------------------------


def test_a_decision_writes_who_when_the_forwarded_client_address_and_before_after(
    client, settings, session_2024, urumqi, reviewer_urumqi
):
    settings.PORTAL_PROXY_COUNT = 1
    app = months_verified(application(session_2024, urumqi))
    client = staff_client(client, reviewer_urumqi)

    response = client.post(
        decide_url(app, "approve"),
        {"note": "ok"},
        REMOTE_ADDR="10.0.0.2",  # the reverse proxy
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7",  # the client wrote the first, the proxy appended the second
        HTTP_X_FORWARDED_PORT="4444",
    )

    assert response.status_code == 302
    entry = entries_of(app, LogEntry.Action.UPDATE).get()
    assert entry.actor == reviewer_urumqi
    assert entry.remote_addr == "203.0.113.7"
    assert entry.remote_port is None
    assert entry.changes["status"] == ["submitted", "approved"]
    assert entry.changes["decided_by"] == ["None", str(reviewer_urumqi.pk)]
    assert entry.object_repr == app.reference
    assert app.candidate.document_number not in json.dumps(entry.changes)
    # Secrets never go into an entry.
    created = entries_of(app, LogEntry.Action.CREATE).get()
    assert not {"status_token", "submission_key"} & set(created.changes)


def test_without_a_proxy_the_forwarded_header_is_ignored(client, session_2024, urumqi, reviewer_urumqi):
    app = months_verified(application(session_2024, urumqi))
    staff_client(client, reviewer_urumqi).post(
        decide_url(app, "approve"), {"note": ""}, REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="6.6.6.6"
    )
    assert entries_of(app, LogEntry.Action.UPDATE).get().remote_addr == "192.0.2.10"


def test_a_malformed_forwarded_address_is_ignored_and_the_decision_stands(
    client, settings, session_2024, urumqi, reviewer_urumqi
):
    settings.PORTAL_PROXY_COUNT = 1
    app = months_verified(application(session_2024, urumqi))
    staff_client(client, reviewer_urumqi).post(
        decide_url(app, "approve"), {"note": ""}, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address"
    )
    app.refresh_from_db()
    assert app.status == Status.APPROVED
    # As for the lockout and the rate limits (core.clientip): an entry that does not parse is absent.
    assert entries_of(app, LogEntry.Action.UPDATE).get().remote_addr == "10.0.0.2"


def test_an_address_that_is_not_one_is_left_out_and_the_decision_stands(client, session_2024, urumqi, reviewer_urumqi):
    app = months_verified(application(session_2024, urumqi))
    staff_client(client, reviewer_urumqi).post(decide_url(app, "approve"), {"note": ""}, REMOTE_ADDR="")
    app.refresh_from_db()
    assert app.status == Status.APPROVED
    assert entries_of(app, LogEntry.Action.UPDATE).get().remote_addr is None


def test_document_numbers_are_masked_before_and_after(session_2024, urumqi):
    old, new = resident_id(), resident_id()
    app = application(session_2024, urumqi, identity_changes={"document_number": old})
    candidate = app.candidate
    created = entries_of(candidate, LogEntry.Action.CREATE).get()
    assert created.changes["document_number"] == ["None", id_numbers.mask("", old)]

    candidate.document_number = new
    candidate.save()

    entry = entries_of(candidate, LogEntry.Action.UPDATE).get()
    # The portal's mask (first 6 and last 4 kept), not auditlog's default (which keeps the second half).
    assert entry.changes["document_number"] == [id_numbers.mask("", old), id_numbers.mask("", new)]
    assert old not in json.dumps(entry.changes) and new not in json.dumps(entry.changes)


def test_staff_changes_are_audited_without_passwords_or_logins(regional_admin, reviewer_urumqi):
    reviewer_urumqi.set_password("another-long-password")
    reviewer_urumqi.email = "reviewer@example.com"
    reviewer_urumqi.save()
    entry = entries_of(reviewer_urumqi, LogEntry.Action.UPDATE).get()
    assert set(entry.changes) == {"email"}

    update_last_login(None, regional_admin)  # what every login does
    assert not entries_of(regional_admin, LogEntry.Action.UPDATE).exists()


def test_sessions_and_offices_are_audited(session_2024, urumqi):
    session_2024.review_sla_workdays = 3
    session_2024.save()
    urumqi.phone = "0991-1234567"
    urumqi.save()
    assert entries_of(session_2024, LogEntry.Action.UPDATE).get().changes["review_sla_workdays"] == ["2", "3"]
    assert entries_of(urumqi, LogEntry.Action.UPDATE).exists()


def test_bulk_sweeps_write_an_entry_per_row(session_2024, urumqi, reviewer_urumqi):
    apps = [application(session_2024, urumqi) for _ in range(3)]
    for app in apps:
        approve(app, reviewer_urumqi)

    sweeps.lapse_unpaid_applications(at(2024, 7, 2, 18))

    for app in apps:
        entry = entries_of(app, LogEntry.Action.UPDATE).latest("pk")
        assert entry.changes == {"status": ["approved", "lapsed"]}
        assert (entry.actor, entry.object_repr) == (None, app.reference)
        assert entry.additional_data["reason"]


def test_session_actions_written_with_update_are_audited_with_their_actor(client, regional_admin, session_2024):
    new = ExamSession.objects.create(
        **{field: getattr(session_2024, field) for field in SESSION_DATES}, year=2025, review_sla_workdays=2
    )
    client = staff_client(client, regional_admin)
    changelist = "/admin/applications/examsession/"
    for action in ("make_current", "mark_payments_final"):
        response = client.post(changelist, {"action": action, "_selected_action": [new.pk]}, REMOTE_ADDR="192.0.2.7")
        assert response.status_code == 302, action

    made_current = entries_of(new, LogEntry.Action.UPDATE).filter(changes__has_key="is_current").get()
    assert made_current.changes["is_current"] == ["False", "True"]
    assert (made_current.actor, made_current.remote_addr) == (regional_admin, "192.0.2.7")
    assert entries_of(session_2024, LogEntry.Action.UPDATE).get().changes["is_current"] == ["True", "False"]
    final = entries_of(new, LogEntry.Action.UPDATE).filter(changes__has_key="payments_final_at").get()
    assert final.changes["payments_final_at"][0] == "None" and final.actor == regional_admin


# Who sees which entries -----------------------------------------------------------------------------------------


def test_reviewer_urumqi_cannot_see_kashgar_entries(client, reviewer_urumqi, two_offices):
    ours, theirs = two_offices
    client = staff_client(client, reviewer_urumqi)

    html = client.get(AUDIT).content.decode()

    assert ours.reference in html
    assert theirs.reference not in html
    theirs_entry = entries_of(theirs).first()
    response = client.get(f"{AUDIT}{theirs_entry.pk}/change/")
    assert response.status_code in (302, 404)
    assert theirs.reference not in response.content.decode()
    assert client.get(f"{AUDIT}{entries_of(ours).first().pk}/change/").status_code == 200


def test_scoping_covers_candidates_requests_and_regional_only_objects(
    reviewer_urumqi, reviewer_kashgar, regional_admin, two_offices, session_2024, urumqi
):
    ours, theirs = two_offices
    session_2024.review_sla_workdays = 3
    session_2024.save()
    urumqi.phone = "0991-1234567"
    urumqi.save()
    visible = entries_for(reviewer_urumqi)
    keys = set(visible.values_list("content_type__model", "object_id"))

    assert ("application", ours.pk) in keys and ("candidate", ours.candidate_id) in keys
    assert ("application", theirs.pk) not in keys and ("candidate", theirs.candidate_id) not in keys
    for model in (ExamSession, Office):
        assert not visible.filter(content_type=ContentType.objects.get_for_model(model)).exists()
    assert not entries_for(reviewer_urumqi).filter(content_type__model="user").exists()
    assert entries_for(regional_admin).count() == LogEntry.objects.count()
    kashgar_keys = set(entries_for(reviewer_kashgar).values_list("content_type__model", "object_id"))
    assert ("application", theirs.pk) in kashgar_keys


def test_requests_and_their_details_are_scoped(reviewer_urumqi, reviewer_kashgar, urumqi, kashgar):
    from tickets.models import Kind

    from .conftest import open_ticket

    ours = open_ticket(Kind.CERT_DELETION, urumqi, {"statement": "lost email"})
    theirs = open_ticket(Kind.CERT_DELETION, kashgar, {"statement": "lost email"})
    visible = set(entries_for(reviewer_urumqi).values_list("content_type__model", "object_id"))
    assert {("ticket", ours.pk), ("certificationdeletion", ours.pk)} <= visible
    assert not {("ticket", theirs.pk), ("certificationdeletion", theirs.pk)} & visible


def test_regional_staff_see_every_office(client, regional_admin, two_offices):
    html = staff_client(client, regional_admin).get(AUDIT).content.decode()
    for app in two_offices:
        assert app.reference in html


# Read-only --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["regional_admin", "superuser"])
def test_nobody_can_add_change_or_delete_entries(client, staff, two_offices, who, django_user_model):
    user = (
        django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
        if who == "superuser"
        else staff[who]
    )
    client = staff_client(client, user)
    entry = LogEntry.objects.first()
    count = LogEntry.objects.count()

    assert client.get(f"{AUDIT}add/").status_code == 403
    assert client.post(f"{AUDIT}add/", {"object_repr": "forged", "action": 0}).status_code == 403
    change = client.post(f"{AUDIT}{entry.pk}/change/", {"object_repr": "forged"})
    assert change.status_code in (302, 403)
    assert client.get(f"{AUDIT}{entry.pk}/delete/").status_code == 403
    assert client.post(f"{AUDIT}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = client.post(AUDIT, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    assert bulk.status_code in (200, 302)
    entry.refresh_from_db()
    assert entry.object_repr != "forged"
    assert LogEntry.objects.count() == count
    assert client.get(f"{AUDIT}{entry.pk}/change/").status_code == 200  # reading is allowed


def test_staff_without_the_permission_see_no_audit_log(client, reviewer_urumqi, two_offices, django_user_model):
    outsider = django_user_model.objects.create_user("clerk", password=PASSWORD, is_staff=True)
    assert staff_client(client, outsider).get(AUDIT).status_code == 403
