"""Deadlines warn before they pass (issue 12): the office is warned before a review is due, candidates whose
application was still undecided at payment close are told once, and what can no longer have effect after a
deadline is not offered.

Time is the sweeps' `now`; the 2024 session (FAQ 1): registration closes 2024-07-02 12:00, payment 18:00.
"""

import pytest

from applications import sweeps
from applications.models import Application, ApplicationEvent, Status
from applications.workflow import APPLICATIONS
from core.transitions import Act, Refused
from notifications.models import OutboxMessage
from tests.applications.test_sweeps import (
    DAY,
    HOUR,
    PAYMENT_CLOSE,
    REGISTRATION_CLOSE,
    at,
    give_emails,
    keys,
    submitted,
)
from tests.factories import approve

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def warning_emails():
    return list(OutboxMessage.objects.filter(dedup_key__startswith="due-warning:").order_by("recipient"))


def warned(application):
    return Application.objects.values_list("due_warned_for", "due_warned_at").get(pk=application.pk)


# Warnings before the due time ----------------------------------------------------------------------------------


def test_the_office_is_warned_from_the_start_of_the_due_day_once_per_due_time(session_2024, urumqi, kashgar, staff):
    give_emails(*staff.values())
    first = submitted(session_2024, urumqi)  # Thursday 06-20 09:00: due Monday 06-24 23:59:59
    second = submitted(session_2024, urumqi, now=at(2024, 6, 20, 10))
    in_kashgar = submitted(session_2024, kashgar)

    # Sunday: the due day's working day has not begun.
    assert sweeps.warn_applications_due_soon(at(2024, 6, 23, 20)) == (
        "0 applications due soon warned about, 0 emails queued"
    )
    # Monday 00:10: one email per reviewer and manager of each office, listing its applications.
    monday = at(2024, 6, 24, 0, 10)
    summary = sweeps.warn_applications_due_soon(monday)

    assert summary == "3 applications due soon warned about, 3 emails queued"
    emails = warning_emails()
    assert [email.recipient for email in emails] == [
        "manager_urumqi@example.com",
        "reviewer_kashgar@example.com",
        "reviewer_urumqi@example.com",
    ]
    urumqi_email = next(email for email in emails if email.recipient == "reviewer_urumqi@example.com")
    assert urumqi_email.office_id == "650100"
    assert urumqi_email.context["subject"].startswith(f"即将到期：{urumqi.name_zh} 2 项")
    body = urumqi_email.context["body"]
    assert first.reference in body and second.reference in body and in_kashgar.reference not in body
    assert "期限：2024-06-24 23:59" in body
    assert warned(first) == (first.due_at, monday)
    note = ApplicationEvent.objects.filter(application=first, actor="system").values_list("note", flat=True).get()
    assert "2024-06-24 23:59" in note and "manager_urumqi" in note and "reviewer_urumqi" in note

    # Once per due time: later runs the same day change nothing.
    assert sweeps.warn_applications_due_soon(monday + 3 * HOUR).startswith("0 applications")
    assert len(warning_emails()) == 3

    # A moved due time (a reschedule) is warned about again when its day comes, not before.
    Application.objects.filter(pk=first.pk).update(due_at=at(2024, 6, 25, 23, 59, 59))
    assert sweeps.warn_applications_due_soon(monday + 4 * HOUR).startswith("0 applications")
    assert sweeps.warn_applications_due_soon(at(2024, 6, 25, 8)) == (
        "1 applications due soon warned about, 2 emails queued"
    )


def test_a_due_time_capped_at_payment_close_is_warned_again_three_hours_before(session_2024, urumqi, staff):
    give_emails(*staff.values())
    # Monday 07-01: two working days would be 07-03, capped at payment close 07-02 18:00.
    application = submitted(session_2024, urumqi, now=at(2024, 7, 1, 9))
    assert application.due_at == PAYMENT_CLOSE

    assert sweeps.warn_applications_due_soon(at(2024, 7, 2, 0, 5)).startswith("1 applications")
    assert sweeps.warn_applications_due_soon(at(2024, 7, 2, 14, 59)).startswith("0 applications")
    assert sweeps.warn_applications_due_soon(at(2024, 7, 2, 15)).startswith("1 applications")
    assert sweeps.warn_applications_due_soon(at(2024, 7, 2, 16)).startswith("0 applications")
    assert len(warning_emails()) == 4  # reviewer and manager, twice
    # Never after the due time: then it is overdue, and escalation takes over.
    Application.objects.filter(pk=application.pk).update(due_warned_for=None, due_warned_at=None)
    assert sweeps.warn_applications_due_soon(PAYMENT_CLOSE + HOUR).startswith("0 applications")


def test_decided_applications_are_not_warned_about(session_2024, urumqi, staff):
    give_emails(*staff.values())
    application = submitted(session_2024, urumqi)
    approve(application, staff["reviewer_urumqi"], now=at(2024, 6, 21, 9))

    assert sweeps.warn_applications_due_soon(at(2024, 6, 24, 9)).startswith("0 applications")


