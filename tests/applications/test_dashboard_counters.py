"""The dashboard's counters (applications.models.SeasonDay, DecisionTime, WorkHour): every way an application is
written keeps them equal to what the rows say, counted again here from the rows (counted_figures)."""

import datetime

import pytest

from applications.models import (
    NO_DUE_HOUR,
    Application,
    DecisionTime,
    ExamSession,
    RejectionReason,
    SeasonDay,
    Status,
    WorkHour,
    counted_figures,
    rebuild_counters,
    stored_figures,
)
from applications.workflow import APPLICATIONS
from core.transitions import Act
from offices.workdays import BEIJING
from tests.factories import approve, submit_application

pytestmark = pytest.mark.django_db


def at(day, hour):
    return datetime.datetime(2024, 6, day, hour, tzinfo=BEIJING)


def counters_agree():
    sessions = ExamSession.objects.all()
    stored = stored_figures(sessions)
    assert stored == counted_figures(sessions)
    return stored


def day_row(application, day):
    return SeasonDay.objects.get(session_id=application.session_id, office_id=application.office_id, day=day)


def test_every_write_keeps_the_counters(session_2024, urumqi, kashgar, reviewer_urumqi, during_the_2024_session):
    first = submit_application(session_2024, urumqi, now=at(20, 9))
    second = submit_application(session_2024, urumqi, now=at(20, 10), identity_changes={"name": "李四"})
    third = submit_application(session_2024, kashgar, now=at(21, 11), identity_changes={"name": "王五"})
    stored = counters_agree()
    assert day_row(first, datetime.date(2024, 6, 20)).submitted == 2
    assert day_row(third, datetime.date(2024, 6, 21)).submitted == 1

    approve(first, reviewer_urumqi, now=at(20, 15))  # six hours: 60 tenths of an hour, by its due time
    assert DecisionTime.objects.get(office=urumqi, tenths=60).count == 1
    assert day_row(first, datetime.date(2024, 6, 20)).decided_in_time == 1
    first.mark_paid(at(22, 8), "P-1", now=at(22, 9))
    assert day_row(first, datetime.date(2024, 6, 22)).paid == 1

    # Returned and resubmitted two days later: the submission now counts on the day of the resubmission.
    second.return_for_correction(reviewer_urumqi, "请补充社保证明", now=at(20, 16))
    second.resubmit(now=at(22, 10))
    assert day_row(second, datetime.date(2024, 6, 20)).submitted == 1
    assert day_row(second, datetime.date(2024, 6, 22)).submitted == 1
    second.reject(reviewer_urumqi, RejectionReason.WORK_YEARS, now=at(27, 10))  # after its due time
    assert second.due_at < second.decided_at
    assert day_row(second, datetime.date(2024, 6, 27)).decided == 1
    assert day_row(second, datetime.date(2024, 6, 27)).decided_in_time == 0

    # A batch and a system run of the engine (the reschedule's due times) keep them too.
    APPLICATIONS.run("move-due", Application.objects.filter(pk=third.pk), Act(actor="system", data={"because": "t"}))
    counters_agree()
    Application.objects.filter(pk=third.pk).update(verified_insured_months=third.claimed_insured_months)
    outcome = APPLICATIONS.run("approve", Application.objects.filter(pk=third.pk), Act(by=reviewer_urumqi))
    assert outcome.done and not outcome.refused
    after = counters_agree()
    assert after != stored
    assert WorkHour.objects.get(office=kashgar, status=Status.APPROVED, due_hour=NO_DUE_HOUR).count == 1
    # A sweep's status change (lapsed at payment close) takes it out of today's work.
    APPLICATIONS.run("lapse", Application.objects.filter(pk=third.pk), Act(actor="system"))
    counters_agree()
    assert WorkHour.objects.get(office=kashgar, status=Status.APPROVED, due_hour=NO_DUE_HOUR).count == 0


def test_a_refused_transition_counts_nothing(session_2024, urumqi, reviewer_urumqi, during_the_2024_session):
    application = submit_application(session_2024, urumqi, now=at(20, 9))
    before = counters_agree()
    outcome = APPLICATIONS.run("approve", Application.objects.filter(pk=application.pk), Act(by=reviewer_urumqi))
    assert outcome.refused  # months not verified: a batch never overrides
    assert counters_agree() == before


