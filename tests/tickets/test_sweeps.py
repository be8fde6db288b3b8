"""Deadline sweeps of requests (tickets/sweeps.py): expiry at the in-person deadline, escalation of overdue requests.

Time is the `now` argument of each sweep. Emails are asserted on the outbox rows (their unique keys); where the
sending itself matters, `django_capture_on_commit_callbacks(execute=True)` stands in for the commit.
"""

import datetime
from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import translation

from notifications.models import OutboxMessage
from offices.models import Role, User
from portal import sweeps as portal_sweeps
from portal.tasks import run_sweep
from tests.applications.test_sweeps import give_emails, keys, message
from tests.conftest import bulk_query_limit
from tickets import sweeps
from tickets.models import Kind, Status, Ticket, TicketClosed, TicketEvent

from .factories import at, clone_tickets, open_ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SECOND = datetime.timedelta(seconds=1)
DAY = datetime.timedelta(days=1)
# The 2024 session: exemptions until 12:00 on the last registration day (FAQ 19); registration changes until
# the end of 2024-08-18, 20 days before the exam (FAQ 15), stored as the next midnight.
EXEMPTION_DEADLINE = at(2024, 7, 2, 12)
INFO_CHANGE_DEADLINE = at(2024, 8, 19)


def exemption(office, **changes):
    return open_ticket(Kind.EXEMPTION, office, **changes)


def registration_change(office, **changes):
    """A change of a paid registration (FAQ 15), filed after payment closed."""
    return open_ticket(Kind.INFO_CHANGE, office, scope="registration", now=at(2024, 7, 10, 10), **changes)


def password_reset(office, now=None, **changes):
    """Filed on Thursday 2024-06-20 09:00 by default: due (2 working days) Monday 06-24 23:59:59."""
    return open_ticket(Kind.PASSWORD_RESET, office, now=now or at(2024, 6, 20, 9), **changes)


def status_of(ticket):
    return Ticket.objects.values_list("status", flat=True).get(pk=ticket.pk)


def system_events(ticket):
    return list(
        TicketEvent.objects.filter(ticket=ticket, actor="system").order_by("pk").values_list("from_status", "to_status")
    )


def snapshot():
    """Everything a sweep may write: statuses, escalations, history, outbox."""
    return (
        sorted(Ticket.objects.values_list("pk", "status", "closed_at", "sla_escalated_at")),
        TicketEvent.objects.count(),
        sorted(OutboxMessage.objects.values_list("dedup_key", flat=True)),
    )


# Expiry at the in-person deadline ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "deadline"),
    [(exemption, EXEMPTION_DEADLINE), (registration_change, INFO_CHANGE_DEADLINE)],
    ids=["exemption", "registration-change"],
)
@pytest.mark.parametrize(("offset", "expires"), [(-SECOND, False), (datetime.timedelta(0), True), (3 * DAY, True)])
def test_unverified_request_expires_at_its_deadline_not_a_second_before(make, deadline, offset, expires, urumqi):
    ticket = make(urumqi)
    assert ticket.deadline == deadline
    now = deadline + offset

    summary = sweeps.expire_unverified_tickets(now)

    assert summary == f"{int(expires)} expired at the in-person deadline, {int(expires)} emails queued"
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.status == (Status.EXPIRED if expires else Status.SUBMITTED)
    assert row.closed_at == (now if expires else None)
    assert system_events(ticket) == ([(Status.SUBMITTED, Status.EXPIRED)] if expires else [])
    assert keys(f"ticket:{ticket.pk}:expired") == ({f"ticket:{ticket.pk}:expired"} if expires else set())


@pytest.mark.parametrize("make", [exemption, registration_change], ids=["exemption", "registration-change"])
def test_verified_requests_never_expire(make, urumqi, reviewer_urumqi):
    verified = make(urumqi)
    verified.verify(reviewer_urumqi, "ID card", now=verified.deadline - SECOND)
    started = make(urumqi, identity_changes={"name": "李四"})
    started.verify(reviewer_urumqi, "ID card", now=started.deadline - DAY)
    started.start(reviewer_urumqi, now=started.deadline - DAY)

    assert sweeps.expire_unverified_tickets(verified.deadline + 30 * DAY).startswith("0 expired")
    assert [status_of(verified), status_of(started)] == [Status.VERIFIED, Status.IN_PROGRESS]


