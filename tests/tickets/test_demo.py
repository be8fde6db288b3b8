"""The demo requests (tickets/demo.py) and the sample duplicate-payment list (tickets/duplicate_samples.py),
loaded by `manage.py demo`."""

import datetime
import io

import pytest
import tablib
from django.conf import settings as django_settings
from django.core.management import call_command

from applications.models import Application, ExamSession
from notifications.models import OutboxMessage
from offices.models import User
from offices.workdays import BEIJING
from tickets.demo import PLANS
from tickets.duplicate_samples import HEADERS
from tickets.models import (
    ESCALATING_KINDS,
    DuplicatePayment,
    IdentityChange,
    Kind,
    Refund,
    Status,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from tickets.resources import DuplicatePaymentResource

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 26, 10, tzinfo=BEIJING)  # a Thursday
EVERY_KIND = {Status.SUBMITTED, Status.VERIFIED, Status.IN_PROGRESS, Status.COMPLETED, Status.REJECTED}
# The statuses each kind can have (DESIGN.md): escalated only for the kinds with a regional step, expired only
# for the kinds with an in-person deadline (exemptions, registration changes).
DESIGNED = {
    Kind.PASSWORD_RESET: EVERY_KIND,
    Kind.INFO_CHANGE: EVERY_KIND | {Status.EXPIRED},
    Kind.CERT_DELETION: EVERY_KIND | {Status.ESCALATED},
    Kind.REFUND: EVERY_KIND | {Status.ESCALATED},
    Kind.EXEMPTION: EVERY_KIND | {Status.EXPIRED},
}


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(time_machine):
    time_machine.move_to(NOW, tick=False)
    return run("demo")


def snapshot():
    return (
        sorted(Ticket.objects.values_list("reference", "kind", "office_id", "status", "due_at")),
        TicketEvent.objects.count(),
        TicketMessage.objects.count(),
        IdentityChange.objects.count(),
        OutboxMessage.objects.count(),
    )


def statuses():
    found = {}
    for kind, status in Ticket.objects.values_list("kind", "status"):
        found.setdefault(kind, set()).add(status)
    return found


def test_every_kind_in_every_status_it_can_have(demo):
    assert statuses() == DESIGNED
    assert Ticket.objects.count() == len(PLANS)


def test_each_request_got_there_through_its_steps(demo):
    for ticket in Ticket.objects.prefetch_related("events"):
        events = list(ticket.events.all())
        assert events[0].to_status == Status.SUBMITTED and events[0].actor == "candidate", ticket
        assert events[-1].to_status == ticket.status, ticket
        assert (ticket.closed_at is not None) == (ticket.status in (Status.COMPLETED, Status.REJECTED, Status.EXPIRED))
    expired = Ticket.objects.filter(status=Status.EXPIRED)
    assert {t.session.year for t in expired} == {2024}
    assert all(t.closed_at == t.deadline for t in expired)
    assert set(TicketEvent.objects.filter(to_status=Status.EXPIRED).values_list("actor", flat=True)) == {"system"}


def test_the_regional_steps_were_taken_by_regional_staff(demo):
    regional = User.objects.get(username="regional_admin")
    for ticket in Ticket.objects.filter(kind__in=ESCALATING_KINDS, status=Status.COMPLETED):
        assert ticket.events.filter(to_status=Status.ESCALATED).exists()
        assert ticket.events.get(to_status=Status.COMPLETED).by == regional
    refund = Refund.objects.get(ticket__status=Status.COMPLETED)
    assert refund.nontax_checked_at and refund.refund_amount and refund.voucher_number
    assert Ticket.objects.get(kind=Kind.CERT_DELETION, status=Status.COMPLETED).cert_deletion.deleted_by == regional
    # The escalation queue holds one request of each office.
    assert set(Ticket.objects.escalation_queue().values_list("kind", "office_id")) == {
        (Kind.CERT_DELETION, "650100"),
        (Kind.REFUND, "653100"),
    }


