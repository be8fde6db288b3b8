"""Row locks for each kind of decision (PostgreSQL): two threads decide the same row at the same moment.

Each thread has its own database connection (closed at its end) and its own copy of the row, loaded before
the start, as two staff members' pages (or a staff page and the candidate's page, or the payment import and the
deadline sweep) would have it. A threading.Barrier releases both at once. For each pair: one wins, the other
gets a clear exception (InvalidTransition / TicketClosed) and writes nothing, the history holds exactly one
entry for the decision, and exactly one email is queued for it.

The admin's decision and step views go through the same model methods; two clicks through the admin are tested
in tests/applications/test_admin_decisions.py and tests/tickets/test_admin_steps.py.
"""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import translation

from applications.models import Application, ApplicationEvent, InvalidTransition, Payment
from applications.models import Status as ApplicationStatus
from applications.sweeps import lapse_unpaid_applications
from notifications.models import OutboxMessage
from offices.workdays import BEIJING
from tests.factories import approve, submit_application
from tests.tickets.factories import FIRST_REGISTRATION_DAY, open_ticket
from tickets.models import Kind, Status, Ticket, TicketClosed, TicketEvent

# Decisions on the 2024 session's applications while they still have effect (tests/conftest.py).
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("during_the_2024_session"),
]

AFTER_PAYMENT_CLOSE = datetime.datetime(2024, 7, 3, 9, tzinfo=BEIJING)
PAID_BEFORE_CLOSE = datetime.datetime(2024, 7, 2, 17, 30, tzinfo=BEIJING)


