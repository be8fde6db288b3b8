"""Decisions in the admin: single decision forms, batch approve/reject, and two reviewers at once."""

import datetime
import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from applications.models import Application, ApplicationEvent, Status
from notifications.models import OutboxMessage
from tests.applications.admin_helpers import (
    CHANGELIST,
    application,
    at,
    change_url,
    clone_applications,
    decide_url,
    messages_of,
    staff_client,
)
from tests.factories import approve

# Decisions on the 2024 session's applications while they still have effect (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("during_the_2024_session")]


def decision_email(app):
    """The email queued for the application's latest history entry."""
    event = ApplicationEvent.objects.filter(application=app).latest("pk")
    return OutboxMessage.objects.filter(dedup_key=f"application:{app.pk}:event:{event.pk}").first()


def test_change_view_shows_checks_history_and_decision_buttons(client, session_2024, urumqi, reviewer_urumqi):
    app = application(session_2024, urumqi, identity_changes={"birth_date": datetime.date(1998, 7, 3)})
    app.return_for_correction(reviewer_urumqi, "Upload the whole PDF.", now=at(2024, 6, 20, 10))
    app.update_by_candidate({"claimed_insured_months": 130}, {}, now=at(2024, 6, 20, 11))
    html = staff_client(client, reviewer_urumqi).get(change_url(app)).content.decode()
    # Checks computed now, in the staff member's language, with their state in words.
    assert '<li class="check-failed"><strong>Check</strong> Born 1998-07-03, after 1998-07-02' in html
    assert '<li class="check-ok"><strong>OK</strong> Bachelor&#x27;s degree' in html
    # The full history, read-only: who, when, from, to, note.
    history = re.sub(r"\s+", " ", html.split('id="events-group"')[1])
    assert history.count('<tr class="form-row has_original"') == 3
    assert re.search(r'<td class="field-by"> <p>(<a [^>]*>)?reviewer_urumqi(</a>)?</p> </td>', history)
    assert '<td class="field-to_status"> <p>Returned for correction</p> </td>' in history
    # (The reviewer has no permission for full numbers: notes are shown through the masking column.)
    assert '<td class="field-masked_note"> <p>Upload the whole PDF.</p> </td>' in history
    assert '<td class="field-from_status"> <p>Returned for correction</p> </td>' in history
    assert 'name="events-0-note"' not in history  # nothing editable
    # Decisions open for a submitted application.
    for slug in ("verified-months", "approve", "reject", "return"):
        assert f'href="{decide_url(app, slug)}"' in html
    assert decide_url(app, "in-person-done") not in html


def test_approve_writes_history_and_queues_the_email(client, session_2024, urumqi, reviewer_urumqi):
    app = application(session_2024, urumqi, language="en")
    Application.objects.filter(pk=app.pk).update(verified_insured_months=120)  # the PDF was checked
    client = staff_client(client, reviewer_urumqi)
    assert client.get(decide_url(app, "approve")).status_code == 200
    response = client.post(decide_url(app, "approve"), {"note": "All proofs seen."})
    assert response.status_code == 302 and response["Location"] == change_url(app)
    assert messages_of(response) == [f"{app.reference} approved; the candidate is told by email."]
    app.refresh_from_db()
    assert (app.status, app.decided_by) == (Status.APPROVED, reviewer_urumqi)
    event = app.events.latest("pk")
    assert (event.by, event.from_status, event.to_status, event.note) == (
        reviewer_urumqi,
        Status.SUBMITTED,
        Status.APPROVED,
        "All proofs seen.",
    )
    assert decision_email(app).language == "en"


def test_reject_needs_a_reason(client, session_2024, urumqi, reviewer_urumqi):
    app = application(session_2024, urumqi)
    client = staff_client(client, reviewer_urumqi)
    response = client.post(decide_url(app, "reject"), {"reason": "", "note": "no"})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    response = client.post(decide_url(app, "reject"), {"reason": "other", "note": " "})
    assert response.context["form"].errors["note"] == ["Say why the application is rejected."]
    assert Application.objects.get(pk=app.pk).status == Status.SUBMITTED
    assert app.events.count() == 1

    response = client.post(decide_url(app, "reject"), {"reason": "work_years", "note": "3 years on the PDF."})
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.status, app.rejection_reason, app.message_to_candidate) == (
        Status.REJECTED,
        "work_years",
        "3 years on the PDF.",
    )
    assert app.events.latest("pk").to_status == Status.REJECTED
    assert decision_email(app) is not None


