import datetime

import pytest

from applications.models import Application, ApplicationEvent, InvalidTransition, Status
from core.transitions import Refused
from notifications.models import OutboxMessage
from offices.workdays import BEIJING
from tests.factories import approve, submit_application

# Decisions on the 2024 session's applications while they still have effect (tests/conftest.py).
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("english"),
    pytest.mark.usefixtures("during_the_2024_session"),
]


def at(*args):
    return datetime.datetime(*args, tzinfo=BEIJING)


def test_submit_creates_application_with_due_time_history_and_email(session_2024, urumqi):
    application = submit_application(session_2024, urumqi, now=at(2024, 6, 28, 10))
    assert application.status == Status.SUBMITTED
    assert application.reference.startswith("A") and len(application.reference) == 10
    # Friday 06-28 + 2 working days = Tuesday 07-02 23:59:59, capped at payment close 18:00.
    assert application.due_at == at(2024, 7, 2, 18)
    assert application.events.get().to_status == Status.SUBMITTED
    assert OutboxMessage.objects.get(dedup_key=f"application:{application.pk}:received").recipient == (
        "candidate@example.com"
    )


def test_due_time_is_two_working_days(session_2024, urumqi):
    application = submit_application(session_2024, urumqi, now=at(2024, 6, 20, 9))
    assert application.due_at == at(2024, 6, 24, 23, 59, 59)


def test_registration_window_to_the_second(session_2024, urumqi):
    submit_application(session_2024, urumqi, now=at(2024, 7, 2, 11, 59, 59))
    with pytest.raises(InvalidTransition, match="closed"):
        submit_application(session_2024, urumqi, now=at(2024, 7, 2, 12, 0, 0))


def test_same_submission_key_creates_one_application(session_2024, urumqi):
    from tests.factories import details, identity, pdf_file

    kwargs = dict(
        session=session_2024,
        office=urumqi,
        identity=identity(),
        details=details(),
        files={"insurance_pdf": pdf_file()},
        submission_key="same-key",
        now=at(2024, 6, 20, 9),
    )
    first, created = Application.submit(**kwargs)
    second, created_again = Application.submit(**kwargs)
    assert created and not created_again
    assert first.pk == second.pk
    assert Application.objects.count() == 1


def test_foreign_candidate_waits_for_in_person_review(session_2024, urumqi):
    application = submit_application(
        session_2024,
        urumqi,
        identity_changes={"document_type": "passport", "document_number": "E12345678", "nationality": "Kazakhstan"},
    )
    assert application.status == Status.IN_PERSON_REVIEW
    assert application.flag_documents  # no passport copy uploaded


def test_decisions_follow_the_state_machine(session_2024, urumqi, reviewer_urumqi):
    application = submit_application(session_2024, urumqi)
    application.return_for_correction(reviewer_urumqi, "Upload the full record.")
    assert application.status == Status.RETURNED
    application.update_by_candidate({"claimed_insured_months": 130}, {}, now=at(2024, 6, 25, 9))
    assert application.status == Status.SUBMITTED
    approve(application, reviewer_urumqi)
    assert (application.status, application.decided_by) == (Status.APPROVED, reviewer_urumqi)
    with pytest.raises(InvalidTransition, match="already"):
        application.reject(reviewer_urumqi, "other")
    application.mark_paid(at(2024, 7, 1, 10), "P123")
    with pytest.raises(InvalidTransition, match="FAQ 14"):
        Application.objects.get(pk=application.pk).update_by_candidate({"phone": "1"}, {})
    statuses = list(
        ApplicationEvent.objects.filter(application=application).order_by("pk").values_list("to_status", flat=True)
    )
    assert statuses == ["submitted", "returned", "submitted", "approved", "paid"]


def test_reject_and_return_need_their_reason(session_2024, urumqi, reviewer_urumqi):
    application = submit_application(session_2024, urumqi)
    with pytest.raises(Refused, match="Choose a reason for the rejection."):
        application.reject(reviewer_urumqi, "")
    with pytest.raises(Refused, match="Say what the candidate must correct."):
        application.return_for_correction(reviewer_urumqi, "  ")
    assert Application.objects.get(pk=application.pk).status == Status.SUBMITTED


def test_every_decision_emails_the_candidate_in_their_language(session_2024, urumqi, reviewer_urumqi):
    application = submit_application(session_2024, urumqi, language="en")
    event = approve(application, reviewer_urumqi)
    message = OutboxMessage.objects.get(dedup_key=f"application:{application.pk}:event:{event.pk}")
    assert message.language == "en"
    assert "Approved" in message.context["subject"]
    assert application.status_url in message.context["body"]


def test_checks_explain_and_flag(session_2024, urumqi, reviewer_urumqi):
    application = submit_application(
        session_2024,
        urumqi,
        identity_changes={"birth_date": datetime.date(1998, 7, 3)},
        work_start_date=datetime.date(2021, 1, 2),
        claimed_insured_months=30,
        ce_public_credits=20,
    )
    messages = {check["code"]: check["message"] for check in application.checks}
    assert application.flag_young and application.flag_work_years and application.flag_continuing_education
    assert messages["work_years"] == (
        "Bachelor's degree (大学本科 / 学士学位) needs 4 years; only 3 years 11 months counted to 2024-12-31 "
        "(from the work start date)."
    )
    application.record_verified_months(reviewer_urumqi, 48)
    messages = {check["code"]: check for check in application.checks}
    assert messages["insured_months"]["ok"]
    assert "verified" in messages["insured_months"]["message"]


def test_second_application_flags_both(session_2024, urumqi, kashgar):
    first = submit_application(session_2024, urumqi)
    number = first.candidate.document_number
    second = submit_application(
        session_2024, kashgar, identity_changes={"document_number": number, "birth_date": first.candidate.birth_date}
    )
    first.refresh_from_db()
    assert second.candidate_id == first.candidate_id
    assert first.flag_duplicate and second.flag_duplicate


def test_in_person_review_done_only_from_in_person_review(session_2024, urumqi, reviewer_urumqi):
    application = submit_application(session_2024, urumqi)
    application.return_for_correction(reviewer_urumqi, "Upload the full record.")
    with pytest.raises(InvalidTransition):
        application.finish_in_person_review(reviewer_urumqi)
    assert Application.objects.get(pk=application.pk).status == Status.RETURNED