# Undecided at payment close ------------------------------------------------------------------------------------


def test_candidates_undecided_at_payment_close_are_told_once_with_a_history_line(session_2024, urumqi, client):
    application = submitted(session_2024, urumqi, language="en")
    assert sweeps.tell_undecided_at_payment_close(PAYMENT_CLOSE - HOUR) == (
        "0 candidates told that payment closed before a decision"
    )

    summary = sweeps.tell_undecided_at_payment_close(PAYMENT_CLOSE + HOUR)

    assert summary == "1 candidates told that payment closed before a decision"
    key = f"application:{application.pk}:undecided:{int(PAYMENT_CLOSE.timestamp())}"
    assert keys(f"application:{application.pk}:undecided") == {key}
    email = OutboxMessage.objects.get(dedup_key=key)
    assert email.recipient == application.email
    assert "not reviewed before payment closed" in email.context["subject"]
    assert "no longer possible" in email.context["body"] and "not your fault" in email.context["body"]
    assert Application.objects.get(pk=application.pk).status == Status.SUBMITTED
    note = ApplicationEvent.objects.filter(application=application, actor="system").values_list("note", flat=True)
    assert list(note) == [
        "Payment closed before a decision: the candidate was told that this session can no longer be paid."
    ]

    assert sweeps.tell_undecided_at_payment_close(PAYMENT_CLOSE + DAY).startswith("0 candidates")
    # Weeks later (the sweep was not running then) nobody is told about a close long past.
    Application.objects.filter(pk=application.pk).update(email="other@example.com")
    OutboxMessage.objects.filter(dedup_key=key).delete()
    assert sweeps.tell_undecided_at_payment_close(PAYMENT_CLOSE + 8 * DAY).startswith("0 candidates")


def test_the_status_page_says_payment_closed_before_a_decision(session_2024, urumqi, client, time_machine):
    application = submitted(session_2024, urumqi)
    url = f"/en/applications/status/{application.status_token}/"

    time_machine.move_to(PAYMENT_CLOSE - HOUR)
    assert "did not decide on the application before payment closed" not in client.get(url).content.decode()
    time_machine.move_to(PAYMENT_CLOSE + HOUR)
    page = client.get(url).content.decode()
    assert "did not decide on the application before payment closed" in page
    assert "will decide by" not in page


# What can no longer have effect is not offered ------------------------------------------------------------------


def test_approval_after_payment_close_is_neither_offered_nor_accepted(session_2024, urumqi, reviewer_urumqi):
    application = submitted(session_2024, urumqi)
    Application.objects.filter(pk=application.pk).update(verified_insured_months=application.claimed_insured_months)
    application.refresh_from_db()

    with pytest.raises(Refused, match="Payment closed at 2024-07-02 18:00"):
        APPLICATIONS.run_one("approve", application, Act(by=reviewer_urumqi, now=PAYMENT_CLOSE, override="the test"))
    assert Application.objects.get(pk=application.pk).status == Status.SUBMITTED
    # The admin's buttons come from offers(): checked at the real time here, long after the 2024 payment close.
    assert not APPLICATIONS.offers("approve", application, reviewer_urumqi)
    assert APPLICATIONS.offers("reject", application, reviewer_urumqi)
    # Before payment close it goes through (the override covers this test's unchecked candidate).
    APPLICATIONS.run_one("approve", application, Act(by=reviewer_urumqi, now=PAYMENT_CLOSE - HOUR, override="the test"))
    assert application.status == Status.APPROVED


def test_returning_for_correction_after_registration_close_is_refused(session_2024, urumqi, reviewer_urumqi):
    application = submitted(session_2024, urumqi)

    with pytest.raises(Refused, match="could no longer correct"):
        APPLICATIONS.run_one("return", application, Act(by=reviewer_urumqi, now=REGISTRATION_CLOSE, note="Fix it."))
    APPLICATIONS.run_one("return", application, Act(by=reviewer_urumqi, now=REGISTRATION_CLOSE - HOUR, note="Fix it."))
    assert application.status == Status.RETURNED


def test_a_resubmitted_application_is_escalated_again_when_its_new_due_time_passes(session_2024, urumqi, staff):
    give_emails(*staff.values())
    application = submitted(session_2024, urumqi)  # due Monday 06-24 23:59:59
    sweeps.escalate_overdue_applications(at(2024, 6, 25, 9))
    application.refresh_from_db()
    assert application.escalated_at == at(2024, 6, 25, 9)

    application.return_for_correction(staff["reviewer_urumqi"], "Upload the full record.", now=at(2024, 6, 25, 10))
    application.resubmit(now=at(2024, 6, 26, 9))  # due Friday 06-28 23:59:59

    application.refresh_from_db()
    assert application.escalated_at is None
    assert sweeps.escalate_overdue_applications(at(2024, 6, 29, 9)) == "1 escalated, 1 emails queued"