def test_return_for_correction_needs_what_to_fix(client, session_2024, urumqi, reviewer_urumqi):
    app = application(session_2024, urumqi)
    client = staff_client(client, reviewer_urumqi)
    response = client.post(decide_url(app, "return"), {"note": "   "})
    assert response.status_code == 200
    assert response.context["form"].errors["note"]
    assert Application.objects.get(pk=app.pk).status == Status.SUBMITTED

    response = client.post(decide_url(app, "return"), {"note": "The PDF misses 2019."})
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.status, app.message_to_candidate) == (Status.RETURNED, "The PDF misses 2019.")
    assert decision_email(app) is not None


def test_record_verified_months(client, session_2024, urumqi, reviewer_urumqi):
    app = application(session_2024, urumqi, claimed_insured_months=20)
    assert app.flag_work_years
    client = staff_client(client, reviewer_urumqi)
    assert client.post(decide_url(app, "verified-months"), {"months": "-1"}).status_code == 200
    response = client.post(decide_url(app, "verified-months"), {"months": "50"})
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.verified_insured_months, app.status, app.flag_work_years) == (50, Status.SUBMITTED, False)
    event = app.events.latest("pk")
    assert (event.by, event.note) == (reviewer_urumqi, "Verified social-insurance months: 50")


def test_in_person_review_done(client, session_2024, urumqi, reviewer_urumqi):
    app = application(
        session_2024,
        urumqi,
        identity_changes={"document_type": "passport", "document_number": "E12345678", "nationality": "Kazakhstan"},
    )
    assert app.status == Status.IN_PERSON_REVIEW
    client = staff_client(client, reviewer_urumqi)
    assert decide_url(app, "in-person-done") in client.get(change_url(app)).content.decode()
    response = client.post(decide_url(app, "in-person-done"), {"note": "Passport seen."})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED
    event = app.events.latest("pk")
    assert (event.by, event.from_status, event.to_status) == (reviewer_urumqi, Status.IN_PERSON_REVIEW, "submitted")


def test_in_person_done_refused_for_a_returned_application(client, session_2024, urumqi, reviewer_urumqi):
    app = application(session_2024, urumqi)
    app.return_for_correction(reviewer_urumqi, "fix")
    response = staff_client(client, reviewer_urumqi).post(decide_url(app, "in-person-done"), {"note": ""})
    assert response.status_code == 302
    assert "cannot become" in messages_of(response)[0]
    assert Application.objects.get(pk=app.pk).status == Status.RETURNED


def test_a_decision_the_status_no_longer_allows_is_a_clear_error(client, session_2024, urumqi, staff):
    app = application(session_2024, urumqi)
    approve(app, staff["manager_urumqi"])
    events = app.events.count()
    client = staff_client(client, staff["reviewer_urumqi"])
    response = client.post(decide_url(app, "reject"), {"reason": "other", "note": "late"})
    assert response.status_code == 302
    [message] = messages_of(response)
    assert message.startswith(f"{app.reference} is already “Approved, waiting for payment” (manager_urumqi, ")
    assert app.events.count() == events
    # Opening the form of an impossible decision says so at once.
    response = client.get(decide_url(app, "return"))
    assert response.status_code == 302 and "cannot become" in messages_of(response)[0]
    app.mark_paid(app.session.payment_closes, "P-1")
    response = client.post(decide_url(app, "verified-months"), {"months": "48"})
    assert messages_of(response)[-1] == f"{app.reference} is “Paid”: verified months can no longer be recorded."
    assert Application.objects.get(pk=app.pk).verified_insured_months == app.claimed_insured_months


