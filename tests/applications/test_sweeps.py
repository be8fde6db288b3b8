"""Deadline sweeps of applications (applications/sweeps.py): lapse, lapse emails, close, escalation, run_sweeps.

Time is the `now` argument of each sweep. Emails are asserted on the outbox rows (their unique keys); where
the sending itself matters, `django_capture_on_commit_callbacks(execute=True)` stands in for the commit.
The set-up helpers at the top are shared with test_reminders.py and test_digest.py.
"""

import datetime
import itertools
import re
import secrets
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from applications import bulk, sweeps
from applications.models import (
    Application,
    ApplicationEvent,
    ExamSession,
    Status,
    counter_values,
    record_counter_changes,
)
from core.references import new_reference
from notifications.models import OutboxMessage
from offices.models import Role, User
from offices.workdays import BEIJING
from portal import sweeps as portal_sweeps
from tests.conftest import bulk_query_limit
from tests.factories import approve, submit_application

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SECOND = datetime.timedelta(seconds=1)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
_passports = itertools.count(1)


def at(*args):
    return datetime.datetime(*args, tzinfo=BEIJING)


# The 2024 session (FAQ 1): registration closes 2024-07-02 12:00, payment 18:00, Beijing time.
REGISTRATION_CLOSE = at(2024, 7, 2, 12)
PAYMENT_CLOSE = at(2024, 7, 2, 18)


def submitted(session, office, *, now=None, **changes):
    return submit_application(session, office, now=now or at(2024, 6, 20, 9), **changes)


def approved(session, office, reviewer, **changes):
    application = submitted(session, office, **changes)
    approve(application, reviewer, now=at(2024, 6, 21, 9))
    return application


def returned(session, office, reviewer, **changes):
    application = submitted(session, office, **changes)
    application.return_for_correction(reviewer, "Upload the full social-insurance record.", now=at(2024, 6, 21, 9))
    return application


def in_person(session, office, *, now=None, **changes):
    """A foreign candidate's application: it waits in in_person_review."""
    passport = {"document_type": "passport", "document_number": f"E{next(_passports):08d}", "nationality": "Kazakhstan"}
    return submitted(session, office, now=now, identity_changes=passport, **changes)


def paid(session, office, reviewer, **changes):
    application = approved(session, office, reviewer, **changes)
    application.mark_paid(at(2024, 6, 22, 10), f"P{application.pk}", now=at(2024, 6, 23, 10))
    return application


def copies(application, n):
    """n more applications like `application` (same status and session), inserted in bulk."""
    values = Application.objects.filter(pk=application.pk).values().get()
    del values["id"]
    rows = [
        Application(
            **{
                **values,
                "reference": new_reference("A"),
                "status_token": secrets.token_urlsafe(32),
                "submission_key": None,
            }
        )
        for _ in range(n)
    ]
    Application.objects.bulk_create(rows)
    record_counter_changes([(None, counter_values(row)) for row in rows])  # as Application.submit does
    return rows


def status_of(application):
    return Application.objects.values_list("status", flat=True).get(pk=application.pk)


# Escalation emails are keyed per due time too (…:due-<Unix seconds>): left out where a test names the key.
DUE_SUFFIX = re.compile(r":due-\d+$")


def keys(prefix=""):
    found = OutboxMessage.objects.filter(dedup_key__startswith=prefix).values_list("dedup_key", flat=True)
    return {DUE_SUFFIX.sub("", key) for key in found}


def message(key):
    return OutboxMessage.objects.get(dedup_key__regex=f"^{re.escape(key)}(:due-[0-9]+)?$")


def system_events(application):
    return list(
        ApplicationEvent.objects.filter(application=application, actor="system")
        .order_by("pk")
        .values_list("from_status", "to_status")
    )


def snapshot():
    """Everything a sweep may write: statuses, escalations, history, outbox."""
    return (
        sorted(Application.objects.values_list("pk", "status", "escalated_at")),
        ApplicationEvent.objects.count(),
        sorted(OutboxMessage.objects.values_list("dedup_key", flat=True)),
    )