def test_completing_changed_what_it_should(demo):
    renamed = Ticket.objects.get(kind=Kind.INFO_CHANGE, status=Status.COMPLETED)
    assert renamed.candidate.name == renamed.info_change.new_name
    assert IdentityChange.objects.filter(ticket=renamed, field="name").exists()
    exempt = Ticket.objects.get(kind=Kind.EXEMPTION, status=Status.COMPLETED)
    assert Application.objects.get(candidate=exempt.candidate, session=exempt.session).management_exempt
    registration = Ticket.objects.get(kind=Kind.INFO_CHANGE, info_change__scope="registration", status="submitted")
    assert registration.info_change.application.status == "paid"
    assert registration.deadline > NOW


def test_some_in_kashgar_for_scoping_and_one_overdue(demo):
    kashgar_reviewer = User.objects.get(username="reviewer_kashgar")
    visible = Ticket.objects.for_user(kashgar_reviewer)
    assert 3 <= visible.count() < Ticket.objects.count()
    assert set(visible.values_list("office_id", flat=True)) == {"653100"}
    assert {event.by for t in visible for event in t.events.exclude(by=None)} <= {
        kashgar_reviewer,
        User.objects.get(username="regional_admin"),
    }
    [overdue] = Ticket.objects.overdue(NOW)
    assert overdue.office_id == "650100"


def test_a_second_run_changes_nothing(demo):
    before = snapshot()
    assert "loaded already" in run("demo")
    assert snapshot() == before


def test_sample_duplicate_list_imports_with_two_matches_and_one_unmatched(demo):
    path = django_settings.VAR_DIR / "demo" / "sample-duplicate-payments.xlsx"
    assert f"Sample duplicate-payment list for the import of the regional office: {path}" in demo
    data = tablib.Dataset().load(path.read_bytes(), format="xlsx")
    assert data.headers == HEADERS
    assert len(data) == 3
    session = ExamSession.objects.current()

    for _attempt in range(2):  # the same file twice: the same tickets
        resource = DuplicatePaymentResource(session=session)
        result = resource.import_data(tablib.Dataset().load(path.read_bytes(), format="xlsx"), dry_run=False)
        assert not result.has_errors() and not result.has_validation_errors()
        assert result.refund_outcome["matched"] == 2
        assert result.refund_outcome["unmatched_count"] == 1

    listed = Ticket.objects.filter(kind=Kind.REFUND, refund__source=Refund.Source.SCREENED_LIST)
    assert set(listed.values_list("office_id", flat=True)) == {"650100", "653100"}
    assert DuplicatePayment.objects.count() == 3


def test_reset_deletes_requests_and_everything_that_points_at_them(demo, time_machine):
    session = ExamSession.objects.current()
    path = django_settings.VAR_DIR / "demo" / "sample-duplicate-payments.xlsx"
    DuplicatePaymentResource(session=session).import_data(
        tablib.Dataset().load(path.read_bytes(), format="xlsx"), dry_run=False
    )
    old = set(Ticket.objects.values_list("reference", flat=True))
    assert DuplicatePayment.objects.exists() and IdentityChange.objects.exists()

    time_machine.move_to(NOW + datetime.timedelta(days=30), tick=False)
    run("demo", "--reset")

    assert not DuplicatePayment.objects.exists()
    assert set(Ticket.objects.values_list("reference", flat=True)).isdisjoint(old)
    assert statuses() == DESIGNED
    assert IdentityChange.objects.count() == 1  # the completed demo change only


def test_run_sweeps_next_day_expires_the_current_sessions_unverified_exemption(demo):
    session = ExamSession.objects.current()

    output = run("run_sweeps", "--now", session.exemption_deadline.isoformat())

    assert "tickets.sweeps.expire_unverified_tickets: 1 expired at the in-person deadline, 1 emails queued" in output
    assert Ticket.objects.get(kind=Kind.EXEMPTION, session=session, status=Status.EXPIRED).office_id == "653100"