def test_a_reviewer_without_the_review_permission_cannot_decide(client, session_2024, urumqi, reviewer_urumqi):
    from django.contrib.auth.models import Permission

    app = application(session_2024, urumqi)
    reviewer_urumqi.role = ""  # permissions come from the role: none left
    reviewer_urumqi.save()
    reviewer_urumqi.user_permissions.add(
        Permission.objects.get(codename="view_application", content_type__app_label="applications")
    )
    client = staff_client(client, reviewer_urumqi)
    assert client.get(change_url(app)).status_code == 200
    assert client.post(decide_url(app, "approve"), {"note": ""}).status_code == 403
    assert Application.objects.get(pk=app.pk).status == Status.SUBMITTED


# Batch decisions -----------------------------------------------------------------------------------------


def test_batch_approve_only_verified_and_green_and_says_why_not(client, session_2024, urumqi, reviewer_urumqi):
    ready = application(session_2024, urumqi)
    ready.record_verified_months(reviewer_urumqi, 100)
    unverified = application(session_2024, urumqi)
    young = application(session_2024, urumqi, identity_changes={"birth_date": datetime.date(1999, 1, 1)})
    young.record_verified_months(reviewer_urumqi, 100)
    returned = application(session_2024, urumqi)
    returned.return_for_correction(reviewer_urumqi, "fix")
    selected = [ready.pk, unverified.pk, young.pk, returned.pk]
    emails = OutboxMessage.objects.count()

    response = staff_client(client, reviewer_urumqi).post(
        CHANGELIST, {"action": "approve_selected", "_selected_action": selected}
    )
    assert response.status_code == 302
    done, skipped = messages_of(response)
    assert done == "1 application approved."
    assert "3 applications skipped:" in skipped
    assert f"<li>{unverified.reference}: verified social-insurance months not recorded</li>" in skipped
    assert f"<li>{young.reference}: checks not green: Born 1999-01-01, after 1998-07-02" in skipped
    assert f"<li>{returned.reference} is already “Returned for correction” (reviewer_urumqi, " in skipped

    statuses = dict(Application.objects.filter(pk__in=selected).values_list("pk", "status"))
    assert statuses == {
        ready.pk: Status.APPROVED,
        unverified.pk: Status.SUBMITTED,
        young.pk: Status.SUBMITTED,
        returned.pk: Status.RETURNED,
    }
    assert ready.events.filter(to_status=Status.APPROVED, by=reviewer_urumqi).count() == 1
    assert OutboxMessage.objects.count() == emails + 1
    assert decision_email(ready) is not None


def test_batch_approve_is_bulk_and_leaves_the_same_trail(client, session_2024, urumqi, reviewer_urumqi):
    """Approving 3 or 30 costs the same queries; each approved one still gets its history entry, email, audit
    entry (with the reviewer) and admin log entry, and duplicates inside the selection are seen."""
    from auditlog.models import LogEntry as AuditEntry
    from django.contrib.admin.models import LogEntry as AdminEntry

    template = application(session_2024, urumqi)
    template.record_verified_months(reviewer_urumqi, 100)
    few = [template, *clone_applications(template, 2)]
    many = clone_applications(template, 30)
    twin = application(session_2024, urumqi)  # a second application of the first one's candidate
    Application.objects.filter(pk=twin.pk).update(candidate=many[0].candidate, verified_insured_months=100)
    client = staff_client(client, reviewer_urumqi)

    def approve(apps):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(CHANGELIST, {"action": "approve_selected", "_selected_action": [a.pk for a in apps]})
        assert response.status_code == 302
        return len(queries), messages_of(response)

    few_queries, reported = approve(few)
    assert reported == ["3 applications approved."]
    many_queries, reported = approve([*many, twin])
    done, skipped = reported[-2:]  # the first request's message was never shown: it is still stored
    assert done == "29 applications approved."
    assert "2 applications skipped:" in skipped
    assert (
        f"<li>{twin.reference}: checks not green: Another application in this session: {many[0].reference}" in skipped
    )
    assert many_queries == few_queries

    approved = [*few, *many[1:]]
    assert Application.objects.filter(status=Status.APPROVED).count() == len(approved)
    for app in approved:
        event = ApplicationEvent.objects.get(application=app, to_status=Status.APPROVED)
        assert (event.by, event.actor, event.from_status) == (reviewer_urumqi, "staff", Status.SUBMITTED)
        assert decision_email(app).recipient == app.email
        assert AdminEntry.objects.filter(object_id=str(app.pk), user=reviewer_urumqi).count() == 1
        entry = AuditEntry.objects.filter(object_pk=str(app.pk), changes__status=["submitted", "approved"]).get()
        assert entry.actor == reviewer_urumqi
    decided = Application.objects.get(pk=many[1].pk)
    assert decided.decided_by == reviewer_urumqi and decided.decided_at is not None