def test_requests_without_a_deadline_and_closed_ones_are_left_alone(urumqi, reviewer_urumqi):
    no_deadline = password_reset(urumqi)
    platform_change = open_ticket(Kind.INFO_CHANGE, urumqi)  # FAQ 9: platform identity, no deadline
    rejected = exemption(urumqi)
    rejected.reject(reviewer_urumqi, "Not an MPAcc degree.", now=at(2024, 6, 21, 9))

    assert sweeps.expire_unverified_tickets(at(2025, 1, 1)) == "0 expired at the in-person deadline, 0 emails queued"
    assert [status_of(t) for t in (no_deadline, platform_change, rejected)] == [
        Status.SUBMITTED,
        Status.SUBMITTED,
        Status.REJECTED,
    ]


def test_expiry_twice_changes_nothing_and_emails_once(urumqi, mailoutbox, django_capture_on_commit_callbacks):
    ticket = exemption(urumqi, contact={"language": "en"})
    mailoutbox.clear()  # the confirmation of the request

    with django_capture_on_commit_callbacks(execute=True):
        sweeps.expire_unverified_tickets(EXEMPTION_DEADLINE)
    first = snapshot()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = sweeps.expire_unverified_tickets(EXEMPTION_DEADLINE + DAY)

    assert again == "0 expired at the in-person deadline, 0 emails queued"
    assert snapshot() == first
    assert callbacks == []
    [email] = mailoutbox
    assert email.to == ["candidate@example.com"]
    assert email.subject == f"Request {ticket.reference}: Expired (not verified in person by the deadline)"
    assert "not verified in person at the office by its deadline, 2024-07-02 12:00 (Beijing time)" in email.body
    assert ticket.status_url in email.body


def test_expiry_email_is_in_the_candidates_language_with_the_last_day(urumqi):
    ticket = registration_change(urumqi)  # contact language zh-hans

    sweeps.expire_unverified_tickets(INFO_CHANGE_DEADLINE)

    context = message(f"ticket:{ticket.pk}:expired").context
    assert context["subject"].startswith(f"申请 {ticket.reference}：")
    # Stored as 2024-08-19 00:00, read as the end of 2024-08-18.
    assert "您未在截止时间 2024-08-18 23:59（北京时间）前到办理机构现场核验" in context["body"]
    assert message(f"ticket:{ticket.pk}:expired").office_id == "650100"


def test_an_expired_request_can_no_longer_be_verified(urumqi, reviewer_urumqi):
    ticket = exemption(urumqi)
    sweeps.expire_unverified_tickets(EXEMPTION_DEADLINE)

    ticket.refresh_from_db()
    with pytest.raises(TicketClosed):
        ticket.verify(reviewer_urumqi, "ID card", now=EXEMPTION_DEADLINE - SECOND)
    assert status_of(ticket) == Status.EXPIRED


def test_expiry_is_bulk_not_per_row(urumqi, django_assert_max_num_queries):
    clone_tickets(exemption(urumqi), 299)

    with django_assert_max_num_queries(bulk_query_limit(20)):
        summary = sweeps.expire_unverified_tickets(EXEMPTION_DEADLINE)
    assert summary == "300 expired at the in-person deadline, 300 emails queued"
    assert TicketEvent.objects.filter(actor="system", to_status=Status.EXPIRED).count() == 300


def test_expiry_goes_through_every_chunk(urumqi, monkeypatch):
    monkeypatch.setattr(sweeps, "CHUNK", 2)
    clone_tickets(registration_change(urumqi), 4)
    assert sweeps.expire_unverified_tickets(INFO_CHANGE_DEADLINE) == (
        "5 expired at the in-person deadline, 5 emails queued"
    )


