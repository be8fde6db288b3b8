"""Stored deadlines follow the session's dates (portal/reschedule.py): pending in-person requests get the new
info-change or exemption deadline, requests expired at the old one reopen while the new one is ahead, a
shortened deadline is counted as a warning in the preview, and a second run changes nothing."""

import datetime

import pytest

from applications.models import ExamSession
from notifications.models import OutboxMessage
from offices.models import CalendarDay
from portal import reschedule
from tests.tickets.factories import at, open_ticket
from tests.tickets.test_sweeps import INFO_CHANGE_DEADLINE, exemption, registration_change, status_of
from tickets import sweeps
from tickets.models import Kind, Status, Ticket, TicketEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

DAY = datetime.timedelta(days=1)
BECAUSE = "the info-change cutoff was corrected"


def move_info_change_deadline(session, days):
    session.info_change_deadline += datetime.timedelta(days=days)
    session.save()
    return session


def deadline_of(ticket):
    return Ticket.objects.values_list("deadline", flat=True).get(pk=ticket.pk)


def deadline_emails(ticket):
    return OutboxMessage.objects.filter(dedup_key__startswith=f"ticket:{ticket.pk}:deadline:").count()


def test_info_change_cutoff_moved_later_pending_requests_no_longer_expire_on_the_old_date(session_2024, urumqi):
    pending = registration_change(urumqi)
    session = ExamSession.objects.get(pk=session_2024.pk)
    move_info_change_deadline(session, 2)
    now = at(2024, 8, 1, 9)

    shown = reschedule.preview(session, now)
    assert (shown.moved, shown.reopened, shown.emailed, shown.shortened) == (1, 0, 1, 0)

    assert reschedule.apply(session, BECAUSE, now) == (1, 1)
    assert deadline_of(pending) == INFO_CHANGE_DEADLINE + 2 * DAY
    event = TicketEvent.objects.filter(ticket=pending, actor="system").latest("pk")
    assert (event.from_status, event.to_status) == (Status.SUBMITTED, Status.SUBMITTED)
    assert "2024-08-19 00:00" in event.note and "2024-08-21 00:00" in event.note and BECAUSE in event.note
    assert deadline_emails(pending) == 1

    sweeps.expire_unverified_tickets(INFO_CHANGE_DEADLINE)  # the old date passes: nothing expires
    assert status_of(pending) == Status.SUBMITTED
    sweeps.expire_unverified_tickets(INFO_CHANGE_DEADLINE + 2 * DAY)
    assert status_of(pending) == Status.EXPIRED


def test_a_second_run_changes_nothing(session_2024, urumqi):
    pending = registration_change(urumqi)
    session = move_info_change_deadline(ExamSession.objects.get(pk=session_2024.pk), 2)
    now = at(2024, 8, 1, 9)
    reschedule.apply(session, BECAUSE, now)
    events = TicketEvent.objects.count()

    assert reschedule.preview(session, now).moved == 0
    assert reschedule.apply(session, BECAUSE, now) == (0, 0)
    assert TicketEvent.objects.count() == events
    assert deadline_emails(pending) == 1


def test_expired_at_the_old_deadline_reopens_while_the_new_one_is_ahead(session_2024, urumqi):
    expired = registration_change(urumqi)
    sweeps.expire_unverified_tickets(INFO_CHANGE_DEADLINE)
    assert status_of(expired) == Status.EXPIRED
    session = move_info_change_deadline(ExamSession.objects.get(pk=session_2024.pk), 3)
    now = INFO_CHANGE_DEADLINE + DAY

    assert reschedule.preview(session, now).reopened == 1
    assert reschedule.apply(session, BECAUSE, now) == (1, 1)
    assert status_of(expired) == Status.SUBMITTED
    assert deadline_of(expired) == INFO_CHANGE_DEADLINE + 3 * DAY
    assert Ticket.objects.get(pk=expired.pk).closed_at is None
    assert deadline_emails(expired) == 1


def test_no_reopening_when_the_new_deadline_has_passed_too(session_2024, urumqi):
    expired = registration_change(urumqi)
    sweeps.expire_unverified_tickets(INFO_CHANGE_DEADLINE)
    session = move_info_change_deadline(ExamSession.objects.get(pk=session_2024.pk), 1)

    assert reschedule.apply(session, BECAUSE, INFO_CHANGE_DEADLINE + 2 * DAY) == (0, 0)
    assert status_of(expired) == Status.EXPIRED


