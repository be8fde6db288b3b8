"""Payment reminders for approved, unpaid applications: 24 hours and 3 hours before payment close, once each,
in the candidate's language; a reminder whose window has passed is skipped, never sent late."""

import pytest

from applications import bulk, sweeps
from applications.models import ExamSession
from tests.factories import approve

from .test_sweeps import DAY, HOUR, PAYMENT_CLOSE, SECOND, approved, keys, message, paid, submitted

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def reminder_keys(application):
    return {key.rsplit(":", 1)[1] for key in keys(f"application:{application.pk}:reminder:")}


@pytest.mark.parametrize(
    ("now", "sent"),
    [
        (PAYMENT_CLOSE - 24 * HOUR - SECOND, set()),
        (PAYMENT_CLOSE - 24 * HOUR, {"24h"}),
        (PAYMENT_CLOSE - 3 * HOUR - SECOND, {"24h"}),
        (PAYMENT_CLOSE - 3 * HOUR, {"3h"}),
        (PAYMENT_CLOSE - 2 * HOUR, {"3h"}),  # a sweep first run here skips the 24h one
        (PAYMENT_CLOSE - SECOND, {"3h"}),
        (PAYMENT_CLOSE, set()),
    ],
)
def test_a_first_sweep_sends_only_the_reminder_due_at_that_moment(now, sent, session_2024, urumqi, reviewer_urumqi):
    application = approved(session_2024, urumqi, reviewer_urumqi)

    summary = sweeps.send_payment_reminders(now)

    assert reminder_keys(application) == sent
    counts = {key: int(key in sent) for key in ("24h", "3h")}
    assert summary == f"{counts['24h']} 24h payment reminders queued, {counts['3h']} 3h payment reminders queued"


def test_sweeping_through_the_last_day_sends_each_reminder_once(session_2024, urumqi, reviewer_urumqi):
    application = approved(session_2024, urumqi, reviewer_urumqi)
    moments = [PAYMENT_CLOSE - 25 * HOUR + step * 10 * 60 * SECOND for step in range(6 * 26)]  # every 10 minutes

    for now in moments:
        sweeps.send_payment_reminders(now)

    assert reminder_keys(application) == {"24h", "3h"}


def test_nothing_for_paid_lapsed_or_undecided_applications(session_2024, urumqi, reviewer_urumqi):
    others = {
        "paid": paid(session_2024, urumqi, reviewer_urumqi),
        "submitted": submitted(session_2024, urumqi),
        "lapsed": approved(session_2024, urumqi, reviewer_urumqi),
    }
    sweeps.lapse_unpaid_applications(PAYMENT_CLOSE)  # lapsed before any reminder ran

    for now in (PAYMENT_CLOSE - 20 * HOUR, PAYMENT_CLOSE - HOUR, PAYMENT_CLOSE + HOUR):
        sweeps.send_payment_reminders(now)

    assert {name: reminder_keys(application) for name, application in others.items()} == {
        "paid": set(),
        "submitted": set(),
        "lapsed": set(),
    }


def test_reminders_already_queued_are_not_rendered_again(session_2024, urumqi, reviewer_urumqi, monkeypatch):
    approved(session_2024, urumqi, reviewer_urumqi)
    sweeps.send_payment_reminders(PAYMENT_CLOSE - 20 * HOUR)

    def no_rendering(*args, **kwargs):
        raise AssertionError("rendered a reminder that is already in the outbox")

    monkeypatch.setattr(bulk, "render_emails", no_rendering)
    assert sweeps.send_payment_reminders(PAYMENT_CLOSE - 19 * HOUR).startswith("0 24h payment reminders queued")


def test_a_candidate_approved_late_gets_the_reminder_still_in_its_window(session_2024, urumqi, reviewer_urumqi):
    application = submitted(session_2024, urumqi)
    sweeps.send_payment_reminders(PAYMENT_CLOSE - 20 * HOUR)
    approve(application, reviewer_urumqi, now=PAYMENT_CLOSE - 2 * HOUR)

    sweeps.send_payment_reminders(PAYMENT_CLOSE - 2 * HOUR + 60 * SECOND)

    assert reminder_keys(application) == {"3h"}


def test_only_sessions_whose_payment_closes_soon_are_reminded(session_2024, urumqi, reviewer_urumqi):
    application = approved(session_2024, urumqi, reviewer_urumqi)
    ExamSession.objects.filter(pk=session_2024.pk).update(payment_closes=PAYMENT_CLOSE + 2 * DAY)

    sweeps.send_payment_reminders(PAYMENT_CLOSE - 2 * HOUR)

    assert reminder_keys(application) == set()


@pytest.mark.parametrize(
    ("language", "subject", "phrases"),
    [
        (
            "zh-hans",
            "缴费提醒：报名申请 {ref} 将于 2024-07-02 18:00 截止缴费",
            ["距截止已不足 3 小时", "全国会计人员统一服务管理平台", "2024-07-02 18:00（北京时间）截止"],
        ),
        (
            "en",
            "Payment reminder: application {ref}, payment closes 2024-07-02 18:00",
            ["less than 3 hours from now", "全国会计人员统一服务管理平台", "2024-07-02 18:00 (Beijing time)"],
        ),
    ],
)
def test_reminder_says_the_deadline_and_how_to_pay_in_the_candidates_language(
    language, subject, phrases, session_2024, urumqi, reviewer_urumqi, mailoutbox, django_capture_on_commit_callbacks
):
    application = approved(session_2024, urumqi, reviewer_urumqi, language=language)

    with django_capture_on_commit_callbacks(execute=True):
        sweeps.send_payment_reminders(PAYMENT_CLOSE - 2 * HOUR)

    row = message(f"application:{application.pk}:reminder:{int(PAYMENT_CLOSE.timestamp())}:3h")
    assert (row.language, row.recipient, row.office_id) == (language, "candidate@example.com", "650100")
    [email] = mailoutbox
    assert email.subject == subject.format(ref=application.reference)
    for phrase in phrases:
        assert phrase in email.body
    assert application.status_url in email.body


def test_an_extended_payment_close_gets_its_own_reminders(session_2024, urumqi, reviewer_urumqi):
    application = approved(session_2024, urumqi, reviewer_urumqi)
    sweeps.send_payment_reminders(PAYMENT_CLOSE - 20 * HOUR)
    assert reminder_keys(application) == {"24h"}

    ExamSession.objects.filter(pk=session_2024.pk).update(payment_closes=PAYMENT_CLOSE + DAY)
    sweeps.send_payment_reminders(PAYMENT_CLOSE + DAY - 20 * HOUR)
    sweeps.send_payment_reminders(PAYMENT_CLOSE + DAY - 19 * HOUR)  # once per close

    closes = sorted(key.split(":")[3] for key in keys(f"application:{application.pk}:reminder:"))
    assert closes == sorted([str(int(PAYMENT_CLOSE.timestamp())), str(int((PAYMENT_CLOSE + DAY).timestamp()))])