# Escalation of overdue requests --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "escalates"),
    [(at(2024, 6, 24, 23, 59, 59), False), (at(2024, 6, 25), True), (at(2024, 7, 20), True)],
)
def test_overdue_request_is_escalated_once_to_its_offices_managers(now, escalates, urumqi, kashgar, staff):
    give_emails(*staff.values())
    manager, regional = staff["manager_urumqi"], staff["regional_admin"]
    in_urumqi = password_reset(urumqi)  # due 2024-06-24 23:59:59
    in_kashgar = password_reset(kashgar)  # Kashgar has no manager: regional staff are told

    summary = sweeps.escalate_overdue_tickets(now)

    expected = (
        {f"ticket-escalation:{in_urumqi.pk}:{manager.pk}", f"ticket-escalation:{in_kashgar.pk}:{regional.pk}"}
        if escalates
        else set()
    )
    assert keys("ticket-escalation:") == expected
    assert summary == f"{2 * escalates} escalated, {2 * escalates} emails queued"
    assert dict(Ticket.objects.values_list("pk", "sla_escalated_at")) == {
        in_urumqi.pk: now if escalates else None,
        in_kashgar.pk: now if escalates else None,
    }
    assert keys("escalation:") == set()  # the applications' escalation keys are not used
    if escalates:
        assert system_events(in_urumqi) == [(Status.SUBMITTED, Status.SUBMITTED)]
        assert message(f"ticket-escalation:{in_urumqi.pk}:{manager.pk}").office_id == "650100"
        assert message(f"ticket-escalation:{in_kashgar.pk}:{regional.pk}").office_id == "653100"

        before = snapshot()
        assert sweeps.escalate_overdue_tickets(now + DAY) == "0 escalated, 0 emails queued"
        assert snapshot() == before


def test_a_request_with_the_regional_office_is_escalated_to_regional_staff(urumqi, staff):
    give_emails(*staff.values())
    reviewer, regional = staff["reviewer_urumqi"], staff["regional_admin"]
    deletion = open_ticket(Kind.CERT_DELETION, urumqi, now=at(2024, 6, 20, 9))  # 5 working days: due 06-27
    deletion.verify(reviewer, "ID card", now=at(2024, 6, 20, 10))
    deletion.escalate(reviewer, "Identity and statement checked.", now=at(2024, 6, 20, 11))
    reset = password_reset(urumqi)  # due 06-24
    reset.verify(reviewer, "ID card", now=at(2024, 6, 20, 10))  # verified, still with the office

    summary = sweeps.escalate_overdue_tickets(at(2024, 6, 28, 9))

    assert summary == "2 escalated, 2 emails queued"
    assert keys("ticket-escalation:") == {
        f"ticket-escalation:{deletion.pk}:{regional.pk}",  # not Ürümqi's manager: the next step is regional
        f"ticket-escalation:{reset.pk}:{staff['manager_urumqi'].pk}",
    }


def test_escalation_email_names_the_request_with_a_masked_number(
    urumqi, manager_urumqi, reviewer_urumqi, mailoutbox, django_capture_on_commit_callbacks
):
    give_emails(manager_urumqi, reviewer_urumqi)
    ticket = password_reset(urumqi)
    ticket.verify(reviewer_urumqi, "ID card", now=at(2024, 6, 21, 9))
    ticket.start(reviewer_urumqi, now=at(2024, 6, 21, 9, 5))
    number = ticket.candidate.document_number
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        sweeps.escalate_overdue_tickets(at(2024, 6, 25, 9))

    [email] = mailoutbox  # the manager's only: reviewers get the digest, not escalations
    assert email.to == ["manager_urumqi@example.com"]
    with translation.override("zh-hans"):
        kind = ticket.get_kind_display()
    assert email.subject == f"办理逾期：{kind}申请 {ticket.reference}（{urumqi.name_zh}）"
    assert f"申请类型：{kind}" in email.body
    body = email.body
    assert f"参考号：{ticket.reference}" in body
    assert f"证件号码：{number[:6]}********{number[-4:]}" in body
    assert number not in body
    assert "办理期限：2024-06-24 23:59（北京时间）" in body
    assert "经办人：reviewer_urumqi" in body
    assert f"{django_settings.PORTAL_BASE_URL}/admin/tickets/ticket/{ticket.pk}/change/" in body