def give_emails(*users):
    for user in users:
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])


@pytest.fixture
def world(session_2024, urumqi, kashgar, staff):
    """One application per case the sweeps handle, the staff with email addresses."""
    give_emails(*staff.values())
    reviewer = staff["reviewer_urumqi"]
    return {
        "approved": approved(session_2024, urumqi, reviewer),
        "approved_en": approved(session_2024, urumqi, reviewer, language="en"),
        "paid": paid(session_2024, urumqi, reviewer),
        "returned": returned(session_2024, urumqi, reviewer),
        "in_person": in_person(session_2024, kashgar),
        # Submitted on Thursday 06-20: due Monday 06-24 23:59:59, never decided.
        "submitted": submitted(session_2024, urumqi),
    }


# Lapse at payment close ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "status"),
    [
        (PAYMENT_CLOSE - SECOND, Status.APPROVED),
        (PAYMENT_CLOSE, Status.LAPSED),
        (PAYMENT_CLOSE + 3 * DAY, Status.LAPSED),
    ],
)
def test_approved_unpaid_lapse_at_payment_close_not_a_second_before(now, status, session_2024, urumqi, reviewer_urumqi):
    application = approved(session_2024, urumqi, reviewer_urumqi)
    other_statuses = {
        "paid": paid(session_2024, urumqi, reviewer_urumqi),
        "submitted": submitted(session_2024, urumqi),
    }

    summary = sweeps.lapse_unpaid_applications(now)

    assert status_of(application) == status
    changed = status == Status.LAPSED
    assert summary == f"{int(changed)} lapsed at payment close"
    assert system_events(application) == ([(Status.APPROVED, Status.LAPSED)] if changed else [])
    assert {name: status_of(app) for name, app in other_statuses.items()} == {
        "paid": Status.PAID,
        "submitted": Status.SUBMITTED,
    }
    assert keys(f"application:{application.pk}:lapsed") == set()  # the email waits for the final import


def test_a_session_whose_payment_is_still_open_is_left_alone(session_2024, urumqi, reviewer_urumqi):
    application = approved(session_2024, urumqi, reviewer_urumqi)
    ExamSession.objects.filter(pk=session_2024.pk).update(payment_closes=PAYMENT_CLOSE + DAY)

    assert sweeps.lapse_unpaid_applications(PAYMENT_CLOSE + HOUR) == "0 lapsed at payment close"
    assert status_of(application) == Status.APPROVED


def test_lapse_email_waits_for_the_final_payment_import_then_goes_once(
    session_2024, urumqi, reviewer_urumqi, mailoutbox, django_capture_on_commit_callbacks
):
    unpaid = approved(session_2024, urumqi, reviewer_urumqi, language="en")
    paid_late = approved(session_2024, urumqi, reviewer_urumqi)
    sweeps.lapse_unpaid_applications(PAYMENT_CLOSE)

    # Final import not done yet: nobody is told, whatever the time.
    assert sweeps.send_lapse_emails(PAYMENT_CLOSE + 2 * DAY) == (
        "0 lapse emails queued, 2 waiting for the final payment import"
    )
    assert keys("application:") & {f"application:{a.pk}:lapsed" for a in (unpaid, paid_late)} == set()

    # The last import finds a payment made before the close: that candidate is paid, not lapsed.
    paid_late.mark_paid(PAYMENT_CLOSE - HOUR, "P-LATE", now=PAYMENT_CLOSE + 2 * DAY)
    ExamSession.objects.filter(pk=session_2024.pk).update(payments_final_at=PAYMENT_CLOSE + 2 * DAY)

    with django_capture_on_commit_callbacks(execute=True):
        summary = sweeps.send_lapse_emails(PAYMENT_CLOSE + 2 * DAY + HOUR)
    assert summary == "1 lapse emails queued, 0 waiting for the final payment import"
    assert keys(f"application:{unpaid.pk}:lapsed") == {f"application:{unpaid.pk}:lapsed"}
    assert keys(f"application:{paid_late.pk}:lapsed") == set()
    [email] = mailoutbox
    assert email.to == ["candidate@example.com"]
    assert email.subject == f"Application {unpaid.reference}: Lapsed (not paid in time)"
    assert "Payment closed at 2024-07-02 18:00 and no payment of yours was found" in email.body
    assert unpaid.status_url in email.body

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = sweeps.send_lapse_emails(PAYMENT_CLOSE + 3 * DAY)
    assert again == "0 lapse emails queued, 0 waiting for the final payment import"
    assert callbacks == []
    assert len(mailoutbox) == 1