def test_no_reopening_when_the_candidate_filed_a_newer_request(session_2024, urumqi):
    expired = registration_change(urumqi)
    sweeps.expire_unverified_tickets(INFO_CHANGE_DEADLINE)
    session = move_info_change_deadline(ExamSession.objects.get(pk=session_2024.pk), 5)
    # The same candidate files the same change again after the expiry: it holds the one open slot.
    newer = open_ticket(
        Kind.INFO_CHANGE, urumqi, scope="registration", now=INFO_CHANGE_DEADLINE + DAY, candidate=expired.candidate
    )
    assert newer.deadline == INFO_CHANGE_DEADLINE + 5 * DAY

    reschedule.apply(session, BECAUSE, INFO_CHANGE_DEADLINE + DAY)
    assert status_of(expired) == Status.EXPIRED


def test_info_change_cutoff_moved_earlier_the_preview_warns(session_2024, urumqi):
    registration_change(urumqi)
    session = ExamSession.objects.get(pk=session_2024.pk)
    session.info_change_deadline -= 3 * DAY  # unsaved: the admin's form

    shown = reschedule.preview(session, at(2024, 8, 1, 9))
    assert (shown.moved, shown.shortened) == (1, 1)


def test_exemption_deadline_extended_with_registration(session_2024, urumqi):
    pending = exemption(urumqi)
    session = ExamSession.objects.get(pk=session_2024.pk)
    session.registration_closes += DAY
    session.exemption_deadline += DAY
    session.payment_closes += DAY
    session.save()

    assert reschedule.apply(session, "registration extended by a day", at(2024, 7, 2, 9)) == (1, 1)
    assert deadline_of(pending) == at(2024, 7, 3, 12)


# Applications ---------------------------------------------------------------------------------------------------

from applications import sweeps as application_sweeps  # noqa: E402
from applications.models import Application  # noqa: E402
from applications.models import Status as ApplicationStatus  # noqa: E402
from tests.applications import test_sweeps as app  # noqa: E402


def extend_registration(session, days=1):
    session = ExamSession.objects.get(pk=session.pk)
    shift = datetime.timedelta(days=days)
    session.registration_closes += shift
    session.payment_closes += shift
    session.exemption_deadline += shift
    session.save()
    return session


def test_registration_extended_before_close_review_due_capped_at_payment_close_moves(session_2024, urumqi):
    # Submitted on the last morning: 2 working days would be 07-04, capped at payment close 07-02 18:00.
    late = app.submitted(session_2024, urumqi, now=at(2024, 7, 2, 10))
    early = app.submitted(session_2024, urumqi, now=at(2024, 6, 20, 9))  # due 06-24, far from the cap
    assert Application.objects.get(pk=late.pk).due_at == app.PAYMENT_CLOSE
    early_due = Application.objects.get(pk=early.pk).due_at
    session = extend_registration(session_2024)
    now = at(2024, 7, 2, 11)

    shown = reschedule.preview(session, now)
    assert (shown.reviews_moved, shown.shortened) == (1, 0)
    reschedule.apply(session, "registration extended by a day", now)

    assert Application.objects.get(pk=late.pk).due_at == app.PAYMENT_CLOSE + DAY
    assert Application.objects.get(pk=early.pk).due_at == early_due
    note = late.events.order_by("-pk").first().note
    assert "2024-07-02 18:00" in note and "2024-07-03 18:00" in note
    assert reschedule.apply(session, "again", now) == (0, 0)


def test_registration_extended_after_the_close_sweep_closed_applications_reopen(session_2024, urumqi, reviewer_urumqi):
    was_returned = app.returned(session_2024, urumqi, reviewer_urumqi)
    was_in_person = app.in_person(session_2024, urumqi)
    application_sweeps.close_incomplete_applications(app.REGISTRATION_CLOSE)
    assert app.status_of(was_returned) == app.status_of(was_in_person) == ApplicationStatus.CLOSED
    session = extend_registration(session_2024)
    now = app.REGISTRATION_CLOSE + app.HOUR

    def event_emails():
        return OutboxMessage.objects.filter(dedup_key__startswith=f"application:{was_returned.pk}:event:").count()

    before = event_emails()
    assert reschedule.preview(session, now).applications_reopened == 2
    reschedule.apply(session, "registration extended by a day", now)

    assert app.status_of(was_returned) == ApplicationStatus.RETURNED
    assert app.status_of(was_in_person) == ApplicationStatus.IN_PERSON_REVIEW
    assert event_emails() == before + 1
    assert reschedule.apply(session, "again", now) == (0, 0)
    assert event_emails() == before + 1

    # The new close: the sweep closes them again then, not before.
    application_sweeps.close_incomplete_applications(app.REGISTRATION_CLOSE + app.HOUR)
    assert app.status_of(was_returned) == ApplicationStatus.RETURNED
    application_sweeps.close_incomplete_applications(app.REGISTRATION_CLOSE + DAY)
    assert app.status_of(was_returned) == ApplicationStatus.CLOSED