def test_closed_requests_are_not_escalated(urumqi, staff):
    give_emails(*staff.values())
    reviewer = staff["reviewer_urumqi"]
    done = password_reset(urumqi)
    done.verify(reviewer, "ID card", now=at(2024, 6, 20, 10))
    done.password_reset.record_reset(reviewer, now=at(2024, 6, 20, 11))
    done.complete(reviewer, now=at(2024, 6, 20, 12))
    rejected = password_reset(urumqi, identity_changes={"name": "李四"})
    rejected.reject(reviewer, "Not the candidate.", now=at(2024, 6, 20, 10))
    exemption(urumqi)
    sweeps.expire_unverified_tickets(EXEMPTION_DEADLINE)

    assert sweeps.escalate_overdue_tickets(at(2024, 7, 20)) == "0 escalated, 0 emails queued"


def test_managers_without_email_are_skipped_and_nobody_to_tell_waits(urumqi, staff):
    ticket = password_reset(urumqi)

    summary = sweeps.escalate_overdue_tickets(at(2024, 6, 25, 9))

    assert summary == (
        "0 escalated, 0 emails queued; skipped, no email address: manager_urumqi, regional_admin; "
        f"not escalated, nobody with an email address to tell: {ticket.reference}"
    )
    assert Ticket.objects.get(pk=ticket.pk).sla_escalated_at is None
    give_emails(staff["regional_admin"])
    assert sweeps.escalate_overdue_tickets(at(2024, 6, 25, 9, 1)) == (
        "1 escalated, 1 emails queued; skipped, no email address: manager_urumqi"
    )
    assert keys("ticket-escalation:") == {f"ticket-escalation:{ticket.pk}:{staff['regional_admin'].pk}"}


def test_escalated_requests_without_regional_staff_to_tell_wait(urumqi, staff):
    give_emails(staff["manager_urumqi"])
    reviewer = staff["reviewer_urumqi"]
    deletion = open_ticket(Kind.CERT_DELETION, urumqi, now=at(2024, 6, 20, 9))
    deletion.verify(reviewer, "ID card", now=at(2024, 6, 20, 10))
    deletion.escalate(reviewer, "Checked.", now=at(2024, 6, 20, 11))
    User.objects.filter(role=Role.REGIONAL).update(is_active=False)

    summary = sweeps.escalate_overdue_tickets(at(2024, 6, 28, 9))

    assert (
        summary
        == f"0 escalated, 0 emails queued; not escalated, nobody with an email address to tell: {deletion.reference}"
    )


def test_escalation_is_bulk(urumqi, staff, django_assert_max_num_queries):
    give_emails(*staff.values())
    clone_tickets(password_reset(urumqi), 299)

    with django_assert_max_num_queries(bulk_query_limit(20)):
        summary = sweeps.escalate_overdue_tickets(at(2024, 6, 25, 9))

    assert summary == "300 escalated, 300 emails queued"


# Both sweeps on beat --------------------------------------------------------------------------------------------


def test_after_downtime_everything_happens_once(urumqi, kashgar, staff, mailoutbox, django_capture_on_commit_callbacks):
    give_emails(*staff.values())
    reviewer = staff["reviewer_urumqi"]
    expiring = exemption(urumqi)
    expiring_change = registration_change(kashgar)
    verified = exemption(urumqi, identity_changes={"name": "李四"})
    verified.verify(reviewer, "ID card", now=at(2024, 6, 20, 10))
    overdue = password_reset(kashgar)
    before = keys()
    mailoutbox.clear()

    # The first sweep after weeks without a worker (both deadlines passed), then beat's next minute.
    with django_capture_on_commit_callbacks(execute=True):
        portal_sweeps.run_all(at(2024, 9, 1, 9))
    first = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        portal_sweeps.run_all(at(2024, 9, 1, 9, 1))
    assert snapshot() == first

    assert [status_of(t) for t in (expiring, expiring_change, verified, overdue)] == [
        Status.EXPIRED,
        Status.EXPIRED,
        Status.VERIFIED,
        Status.SUBMITTED,
    ]
    manager, regional = staff["manager_urumqi"].pk, staff["regional_admin"].pk
    assert keys() - before == {
        f"ticket:{expiring.pk}:expired",
        f"ticket:{expiring_change.pk}:expired",
        # Expired requests are closed, so not escalated; the open ones are, once.
        f"ticket-escalation:{verified.pk}:{manager}",
        f"ticket-escalation:{overdue.pk}:{regional}",
    }
    assert len(mailoutbox) == 4