def test_emails_already_queued_are_not_rendered_again(session_2024, urumqi, reviewer_urumqi, monkeypatch):
    approved(session_2024, urumqi, reviewer_urumqi)
    ExamSession.objects.filter(pk=session_2024.pk).update(payments_final_at=PAYMENT_CLOSE + HOUR)
    sweeps.lapse_unpaid_applications(PAYMENT_CLOSE)
    sweeps.send_lapse_emails(PAYMENT_CLOSE + 2 * HOUR)

    # Beat runs the sweep every minute: it must find the candidates already told without building their emails.
    def no_rendering(*args, **kwargs):
        raise AssertionError("rendered an email that is already in the outbox")

    monkeypatch.setattr(bulk, "render_emails", no_rendering)
    assert sweeps.send_lapse_emails(PAYMENT_CLOSE + 3 * HOUR).startswith("0 lapse emails queued")


def test_lapse_email_is_in_the_candidates_language(session_2024, urumqi, reviewer_urumqi):
    application = approved(session_2024, urumqi, reviewer_urumqi, language="zh-hans")
    ExamSession.objects.filter(pk=session_2024.pk).update(payments_final_at=PAYMENT_CLOSE + HOUR)
    sweeps.lapse_unpaid_applications(PAYMENT_CLOSE)
    sweeps.send_lapse_emails(PAYMENT_CLOSE + 2 * HOUR)

    context = message(f"application:{application.pk}:lapsed").context
    assert context["subject"].startswith(f"报名申请 {application.reference}：")
    assert "报名缴费已于 2024-07-02 18:00 截止，系统未查到您的缴费记录" in context["body"]


# Close at registration close ---------------------------------------------------------------------------


@pytest.mark.parametrize("make", [returned, in_person], ids=["returned", "in_person_review"])
@pytest.mark.parametrize(
    ("now", "closes"),
    [(REGISTRATION_CLOSE - SECOND, False), (REGISTRATION_CLOSE, True), (REGISTRATION_CLOSE + 3 * DAY, True)],
)
def test_incomplete_applications_close_at_registration_close(make, now, closes, session_2024, urumqi, staff):
    reviewer = staff["reviewer_urumqi"]
    application = make(session_2024, urumqi, reviewer) if make is returned else make(session_2024, urumqi)
    before = status_of(application)
    untouched = {"submitted": submitted(session_2024, urumqi), "approved": approved(session_2024, urumqi, reviewer)}

    summary = sweeps.close_incomplete_applications(now)

    assert status_of(application) == (Status.CLOSED if closes else before)
    assert summary == f"{int(closes)} closed at registration close, {int(closes)} emails queued"
    assert system_events(application) == ([(before, Status.CLOSED)] if closes else [])
    assert keys(f"application:{application.pk}:closed") == (
        {f"application:{application.pk}:closed"} if closes else set()
    )
    assert [status_of(app) for app in untouched.values()] == [Status.SUBMITTED, Status.APPROVED]


def test_closing_emails_once_and_only_after_commit(
    session_2024, urumqi, reviewer_urumqi, mailoutbox, django_capture_on_commit_callbacks
):
    application = returned(session_2024, urumqi, reviewer_urumqi, language="en")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sweeps.close_incomplete_applications(REGISTRATION_CLOSE)
    assert mailoutbox == []
    assert message(f"application:{application.pk}:closed").status == OutboxMessage.Status.PENDING
    for callback in callbacks:
        callback()
    [email] = mailoutbox
    assert email.subject == f"Application {application.reference}: Closed at registration close"
    assert "Registration closed at 2024-07-02 12:00 before this application was completed" in email.body

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert sweeps.close_incomplete_applications(REGISTRATION_CLOSE + HOUR) == (
            "0 closed at registration close, 0 emails queued"
        )
    assert callbacks == []
    assert len(mailoutbox) == 1