def test_rebuild_repairs_counters_and_changes_nothing_when_right(session_2024, urumqi, during_the_2024_session):
    application = submit_application(session_2024, urumqi, now=at(20, 9))
    right = counters_agree()
    assert rebuild_counters() > 0
    assert counters_agree() == right
    SeasonDay.objects.filter(session=application.session).update(submitted=99)
    assert stored_figures(ExamSession.objects.all()) != right
    rebuild_counters(ExamSession.objects.filter(pk=session_2024.pk))
    assert counters_agree() == right


def test_the_command_checks_and_repairs(session_2024, urumqi, during_the_2024_session):
    import io

    from django.core.management import CommandError, call_command

    submit_application(session_2024, urumqi, now=at(20, 9))
    out = io.StringIO()
    call_command("rebuild_counters", "--check", stdout=out)
    assert "agree" in out.getvalue()
    SeasonDay.objects.update(submitted=5)
    with pytest.raises(CommandError, match="differ from the applications in 1 rows"):
        call_command("rebuild_counters", "--check")
    call_command("rebuild_counters", "--year", "2024", stdout=out)
    call_command("rebuild_counters", "--check", stdout=out)
    counters_agree()
    with pytest.raises(CommandError, match="No exam session of 1999"):
        call_command("rebuild_counters", "--year", "1999")


def test_counters_that_count_nothing_are_dropped(session_2024, urumqi, reviewer_urumqi, during_the_2024_session):
    from applications.sweeps import drop_empty_counters
    from portal import dashboard

    application = submit_application(session_2024, urumqi, now=at(20, 9))
    hour = WorkHour.objects.get(status=Status.SUBMITTED)
    approve(application, reviewer_urumqi, now=at(20, 15))
    hour.refresh_from_db()
    assert hour.count == 0  # the hour's open work was decided
    figures = dashboard.office_figures(reviewer_urumqi)["applications"]

    assert drop_empty_counters(at(20, 16)) == "empty counter rows dropped: 1"
    assert not WorkHour.objects.filter(pk=hour.pk).exists()
    assert dashboard.office_figures(reviewer_urumqi)["applications"] == figures
    counters_agree()
    # Needed again (another application due in the same hour), the row is made anew.
    submit_application(session_2024, urumqi, now=at(20, 10), identity_changes={"name": "李四"})
    assert WorkHour.objects.get(status=Status.SUBMITTED).due_hour == hour.due_hour
    assert WorkHour.objects.get(status=Status.SUBMITTED).count == 1
    counters_agree()
    assert drop_empty_counters(at(20, 16)) == "empty counter rows dropped: 0"


def test_an_edit_to_another_office_moves_the_counters(
    session_2024, urumqi, kashgar, reviewer_urumqi, during_the_2024_session
):
    """The candidate may choose another office when editing (or correcting a returned application): its counts
    leave the first office's figures and join the other's."""
    from tests.factories import details

    edited = submit_application(session_2024, urumqi, now=at(20, 9))
    corrected = submit_application(session_2024, urumqi, now=at(20, 9), identity_changes={"name": "李四"})
    corrected.return_for_correction(reviewer_urumqi, "请补充社保证明", now=at(20, 16))
    assert WorkHour.objects.get(office=urumqi, status=Status.SUBMITTED).count == 1

    edited.update_by_candidate({**details(), "office": kashgar}, {}, now=at(21, 9))
    corrected.update_by_candidate({**details(), "office": kashgar}, {}, now=at(21, 10))

    counters_agree()
    assert WorkHour.objects.get(office=urumqi, status=Status.SUBMITTED).count == 0
    assert sum(WorkHour.objects.filter(office=kashgar, status=Status.SUBMITTED).values_list("count", flat=True)) == 2
    assert day_row(edited, datetime.date(2024, 6, 20)).submitted == 1  # kashgar: the edit kept its submission day
    assert SeasonDay.objects.get(office=urumqi, day=datetime.date(2024, 6, 20)).submitted == 0