@pytest.mark.parametrize("path", [p for p in django_settings.PORTAL_SWEEPS if p.startswith("tickets.")])
def test_each_ticket_sweep_is_registered_and_safe_twice(path, urumqi, staff):
    give_emails(*staff.values())
    exemption(urumqi)
    password_reset(urumqi)
    sweep = dict(portal_sweeps.registered_sweeps())[path]

    sweep(at(2024, 7, 3))
    after_first = snapshot()
    sweep(at(2024, 7, 3))

    assert snapshot() == after_first


def test_run_sweeps_prints_the_ticket_sweeps(urumqi, staff):
    give_emails(*staff.values())
    ticket = exemption(urumqi)
    out = StringIO()

    call_command("run_sweeps", "--now", "2024-07-02T12:00+08:00", stdout=out)

    lines = out.getvalue().splitlines()
    assert "  tickets.sweeps.expire_unverified_tickets: 1 expired at the in-person deadline, 1 emails queued" in lines
    # Filed 06-20, due 06-24: overdue, but expired first, so nothing to escalate.
    assert "  tickets.sweeps.escalate_overdue_tickets: 0 escalated, 0 emails queued" in lines
    assert status_of(ticket) == Status.EXPIRED


def test_the_task_runs_one_sweep_as_of_now(urumqi, time_machine):
    exemption(urumqi)
    time_machine.move_to(EXEMPTION_DEADLINE, tick=False)

    assert run_sweep.delay("tickets.sweeps.expire_unverified_tickets").get() == (
        "1 expired at the in-person deadline, 1 emails queued"
    )
    assert run_sweep.delay("tickets.sweeps.escalate_overdue_tickets").get().startswith("0 escalated")
    with pytest.raises(ValueError, match="not one of settings.PORTAL_SWEEPS"):
        run_sweep("tickets.models.Ticket.delete")


def test_sweeps_write_audit_entries_for_their_bulk_updates(urumqi, staff):
    give_emails(*staff.values())
    expiring = exemption(urumqi)
    overdue = password_reset(urumqi)

    sweeps.expire_unverified_tickets(EXEMPTION_DEADLINE)
    sweeps.escalate_overdue_tickets(EXEMPTION_DEADLINE)

    def changes(ticket):
        entries = LogEntry.objects.get_for_object(ticket).filter(additional_data__has_key="reason")
        return [(entry.object_repr, entry.changes) for entry in entries]

    assert changes(expiring) == [
        (expiring.reference, {"status": ["submitted", "expired"], "closed_at": ["None", str(EXEMPTION_DEADLINE)]})
    ]
    assert changes(overdue) == [(overdue.reference, {"sla_escalated_at": ["None", str(EXEMPTION_DEADLINE)]})]


# Warnings before the due time (issue 12) ---------------------------------------------------------------------


def test_the_office_is_warned_about_requests_due_today_once_not_about_escalated_ones(urumqi, staff):
    give_emails(*staff.values())
    request = password_reset(urumqi)  # due Monday 2024-06-24 23:59:59
    with_the_region = password_reset(urumqi, identity_changes={"document_number": "650102199001011238"})
    Ticket.objects.filter(pk=with_the_region.pk).update(status=Status.ESCALATED)

    assert sweeps.warn_tickets_due_soon(at(2024, 6, 21, 18)).startswith("0 requests")
    assert sweeps.warn_tickets_due_soon(at(2024, 6, 24, 8)) == "1 requests due soon warned about, 2 emails queued"

    emails = OutboxMessage.objects.filter(dedup_key__startswith="due-warning:tickets.ticket:")
    assert sorted(emails.values_list("recipient", flat=True)) == [
        "manager_urumqi@example.com",
        "reviewer_urumqi@example.com",
    ]
    assert all(request.reference in email.context["body"] for email in emails)
    assert all(with_the_region.reference not in email.context["body"] for email in emails)
    assert Ticket.objects.values_list("due_warned_for", flat=True).get(pk=request.pk) == request.due_at
    assert sweeps.warn_tickets_due_soon(at(2024, 6, 24, 9)).startswith("0 requests")
