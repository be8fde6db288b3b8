"""The staff digest: every working day at 08:30 Beijing time, per office, once per person and day; it covers
applications and requests (tickets), and for regional staff the escalation queue."""

import datetime

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings as django_settings

from offices.models import Office
from portal import digest as sweeps
from portal.tasks import send_staff_digests as digest_task
from tests.applications.test_sweeps import at, give_emails, in_person, keys, message, submitted
from tests.tickets.factories import open_ticket
from tickets.models import Kind

pytestmark = pytest.mark.django_db

MONDAY = at(2024, 6, 24, 8, 30)


@pytest.fixture
def work(session_2024, urumqi, kashgar, staff):
    """On Monday 2024-06-24 08:30: Ürümqi has one application due today, one overdue, one waiting in person;
    Kashgar one due today; the other offices nothing."""
    give_emails(*staff.values())
    return {
        "due_today": submitted(session_2024, urumqi, now=at(2024, 6, 20, 9)),  # due Mon 06-24 23:59:59
        "overdue": submitted(session_2024, urumqi, now=at(2024, 6, 19, 9)),  # due Fri 06-21 23:59:59
        "in_person": in_person(session_2024, urumqi, now=at(2024, 6, 21, 9)),  # due Tue 06-25
        "kashgar": submitted(session_2024, kashgar, now=at(2024, 6, 20, 10)),
    }


def digest_keys(day):
    return {key for key in keys("digest:") if f":{day}:" in key}


@pytest.mark.parametrize(
    ("day", "sent"),
    [
        (datetime.date(2024, 6, 24), True),  # Monday
        (datetime.date(2024, 6, 23), False),  # Sunday
        (datetime.date(2024, 9, 14), True),  # Saturday, make-up working day of the Mid-Autumn Festival
        (datetime.date(2024, 9, 16), False),  # Monday, Mid-Autumn Festival holiday
    ],
)
def test_digest_only_on_working_days(day, sent, work, staff):
    now = datetime.datetime.combine(day, datetime.time(8, 30), tzinfo=MONDAY.tzinfo)

    summary = sweeps.send_staff_digests(now)

    expected = {
        f"digest:650100:{day}:{staff['reviewer_urumqi'].pk}",
        f"digest:650100:{day}:{staff['manager_urumqi'].pk}",
        f"digest:653100:{day}:{staff['reviewer_kashgar'].pk}",
        f"digest:650000:{day}:{staff['regional_admin'].pk}",
    }
    assert digest_keys(day) == (expected if sent else set())
    if not sent:
        assert summary == f"{day} is not a working day: no digest"