# Idempotence and catching up ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now",
    [PAYMENT_CLOSE - 20 * HOUR, PAYMENT_CLOSE - 2 * HOUR, PAYMENT_CLOSE, PAYMENT_CLOSE + 3 * DAY],
    ids=["24h-window", "3h-window", "payment-close", "three-days-later"],
)
@pytest.mark.parametrize("path", [p for p in django_settings.PORTAL_SWEEPS if p.startswith("applications.")])
def test_each_sweep_run_twice_changes_nothing_more(path, now, world, session_2024):
    ExamSession.objects.filter(pk=session_2024.pk).update(payments_final_at=PAYMENT_CLOSE - 10 * HOUR)
    # The sweeps before this one have run: each is checked against the state it meets on beat.
    paths = django_settings.PORTAL_SWEEPS
    for earlier in paths[: paths.index(path)]:
        dict(portal_sweeps.registered_sweeps())[earlier](now)
    sweep = dict(portal_sweeps.registered_sweeps())[path]

    sweep(now)
    after_first = snapshot()
    sweep(now)

    assert snapshot() == after_first


def test_after_downtime_everything_happens_once(
    world, session_2024, manager_urumqi, regional_admin, mailoutbox, django_capture_on_commit_callbacks
):
    ExamSession.objects.filter(pk=session_2024.pk).update(payments_final_at=PAYMENT_CLOSE + DAY)
    before = keys()

    # The first sweep after three days without a worker, then beat's next minute.
    with django_capture_on_commit_callbacks(execute=True):
        portal_sweeps.run_all(PAYMENT_CLOSE + 3 * DAY)
    first = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        portal_sweeps.run_all(PAYMENT_CLOSE + 3 * DAY + datetime.timedelta(minutes=1))
    assert snapshot() == first

    w = {name: app.pk for name, app in world.items()}
    assert {name: status_of(app) for name, app in world.items()} == {
        "approved": Status.LAPSED,
        "approved_en": Status.LAPSED,
        "paid": Status.PAID,
        "returned": Status.CLOSED,
        "in_person": Status.CLOSED,
        "submitted": Status.SUBMITTED,
    }
    assert keys() - before == {
        f"application:{w['approved']}:lapsed",
        f"application:{w['approved_en']}:lapsed",
        f"application:{w['returned']}:closed",
        f"application:{w['in_person']}:closed",
        # Overdue since 06-24: escalated to Ürümqi's manager. The closed foreign application is not.
        f"escalation:{w['submitted']}:{manager_urumqi.pk}",
        # Still undecided at payment close: its candidate is told once (issue 12).
        f"application:{w['submitted']}:undecided:{int(PAYMENT_CLOSE.timestamp())}",
    }  # and no reminder: their moments passed while the worker was down
    for name in ("approved", "approved_en", "returned", "in_person"):
        assert len(system_events(world[name])) == 1, name
    assert len(mailoutbox) == 6