def race(*jobs):
    """Run the jobs in threads released together; returns what each returned, or the exception it raised."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait(timeout=10)
            with translation.override("en"):  # a new thread speaks the default language, Chinese
                results[index] = job()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, job)) for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread is still waiting (deadlock?)"
    return results


def one_wins(results, loser_type):
    """(index of the winner, the loser's exception): exactly one succeeded, the other raised `loser_type`."""
    failed = [index for index, result in enumerate(results) if isinstance(result, Exception)]
    assert len(failed) == 1, results
    loser = results[failed[0]]
    assert type(loser) is loser_type, repr(loser)
    assert str(loser), "the refusal must say why"
    return 1 - failed[0], loser


# Applications --------------------------------------------------------------------------------------------------


@pytest.fixture
def submitted(session_2024, urumqi):
    return submit_application(session_2024, urumqi, now=FIRST_REGISTRATION_DAY)


def copies(model, pk, count=2):
    return [model.objects.get(pk=pk) for _ in range(count)]


def application_emails(application):
    return OutboxMessage.objects.filter(dedup_key__startswith=f"application:{application.pk}:event:").order_by("pk")


def decisions_of(application):
    return ApplicationEvent.objects.filter(application=application).exclude(from_status="")


@pytest.mark.parametrize(
    ("second", "second_status"),
    [
        (lambda application, user: application.reject(user, "other", note="no"), ApplicationStatus.REJECTED),
        (lambda application, user: application.return_for_correction(user, "fix it"), ApplicationStatus.RETURNED),
        (lambda application, user: application.withdraw(), ApplicationStatus.WITHDRAWN),
    ],
    ids=["approve-vs-reject", "approve-vs-return", "approve-vs-candidate-withdraw"],
)
def test_two_application_decisions_at_once(submitted, staff, second, second_status):
    first, other = copies(Application, submitted.pk)
    results = race(
        lambda: approve(first, staff["reviewer_urumqi"]),
        lambda: second(other, staff["manager_urumqi"]),
    )
    winner, loser = one_wins(results, InvalidTransition)
    submitted.refresh_from_db()
    assert submitted.status == [ApplicationStatus.APPROVED, second_status][winner]
    with translation.override("en"):
        assert submitted.reference in str(loser) and submitted.get_status_display() in str(loser)
    [decision] = decisions_of(submitted)
    assert decision == results[winner]
    assert (decision.from_status, decision.to_status) == (ApplicationStatus.SUBMITTED, submitted.status)
    [email] = application_emails(submitted)
    assert email.dedup_key == f"application:{submitted.pk}:event:{decision.pk}"


@pytest.fixture
def approved_and_paid(session_2024, urumqi, staff):
    """An approved application and the platform's record of its payment, made before payment close (the
    payment import has not applied it yet)."""
    application = submit_application(session_2024, urumqi, now=FIRST_REGISTRATION_DAY)
    approve(application, staff["reviewer_urumqi"], now=FIRST_REGISTRATION_DAY + datetime.timedelta(days=1))
    payment = Payment.objects.create(
        session=session_2024,
        payment_code="6500009",
        document_number=application.candidate.document_number,
        name=application.candidate.name,
        amount="176.00",
        paid_at=PAID_BEFORE_CLOSE,
    )
    emails_before = set(application_emails(application).values_list("pk", flat=True))
    return application, payment, emails_before


def pay(application, payment):
    return lambda: application.mark_paid(payment.paid_at, payment.payment_code, now=AFTER_PAYMENT_CLOSE)


def sweep():
    return lapse_unpaid_applications(AFTER_PAYMENT_CLOSE)


def assert_paid_once(application, emails_before, sweep_summary):
    """One outcome (paid), a history without gaps, one email (the payment's: a lapse is not emailed until the
    final payment import is marked done, and then only to applications still lapsed)."""
    application.refresh_from_db()
    assert (application.status, application.payment_code) == (ApplicationStatus.PAID, "6500009")
    history = list(decisions_of(application).order_by("pk"))
    assert history[0].to_status == ApplicationStatus.APPROVED
    for earlier, later in zip(history, history[1:], strict=False):
        assert later.from_status == earlier.to_status, [(e.from_status, e.to_status) for e in history]
    after_approval = [event.to_status for event in history[1:]]
    assert after_approval in ([ApplicationStatus.PAID], [ApplicationStatus.LAPSED, ApplicationStatus.PAID])
    assert sweep_summary == f"{len(after_approval) - 1} lapsed at payment close"
    new_emails = application_emails(application).exclude(pk__in=emails_before)
    assert [email.dedup_key for email in new_emails] == [f"application:{application.pk}:event:{history[-1].pk}"]
    assert not OutboxMessage.objects.filter(dedup_key=f"application:{application.pk}:lapsed").exists()


def test_payment_and_lapse_sweep_on_the_same_row_at_once(approved_and_paid):
    """The payment import applying a payment made before payment close, and the lapse sweep, at the same moment:
    either the payment comes first (the sweep, waiting on the row lock, then leaves the row out) or the sweep
    lapses it first (the payment then moves it on to paid, as FAQ 14 allows). Neither is refused."""
    application, payment, emails_before = approved_and_paid
    copy = Application.objects.get(pk=application.pk)
    results = race(pay(copy, payment), sweep)
    assert not any(isinstance(result, Exception) for result in results), results
    assert_paid_once(application, emails_before, results[1])


@pytest.mark.parametrize("sweep_first", [True, False], ids=["sweep-first", "payment-first"])
def test_payment_and_lapse_sweep_in_either_order(approved_and_paid, sweep_first):
    """Both orders of the race above, made deterministic (the payment from a copy loaded before the sweep)."""
    application, payment, emails_before = approved_and_paid
    stale = Application.objects.get(pk=application.pk)
    if sweep_first:
        summary = sweep()
        pay(stale, payment)()
    else:
        pay(stale, payment)()
        summary = sweep()
    assert_paid_once(application, emails_before, summary)


# Requests (tickets) --------------------------------------------------------------------------------------------


def ticket_emails(ticket):
    return OutboxMessage.objects.filter(dedup_key__startswith=f"ticket:{ticket.pk}:event:").order_by("pk")


def assert_one_decision(ticket, results, winner, statuses):
    ticket.refresh_from_db()
    assert ticket.status == statuses[winner]
    decisions = TicketEvent.objects.filter(ticket=ticket, to_status__in=set(statuses))
    [decision] = decisions.exclude(from_status__in=set(statuses))
    assert decision == results[winner]
    return decision


def test_two_staff_verifying_the_same_request_at_once(urumqi, staff):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    emails_before = ticket_emails(ticket).count()
    first, second = copies(Ticket, ticket.pk)
    results = race(
        lambda: first.verify(staff["reviewer_urumqi"], "ID card", now=FIRST_REGISTRATION_DAY),
        lambda: second.verify(staff["manager_urumqi"], "ID card", now=FIRST_REGISTRATION_DAY),
    )
    winner, loser = one_wins(results, TicketClosed)
    assert ticket.reference in str(loser)
    decision = assert_one_decision(ticket, results, winner, [Status.VERIFIED, Status.VERIFIED])
    assert TicketEvent.objects.filter(ticket=ticket, to_status=Status.VERIFIED).count() == 1
    assert decision is not None
    # The candidate stands at the counter: verifying sends no email (tickets/workflow.py), whoever wins.
    assert ticket_emails(ticket).count() == emails_before


@pytest.fixture
def in_progress(urumqi, staff):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    ticket.verify(staff["reviewer_urumqi"], "ID card", now=FIRST_REGISTRATION_DAY)
    ticket.start(staff["reviewer_urumqi"], now=FIRST_REGISTRATION_DAY)
    ticket.password_reset.record_reset(staff["reviewer_urumqi"], now=FIRST_REGISTRATION_DAY)
    return ticket


def test_complete_and_reject_at_once(in_progress, staff):
    ticket = in_progress
    emails_before = ticket_emails(ticket).count()
    first, second = copies(Ticket, ticket.pk)
    results = race(
        lambda: first.complete(staff["reviewer_urumqi"], note="done"),
        lambda: second.reject(staff["manager_urumqi"], "not eligible"),
    )
    winner, loser = one_wins(results, TicketClosed)
    assert ticket.reference in str(loser)
    decision = assert_one_decision(ticket, results, winner, [Status.COMPLETED, Status.REJECTED])
    [email] = ticket_emails(ticket)[emails_before:]
    assert email.dedup_key == f"ticket:{ticket.pk}:event:{decision.pk}"


@pytest.fixture
def verified_deletion(urumqi, staff):
    ticket = open_ticket(Kind.CERT_DELETION, urumqi)
    ticket.verify(staff["reviewer_urumqi"], "ID card", now=FIRST_REGISTRATION_DAY)
    return ticket


def test_escalate_and_reject_at_once(verified_deletion, staff):
    """Local staff escalate and reject the same request: once escalated, only the regional office may reject
    it, so whichever comes second is refused."""
    ticket = verified_deletion
    emails_before = ticket_emails(ticket).count()
    first, second = copies(Ticket, ticket.pk)
    results = race(
        lambda: first.escalate(staff["reviewer_urumqi"], "identity checked, please delete"),
        lambda: second.reject(staff["manager_urumqi"], "statement missing"),
    )
    winner, loser = one_wins(results, TicketClosed)
    assert ticket.reference in str(loser)
    decision = assert_one_decision(ticket, results, winner, [Status.ESCALATED, Status.REJECTED])
    [email] = ticket_emails(ticket)[emails_before:]
    assert email.dedup_key == f"ticket:{ticket.pk}:event:{decision.pk}"


def test_a_local_reject_after_an_escalation_it_did_not_see_is_refused(verified_deletion, staff):
    """The same race in the order that matters, made deterministic: the rejecting page still shows the request
    as verified when the escalation commits. The status is checked on the locked row, not on the stale copy."""
    ticket = verified_deletion
    stale = Ticket.objects.get(pk=ticket.pk)
    ticket.escalate(staff["reviewer_urumqi"], "identity checked, please delete")
    with pytest.raises(TicketClosed, match=ticket.reference):
        stale.reject(staff["manager_urumqi"], "statement missing")
    ticket.refresh_from_db()
    assert ticket.status == Status.ESCALATED
    assert not TicketEvent.objects.filter(ticket=ticket, to_status=Status.REJECTED).exists()
    # Regional staff may still reject it, from a stale copy too.
    stale.reject(staff["regional_admin"], "statement missing")
    ticket.refresh_from_db()
    assert ticket.status == Status.REJECTED