def test_batch_reject_asks_for_the_reason_first(client, session_2024, urumqi, reviewer_urumqi):
    first = application(session_2024, urumqi)
    second = application(session_2024, urumqi)
    paid = application(session_2024, urumqi)
    approve(paid, reviewer_urumqi)
    paid.mark_paid(paid.session.payment_closes, "P-1")
    selected = {"action": "reject_selected", "_selected_action": [first.pk, second.pk, paid.pk]}
    client = staff_client(client, reviewer_urumqi)

    response = client.post(CHANGELIST, selected)  # the confirmation page, nothing decided yet
    assert response.status_code == 200
    assert "admin/applications/application/reject_selected_confirmation.html" in [t.name for t in response.templates]
    assert first.reference in response.content.decode()
    assert Application.objects.filter(status=Status.REJECTED).count() == 0

    response = client.post(CHANGELIST, {**selected, "post": "yes", "reason": "", "note": ""})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    assert Application.objects.filter(status=Status.REJECTED).count() == 0

    response = client.post(CHANGELIST, {**selected, "post": "yes", "reason": "duplicate", "note": "Applied twice."})
    assert response.status_code == 302
    done, skipped = messages_of(response)
    assert done == "2 applications rejected."
    assert f"<li>{paid.reference} is paid: nothing can change after payment (FAQ 14).</li>" in skipped
    for app in (first, second):
        app.refresh_from_db()
        assert (app.status, app.rejection_reason) == (Status.REJECTED, "duplicate")
        assert app.events.latest("pk").by == reviewer_urumqi
        assert decision_email(app) is not None
    assert Application.objects.get(pk=paid.pk).status == Status.PAID


# Two reviewers at the same moment -------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_deciding_at_once_one_wins_the_other_is_told(session_2024, urumqi, staff):
    app = application(session_2024, urumqi)
    Application.objects.filter(pk=app.pk).update(verified_insured_months=120)  # the PDF was checked
    barrier = threading.Barrier(2)
    outcomes = {}

    def decide(username, slug, data):
        try:
            client = Client()
            client.force_login(staff[username])
            client.cookies["django_language"] = "en"
            barrier.wait(timeout=10)
            response = client.post(decide_url(app, slug), data)
            outcomes[username] = (response.status_code, messages_of(response))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=("reviewer_urumqi", "approve", {"note": ""})),
        threading.Thread(target=decide, args=("manager_urumqi", "reject", {"reason": "other", "note": "no"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    app.refresh_from_db()
    decisions = ApplicationEvent.objects.filter(application=app, to_status__in=[Status.APPROVED, Status.REJECTED])
    assert decisions.count() == 1
    winner = decisions.get().by.username
    loser = ({"reviewer_urumqi", "manager_urumqi"} - {winner}).pop()
    assert app.status == {"reviewer_urumqi": Status.APPROVED, "manager_urumqi": Status.REJECTED}[winner]
    assert outcomes[winner][0] == outcomes[loser][0] == 302
    [message] = outcomes[loser][1]
    with translation.override("en"):  # the clients' language, whatever an earlier test left active here
        assert message.startswith(f"{app.reference} is already “{app.get_status_display()}” ({winner}, ")
    assert OutboxMessage.objects.filter(dedup_key__startswith=f"application:{app.pk}:event:").count() == 1