def test_run_sweeps_prints_one_line_per_sweep(session_2024, urumqi, reviewer_urumqi):
    application = approved(session_2024, urumqi, reviewer_urumqi)
    out = StringIO()

    call_command("run_sweeps", "--now", "2024-07-02T18:00+08:00", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == "Sweeps as of 2024-07-02 18:00:00 (Beijing time):"
    assert [line.split(":")[0].strip() for line in lines[1:]] == django_settings.PORTAL_SWEEPS
    assert "  applications.sweeps.lapse_unpaid_applications: 1 lapsed at payment close" in lines
    assert status_of(application) == Status.LAPSED


def test_the_digest_is_not_a_minute_sweep():
    assert "portal.digest.send_staff_digests" not in django_settings.PORTAL_SWEEPS


def test_lapsing_is_bulk_not_per_row(session_2024, urumqi, reviewer_urumqi, django_assert_max_num_queries):
    application = approved(session_2024, urumqi, reviewer_urumqi)
    copies(application, 299)

    with django_assert_max_num_queries(bulk_query_limit(20)):
        summary = sweeps.lapse_unpaid_applications(PAYMENT_CLOSE)

    assert summary == "300 lapsed at payment close"
    assert Application.objects.filter(status=Status.LAPSED).count() == 300
    assert ApplicationEvent.objects.filter(actor="system", to_status=Status.LAPSED).count() == 300


def test_lapse_emails_are_bulk_not_per_row(session_2024, urumqi, reviewer_urumqi, django_assert_max_num_queries):
    application = approved(session_2024, urumqi, reviewer_urumqi)
    copies(application, 299)
    sweeps.lapse_unpaid_applications(PAYMENT_CLOSE)
    ExamSession.objects.filter(pk=session_2024.pk).update(payments_final_at=PAYMENT_CLOSE + HOUR)

    with django_assert_max_num_queries(bulk_query_limit(20)):
        summary = sweeps.send_lapse_emails(PAYMENT_CLOSE + 2 * HOUR)

    assert summary == "300 lapse emails queued, 0 waiting for the final payment import"
    assert OutboxMessage.objects.filter(dedup_key__endswith=":lapsed").count() == 300


def test_sweeps_go_through_every_chunk(session_2024, urumqi, staff, monkeypatch):
    monkeypatch.setattr(sweeps, "CHUNK", 2)
    give_emails(*staff.values())
    reviewer = staff["reviewer_urumqi"]
    copies(returned(session_2024, urumqi, reviewer), 4)
    copies(approved(session_2024, urumqi, reviewer), 4)
    copies(submitted(session_2024, urumqi), 4)
    ExamSession.objects.filter(pk=session_2024.pk).update(payments_final_at=PAYMENT_CLOSE)

    summaries = dict(portal_sweeps.run_all(PAYMENT_CLOSE + HOUR))

    assert {path.rsplit(".", 1)[1]: summary for path, summary in summaries.items() if "applications" in path} == {
        "close_incomplete_applications": "5 closed at registration close, 5 emails queued",
        "lapse_unpaid_applications": "5 lapsed at payment close",
        "send_lapse_emails": "5 lapse emails queued, 0 waiting for the final payment import",
        "send_payment_reminders": "0 24h payment reminders queued, 0 3h payment reminders queued",
        "tell_undecided_at_payment_close": "5 candidates told that payment closed before a decision",
        "warn_applications_due_soon": "0 applications due soon warned about, 0 emails queued",
        "escalate_overdue_applications": "5 escalated, 5 emails queued",
        "drop_empty_counters": "empty counter rows dropped: 1",  # the approved ones, all lapsed
    }
    assert ApplicationEvent.objects.filter(actor="system").count() == 20


# Escalation --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "escalates"),
    [(at(2024, 6, 24, 23, 59, 59), False), (at(2024, 6, 25, 0, 0, 0), True), (PAYMENT_CLOSE + 3 * DAY, True)],
)
def test_overdue_application_is_escalated_once_to_its_offices_managers(
    now, escalates, session_2024, urumqi, kashgar, staff
):
    give_emails(*staff.values())
    manager, regional = staff["manager_urumqi"], staff["regional_admin"]
    in_urumqi = submitted(session_2024, urumqi)  # due 2024-06-24 23:59:59
    in_kashgar = submitted(session_2024, kashgar)  # Kashgar has no manager: regional staff are told

    summary = sweeps.escalate_overdue_applications(now)

    expected = (
        {f"escalation:{in_urumqi.pk}:{manager.pk}", f"escalation:{in_kashgar.pk}:{regional.pk}"} if escalates else set()
    )
    assert keys("escalation:") == expected
    assert summary == (f"{2 * escalates} escalated, {2 * escalates} emails queued")
    escalated_at = dict(Application.objects.values_list("pk", "escalated_at"))
    assert escalated_at == {in_urumqi.pk: now if escalates else None, in_kashgar.pk: now if escalates else None}
    if escalates:
        assert system_events(in_urumqi) == [(Status.SUBMITTED, Status.SUBMITTED)]
        assert message(f"escalation:{in_urumqi.pk}:{manager.pk}").office_id == "650100"
        assert message(f"escalation:{in_kashgar.pk}:{regional.pk}").office_id == "653100"

        before = snapshot()
        assert sweeps.escalate_overdue_applications(now + DAY) == "0 escalated, 0 emails queued"
        assert snapshot() == before