def test_no_reopening_when_the_new_close_has_passed_too(session_2024, urumqi):
    was_in_person = app.in_person(session_2024, urumqi)
    application_sweeps.close_incomplete_applications(app.REGISTRATION_CLOSE)
    session = extend_registration(session_2024)

    assert reschedule.apply(session, "late edit", app.REGISTRATION_CLOSE + 2 * DAY) == (0, 0)
    assert app.status_of(was_in_person) == ApplicationStatus.CLOSED


# The admin: preview, then confirmation ----------------------------------------------------------------------

from django.forms.models import model_to_dict  # noqa: E402


def session_form_data(session, **changes):
    from django.utils import timezone

    data = {}
    for name, value in model_to_dict(session).items():
        if name in ("id", "is_current", "payments_final_at") or value is None:
            continue
        if isinstance(value, datetime.datetime):
            local = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")
        else:
            data[name] = value.isoformat() if isinstance(value, datetime.date) else value
    data.update(changes)
    return data


def test_admin_previews_then_moves_on_confirmation(
    client_of, regional_admin, session_2024, urumqi, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(at(2024, 8, 1, 9))
    pending = registration_change(urumqi)
    client = client_of(regional_admin)
    url = f"/admin/applications/examsession/{session_2024.pk}/change/"
    data = session_form_data(session_2024, info_change_deadline="2024-08-16", _save="Save")

    response = client.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="reschedule-counts"' in html and 'id="reschedule-warning"' in html
    assert ExamSession.objects.get(pk=session_2024.pk).info_change_deadline == datetime.date(2024, 8, 18)  # unsaved

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**data, "_reschedule_confirmed": "1"})
    assert response.status_code == 302
    assert ExamSession.objects.get(pk=session_2024.pk).info_change_deadline == datetime.date(2024, 8, 16)
    assert deadline_of(pending) == at(2024, 8, 17)


def test_a_holiday_entered_inside_an_open_review_window_moves_its_due_time(
    client_of, regional_admin, session_2024, urumqi, django_capture_on_commit_callbacks
):
    # Submitted Thursday 06-20 09:00: due Monday 06-24 23:59:59 (2 working days), the application and the request.
    open_one = app.submitted(session_2024, urumqi, now=at(2024, 6, 20, 9))
    request = open_ticket(Kind.PASSWORD_RESET, urumqi, now=at(2024, 6, 20, 9))
    assert Application.objects.get(pk=open_one.pk).due_at == at(2024, 6, 24, 23, 59, 59)
    assert request.due_at == at(2024, 6, 24, 23, 59, 59)
    client = client_of(regional_admin)
    data = {"date": "2024-06-21", "kind": "holiday", "note": "office closed"}

    # First what it moves, nothing saved (issue 13: a calendar day reschedules like a session edit).
    response = client.post("/admin/offices/calendarday/add/", data)
    assert response.status_code == 200
    counts = response.content.decode().split('id="reschedule-counts"')[1].split("</ul>")[0]
    assert "审核期限将调整的待审报名：1" in counts  # the admin speaks Chinese
    assert "办理期限将调整的未结申请：1" in counts
    assert not CalendarDay.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/offices/calendarday/add/", {**data, "_reschedule_confirmed": "1"})
    assert response.status_code == 302
    assert Application.objects.get(pk=open_one.pk).due_at == at(2024, 6, 25, 23, 59, 59)
    assert "2024-06-25 23:59" in open_one.events.order_by("-pk").first().note
    # The request's due time follows the calendar too: the staff's, so no email to the candidate.
    assert Ticket.objects.get(pk=request.pk).due_at == at(2024, 6, 25, 23, 59, 59)
    note = TicketEvent.objects.filter(ticket=request, actor="system").latest("pk").note
    assert "2024-06-24 23:59" in note and "2024-06-25 23:59" in note
    assert list(
        OutboxMessage.objects.filter(dedup_key__startswith=f"ticket:{request.pk}:").values_list("dedup_key", flat=True)
    ) == [f"ticket:{request.pk}:received"]
    # Run again: nothing left to move.
    assert reschedule.preview(ExamSession.objects.current()).requests_due_moved == 0