def test_running_the_digest_twice_sends_it_once(work, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = sweeps.send_staff_digests(MONDAY)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = sweeps.send_staff_digests(MONDAY + datetime.timedelta(hours=2))

    assert first == "2024-06-24: 4 digests queued for 2 offices with open work"
    assert second == "2024-06-24: 0 digests queued for 2 offices with open work"
    assert callbacks == []
    assert len(mailoutbox) == 4
    # The next working day is a new digest.
    sweeps.send_staff_digests(at(2024, 6, 25, 8, 30))
    assert len(digest_keys("2024-06-25")) == 4


def test_office_digest_lists_its_own_applications(work, urumqi, staff):
    sweeps.send_staff_digests(MONDAY)

    context = message(f"digest:650100:2024-06-24:{staff['reviewer_urumqi'].pk}").context
    assert context["subject"] == f"审核日报 2024-06-24：{urumqi.name_zh}"
    body = context["body"]
    assert f"今日到期（1 件）：{work['due_today'].reference}" in body
    assert f"已逾期（1 件）：{work['overdue'].reference}" in body
    assert f"待现场审核（1 件）：{work['in_person'].reference}" in body
    assert work["kashgar"].reference not in body
    assert f"{django_settings.PORTAL_BASE_URL}/admin/applications/application/" in body

    kashgar_body = message(f"digest:653100:2024-06-24:{staff['reviewer_kashgar'].pk}").context["body"]
    assert f"今日到期（1 件）：{work['kashgar'].reference}" in kashgar_body
    assert "已逾期（0 件）：无" in kashgar_body
    assert work["due_today"].reference not in kashgar_body


def test_regional_digest_counts_every_office_with_open_work(work, urumqi, kashgar, staff):
    sweeps.send_staff_digests(MONDAY)

    digest = message(f"digest:650000:2024-06-24:{staff['regional_admin'].pk}")
    assert digest.office_id == "650000"
    body = digest.context["body"]
    assert f"{urumqi.name_zh}（650100）：今日到期 1 件，已逾期 1 件，待现场审核 1 件" in body
    assert f"{kashgar.name_zh}（653100）：今日到期 1 件，已逾期 0 件，待现场审核 0 件" in body
    assert "合计：今日到期 2 件，已逾期 1 件，待现场审核 1 件。" in body
    assert Office.objects.get(code="650500").name_zh not in body  # Hami: nothing to report


def test_offices_with_nothing_to_report_and_staff_without_email_get_nothing(session_2024, kashgar, staff):
    give_emails(staff["manager_urumqi"], staff["regional_admin"])
    submitted(session_2024, kashgar, now=at(2024, 6, 20, 9))

    summary = sweeps.send_staff_digests(MONDAY)

    assert (
        summary
        == "2024-06-24: 1 digests queued for 1 offices with open work; skipped, no email address: reviewer_kashgar"
    )
    assert digest_keys("2024-06-24") == {f"digest:650000:2024-06-24:{staff['regional_admin'].pk}"}


def test_no_open_work_no_digest(session_2024, staff):
    give_emails(*staff.values())

    assert sweeps.send_staff_digests(MONDAY) == "2024-06-24: nothing to report"
    assert keys("digest:") == set()


def test_a_long_list_is_cut_but_counted(work, session_2024, urumqi, staff, monkeypatch):
    monkeypatch.setattr(sweeps, "DIGEST_REFERENCES", 1)
    also_due_today = submitted(session_2024, urumqi, now=at(2024, 6, 20, 11))

    sweeps.send_staff_digests(MONDAY)

    body = message(f"digest:650100:2024-06-24:{staff['manager_urumqi'].pk}").context["body"]
    first = min(work["due_today"].reference, also_due_today.reference)  # same due time: by reference
    assert f"今日到期（2 件）：{first} 等，另有 1 件" in body


def test_what_is_already_late_today_is_overdue_not_due_today(session_2024, urumqi, staff):
    give_emails(staff["reviewer_urumqi"], staff["regional_admin"])
    # Submitted Friday 06-28: due at payment close, Tuesday 07-02 18:00; the digest runs late, at 19:00.
    late = submitted(session_2024, urumqi, now=at(2024, 6, 28, 10))

    sweeps.send_staff_digests(at(2024, 7, 2, 19))

    body = message(f"digest:650100:2024-07-02:{staff['reviewer_urumqi'].pk}").context["body"]
    assert "今日到期（0 件）：无" in body
    assert f"已逾期（1 件）：{late.reference}" in body
    # Payment has closed: the candidate can no longer pay, and the digest says so (issue 12).
    assert f"其中缴费截止时仍未审核、考生已无法缴费（1 件，已邮件告知考生）：{late.reference}" in body
    regional = message(f"digest:650000:2024-07-02:{staff['regional_admin'].pk}").context["body"]
    assert "已逾期 1 件（其中缴费截止时仍未审核、考生已无法缴费 1 件）" in regional


def test_beat_runs_the_digest_at_half_past_eight_beijing_time_not_every_minute():
    entry = django_settings.CELERY_BEAT_SCHEDULE["staff-digest"]
    assert entry == {"task": "portal.tasks.send_staff_digests", "schedule": crontab(hour=8, minute=30)}
    assert django_settings.CELERY_TIMEZONE == "Asia/Shanghai"
    assert not any("digest" in path for path in django_settings.PORTAL_SWEEPS)


def test_the_task_sends_the_digest_as_of_now(work):
    with time_machine.travel(MONDAY, tick=False):
        summary = digest_task.delay().get()

    assert summary == "2024-06-24: 4 digests queued for 2 offices with open work"


# Requests (tickets) in the digest ---------------------------------------------------------------------------------


@pytest.fixture
def ticket_work(urumqi, kashgar, staff):
    """On Monday 2024-06-24 08:30: Ürümqi has one request due today (filed Thursday, 2 working days) and one
    overdue (filed Wednesday); Kashgar only a certification deletion waiting for the regional office."""
    give_emails(*staff.values())
    deletion = open_ticket(Kind.CERT_DELETION, kashgar, now=at(2024, 6, 20, 9))  # due Thu 06-27
    deletion.verify(staff["reviewer_kashgar"], "ID card", now=at(2024, 6, 20, 10))
    deletion.escalate(staff["reviewer_kashgar"], "Identity and statement checked.", now=at(2024, 6, 20, 11))
    return {
        "due_today": open_ticket(Kind.PASSWORD_RESET, urumqi, now=at(2024, 6, 20, 9)),
        "overdue": open_ticket(Kind.PASSWORD_RESET, urumqi, now=at(2024, 6, 19, 9), platform="national"),
        "escalated": deletion,
    }


def test_office_digest_lists_its_requests_due_today_and_overdue(ticket_work, urumqi, staff):
    summary = sweeps.send_staff_digests(MONDAY)

    body = message(f"digest:650100:2024-06-24:{staff['reviewer_urumqi'].pk}").context["body"]
    requests = body.split("待处理的现场办理申请如下：")[1]
    assert f"今日到期（1 件）：{ticket_work['due_today'].reference}" in requests
    assert f"已逾期（1 件）：{ticket_work['overdue'].reference}" in requests
    assert ticket_work["escalated"].reference not in body
    assert f"{django_settings.PORTAL_BASE_URL}/admin/tickets/ticket/" in requests
    # Kashgar's only open request waits for the regional office: nothing for Kashgar's own staff to do.
    assert digest_keys("2024-06-24") == {
        f"digest:650100:2024-06-24:{staff['reviewer_urumqi'].pk}",
        f"digest:650100:2024-06-24:{staff['manager_urumqi'].pk}",
        f"digest:650000:2024-06-24:{staff['regional_admin'].pk}",
    }
    assert summary == "2024-06-24: 3 digests queued for 2 offices with open work"


def test_regional_digest_counts_requests_and_the_escalation_queue(ticket_work, work, urumqi, kashgar, staff):
    sweeps.send_staff_digests(MONDAY)

    body = message(f"digest:650000:2024-06-24:{staff['regional_admin'].pk}").context["body"]
    assert (
        f"{urumqi.name_zh}（650100）：今日到期 1 件，已逾期 1 件，待现场审核 1 件；"
        "现场办理申请：今日到期 1 件，已逾期 1 件，待会考办处理 0 件"
    ) in body
    assert (
        f"{kashgar.name_zh}（653100）：今日到期 1 件，已逾期 0 件，待现场审核 0 件；"
        "现场办理申请：今日到期 0 件，已逾期 0 件，待会考办处理 1 件"
    ) in body
    assert "合计：今日到期 2 件，已逾期 1 件，待现场审核 1 件。" in body
    assert "现场办理申请合计：今日到期 1 件，已逾期 1 件。" in body
    assert "待会考办处理（删除实名认证、退费）：1 件" in body
    assert f"{django_settings.PORTAL_BASE_URL}/admin/tickets/ticket/escalations/" in body


def test_requests_alone_make_a_digest_and_it_still_goes_once_per_person_and_day(ticket_work, staff, mailoutbox):
    first = sweeps.send_staff_digests(MONDAY)
    again = sweeps.send_staff_digests(MONDAY + datetime.timedelta(hours=3))

    assert first == "2024-06-24: 3 digests queued for 2 offices with open work"
    assert again == "2024-06-24: 0 digests queued for 2 offices with open work"
    assert len(digest_keys("2024-06-24")) == 3


def test_closed_requests_are_not_in_the_digest(urumqi, staff):
    give_emails(*staff.values())
    rejected = open_ticket(Kind.PASSWORD_RESET, urumqi, now=at(2024, 6, 19, 9))
    rejected.reject(staff["reviewer_urumqi"], "Not the candidate.", now=at(2024, 6, 19, 10))

    assert sweeps.send_staff_digests(MONDAY) == "2024-06-24: nothing to report"