def test_escalation_email_names_the_application_with_a_masked_number(
    session_2024, urumqi, manager_urumqi, reviewer_urumqi, mailoutbox, django_capture_on_commit_callbacks
):
    give_emails(manager_urumqi, reviewer_urumqi)
    application = submitted(session_2024, urumqi)
    number = application.candidate.document_number

    with django_capture_on_commit_callbacks(execute=True):
        sweeps.escalate_overdue_applications(at(2024, 6, 25, 9))

    [email] = mailoutbox  # the manager's only: reviewers get the digest, not escalations
    assert email.to == ["manager_urumqi@example.com"]
    assert email.subject == f"审核逾期：报名申请 {application.reference}（{urumqi.name_zh}）"
    body = email.body
    assert f"参考号：{application.reference}" in body
    assert f"证件号码：{number[:6]}********{number[-4:]}" in body
    assert number not in body
    assert "审核期限：2024-06-24 23:59（北京时间）" in body
    assert f"{django_settings.PORTAL_BASE_URL}/admin/applications/application/{application.pk}/change/" in body


def test_managers_without_email_are_skipped_and_regional_staff_told_instead(
    session_2024, urumqi, manager_urumqi, regional_admin
):
    give_emails(regional_admin)  # the manager has no email address
    second = User.objects.create_staff("manager_urumqi_2", office=urumqi, role=Role.MANAGER, is_active=False)
    second.email = "inactive@example.com"
    second.save()
    application = submitted(session_2024, urumqi)

    summary = sweeps.escalate_overdue_applications(at(2024, 6, 25, 9))

    assert summary == "1 escalated, 1 emails queued; skipped, no email address: manager_urumqi"
    assert keys("escalation:") == {f"escalation:{application.pk}:{regional_admin.pk}"}


def test_without_anyone_to_tell_the_application_waits_unescalated(session_2024, urumqi, staff):
    application = submitted(session_2024, urumqi)

    summary = sweeps.escalate_overdue_applications(at(2024, 6, 25, 9))

    assert summary == (
        "0 escalated, 0 emails queued; skipped, no email address: manager_urumqi, regional_admin; "
        f"not escalated, nobody with an email address to tell: {application.reference}"
    )
    assert Application.objects.get(pk=application.pk).escalated_at is None
    give_emails(staff["manager_urumqi"])
    assert sweeps.escalate_overdue_applications(at(2024, 6, 25, 9, 1)) == "1 escalated, 1 emails queued"


def test_decided_and_closed_applications_are_not_escalated(session_2024, urumqi, staff):
    give_emails(*staff.values())
    reviewer = staff["reviewer_urumqi"]
    approved(session_2024, urumqi, reviewer)
    returned(session_2024, urumqi, reviewer)
    in_person(session_2024, urumqi)
    sweeps.close_incomplete_applications(PAYMENT_CLOSE + DAY)

    assert sweeps.escalate_overdue_applications(PAYMENT_CLOSE + DAY) == "0 escalated, 0 emails queued"


def test_in_person_review_past_its_due_time_is_escalated(session_2024, urumqi, staff):
    give_emails(*staff.values())
    application = in_person(session_2024, urumqi)

    assert sweeps.escalate_overdue_applications(at(2024, 6, 25, 9)) == "1 escalated, 1 emails queued"
    assert keys("escalation:") == {f"escalation:{application.pk}:{staff['manager_urumqi'].pk}"}
