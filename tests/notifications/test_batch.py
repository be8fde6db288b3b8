"""The batch send (notifications.tasks.send_emails / send_batch) in one process: one claim, one mail connection and
one UPDATE for the sent rows per batch, and each row's failure recorded on its own, as a single send records it.

Tasks run eagerly (tests/conftest.py). The mail server is `MailServer`, Django's locmem backend (emails land in
pytest-django's `mailoutbox`) that counts the connections the code opens and refuses or drops chosen recipients.
"""

import datetime
import itertools
import smtplib
import threading

import pytest
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, transaction
from django.utils import timezone

from notifications.models import SEND_BATCH, OutboxMessage, enqueue_emails
from notifications.sweeps import requeue_stalled_emails
from notifications.tasks import send_batch, send_email, send_emails

pytestmark = pytest.mark.django_db

REFUSED = "refused@example.com"  # the mail server refuses this recipient (a retryable error)
DROPS = "drops@example.com"  # the mail server hangs up on this recipient's email
CRASHES = "crashes@example.com"  # something unexpected (a bug) stops the worker at this email
_keys = itertools.count(1)


class MailServer(LocmemBackend):
    """locmem, plus: every connection made is recorded with how often it was opened and closed."""

    connections = []
    refuse_to_open = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.opened = self.closed = 0
        type(self).connections.append(self)

    def open(self):
        if self.refuse_to_open:
            raise ConnectionRefusedError(111, "Connection refused")
        self.opened += 1
        return True

    def close(self):
        self.closed += 1

    def send_messages(self, email_messages):
        for email in email_messages:
            if REFUSED in email.to:
                raise smtplib.SMTPRecipientsRefused({REFUSED: (450, b"4.2.1 Mailbox busy")})
            if DROPS in email.to:
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            if CRASHES in email.to:
                raise RuntimeError("a bug")
        return super().send_messages(email_messages)


@pytest.fixture
def mail_server(settings, monkeypatch):
    settings.EMAIL_BACKEND = f"{__name__}.MailServer"
    monkeypatch.setattr(MailServer, "connections", [])
    return MailServer


def make_row(recipient="candidate@example.com", **fields):
    defaults = {
        "dedup_key": f"batch-test:{next(_keys)}",
        "recipient": recipient,
        "language": "en",
        "template": "message",
        "context": {"subject": "Review result", "body": "Your application was approved."},
    }
    return OutboxMessage.objects.create(**{**defaults, **fields})


def pks(rows):
    return [row.pk for row in rows]


def state(row):
    row.refresh_from_db()
    return row.status, row.attempts


def sent_to(mailoutbox):
    return sorted(recipient for email in mailoutbox for recipient in email.to)


def test_a_mixed_batch_records_each_row_on_its_own_through_one_connection(mail_server, mailoutbox):
    already_sent = make_row(status="sent", attempts=1)
    refused = make_row(REFUSED)
    broken = make_row(template="no_such_template")
    good = [make_row(f"c{n}@example.com") for n in range(4)]
    before = timezone.now()

    outcome = send_batch(pks([already_sent, refused, *good[:2], broken, *good[2:]]))

    assert str(outcome) == "4 sent, 1 failed, 1 to retry, 0 handed back, 1 not pending"
    assert sent_to(mailoutbox) == sorted(row.recipient for row in good)
    for row in good:
        assert state(row) == (OutboxMessage.Status.SENT, 1)
        assert row.sent_at is not None and row.last_error == ""
    assert state(already_sent) == (OutboxMessage.Status.SENT, 1)
    assert already_sent.claimed_at is None  # not claimed again
    # The refused recipient: back to pending for a later attempt, as a single send leaves it.
    assert state(refused) == (OutboxMessage.Status.PENDING, 1)
    assert refused.last_error.startswith("SMTPRecipientsRefused: ")
    assert refused.next_attempt_at >= before + datetime.timedelta(seconds=60)
    # The broken template: failed at once, no retry.
    assert state(broken) == (OutboxMessage.Status.FAILED, 1)
    assert broken.last_error.startswith("TemplateDoesNotExist: ")
    # One connection for the whole batch (a refused recipient does not spoil it), opened and closed once.
    assert [(server.opened, server.closed) for server in mail_server.connections] == [(1, 1)]


def test_a_batch_claims_in_one_statement_and_marks_the_sent_rows_in_one(mail_server, django_assert_num_queries):
    rows = [make_row(f"c{n}@example.com") for n in range(SEND_BATCH)]

    # A transaction around the claim: SAVEPOINT, SELECT … FOR UPDATE, UPDATE, RELEASE; then one UPDATE.
    with django_assert_num_queries(5):
        send_batch(pks(rows))

    assert {state(row) for row in rows} == {(OutboxMessage.Status.SENT, 1)}


def test_a_dropped_connection_fails_that_row_and_the_next_row_opens_a_new_one(mail_server, mailoutbox):
    first, drops, last = make_row("first@example.com"), make_row(DROPS), make_row("last@example.com")

    outcome = send_batch(pks([first, drops, last]))

    assert str(outcome) == "2 sent, 0 failed, 1 to retry, 0 handed back, 0 not pending"
    assert sent_to(mailoutbox) == ["first@example.com", "last@example.com"]
    assert state(drops) == (OutboxMessage.Status.PENDING, 1)
    assert drops.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert [(server.opened, server.closed) for server in mail_server.connections] == [(1, 1), (1, 1)]


def test_when_the_mail_server_cannot_be_reached_every_row_waits_for_a_later_attempt(
    mail_server, monkeypatch, mailoutbox
):
    monkeypatch.setattr(mail_server, "refuse_to_open", True)
    rows = [make_row(f"c{n}@example.com") for n in range(3)]

    outcome = send_batch(pks(rows))

    assert str(outcome) == "0 sent, 0 failed, 3 to retry, 0 handed back, 0 not pending"
    assert len(mail_server.connections) == 1  # tried once for the batch, not once per row
    for row in rows:
        assert state(row) == (OutboxMessage.Status.PENDING, 1)
        assert row.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"
    assert mailoutbox == []


def test_the_batch_task_retries_the_refused_rows_later_in_one_task(mail_server, monkeypatch, mailoutbox):
    refused, good = make_row(REFUSED), make_row()
    scheduled = []
    # Record what the task hands to the broker instead of running it eagerly at once.
    monkeypatch.setattr(send_emails, "apply_async", lambda args, **options: scheduled.append((args, options)))

    assert send_emails(pks([refused, good])) == "1 sent, 0 failed, 1 to retry, 0 handed back, 0 not pending"

    assert scheduled == [(([refused.pk],), {"countdown": 60.0})]
    assert sent_to(mailoutbox) == [good.recipient]


def test_retries_of_a_batch_stop_at_the_maximum_number_of_attempts(mail_server, settings, mailoutbox):
    # Eager Celery runs each retry at once instead of after its countdown: the chain must still end.
    refused, good = make_row(REFUSED), make_row()

    send_emails(pks([refused, good]))

    assert state(refused) == (OutboxMessage.Status.FAILED, settings.OUTBOX_MAX_ATTEMPTS)
    assert state(good) == (OutboxMessage.Status.SENT, 1)
    assert sent_to(mailoutbox) == [good.recipient]


def test_a_batch_delivered_twice_sends_each_email_once(mail_server, mailoutbox):
    rows = [make_row(f"c{n}@example.com") for n in range(3)]

    assert send_emails.delay(pks(rows)).get() == "3 sent, 0 failed, 0 to retry, 0 handed back, 0 not pending"
    assert send_emails.delay(pks(rows)).get() == "0 sent, 0 failed, 0 to retry, 0 handed back, 3 not pending"

    assert len(mailoutbox) == 3
    assert {state(row) for row in rows} == {(OutboxMessage.Status.SENT, 1)}
    assert len(mail_server.connections) == 1  # the second delivery had nothing to send: no connection


def test_rows_in_sending_are_skipped(mail_server, mailoutbox):
    claimed_at = timezone.now() - datetime.timedelta(seconds=30)
    elsewhere = make_row(status="sending", attempts=1, claimed_at=claimed_at)
    mine = make_row()

    assert str(send_batch(pks([elsewhere, mine]))).startswith("1 sent, ")

    assert state(elsewhere) == (OutboxMessage.Status.SENDING, 1)
    assert elsewhere.claimed_at == claimed_at
    assert sent_to(mailoutbox) == [mine.recipient]


def test_an_unexpected_error_keeps_what_was_sent_and_the_sweep_takes_up_the_rest(
    mail_server, settings, mailoutbox, django_capture_on_commit_callbacks
):
    """As a worker lost mid-batch: the rows not yet sent stay in `sending`, and the stall sweep sends them."""
    sent_before, crashes, after = make_row("first@example.com"), make_row(CRASHES), make_row("after@example.com")

    with pytest.raises(RuntimeError):
        send_batch(pks([sent_before, crashes, after]))

    assert state(sent_before) == (OutboxMessage.Status.SENT, 1)  # marked although the batch did not finish
    assert state(crashes) == state(after) == (OutboxMessage.Status.SENDING, 1)
    assert sent_to(mailoutbox) == ["first@example.com"]

    later = timezone.now() + datetime.timedelta(seconds=settings.OUTBOX_STALE_AFTER_SECONDS + 1)
    OutboxMessage.objects.filter(pk=crashes.pk).update(recipient="fixed@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        summary = requeue_stalled_emails(later)

    assert summary == "2 stalled taken up again, 0 given up, 0 lost pending sent again"
    assert state(crashes) == state(after) == (OutboxMessage.Status.SENT, 2)
    assert state(sent_before) == (OutboxMessage.Status.SENT, 1)
    assert sent_to(mailoutbox) == ["after@example.com", "first@example.com", "fixed@example.com"]
    assert len(mail_server.connections) == 2  # the interrupted batch, then one batch for both stalled rows


def test_a_batch_running_too_long_hands_the_rest_back_before_the_sweep_would_take_it(
    mail_server, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.OUTBOX_STALE_AFTER_SECONDS = 0  # every batch is late at once: it sends one row, hands back the rest
    rows = [make_row(f"c{n}@example.com") for n in range(3)]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outcome = send_batch(pks(rows))

    assert str(outcome) == "1 sent, 0 failed, 0 to retry, 2 handed back, 0 not pending"
    assert [state(row) for row in rows] == [
        (OutboxMessage.Status.SENT, 1),
        (OutboxMessage.Status.PENDING, 0),  # not attempted: the attempt does not count
        (OutboxMessage.Status.PENDING, 0),
    ]
    assert len(callbacks) == 1  # a new task for the rows handed back

    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()

    assert {state(row) for row in rows} == {(OutboxMessage.Status.SENT, 1)}
    assert sent_to(mailoutbox) == sorted(row.recipient for row in rows)


def test_rows_another_claim_took_up_are_not_handed_back(django_capture_on_commit_callbacks):
    rows = [make_row(f"c{n}@example.com") for n in range(2)]
    claimed = OutboxMessage.claim_batch(pks(rows))
    # Meanwhile the sweep took the second row up and another worker claimed it again.
    OutboxMessage.objects.filter(pk=rows[1].pk).update(claimed_at=timezone.now() + datetime.timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert OutboxMessage.release_batch(claimed) == [rows[0].pk]

    assert state(rows[0]) == (OutboxMessage.Status.PENDING, 0)
    assert state(rows[1]) == (OutboxMessage.Status.SENDING, 1)
    assert len(callbacks) == 1


def test_enqueued_rows_are_sent_in_batches(mail_server, mailoutbox, django_capture_on_commit_callbacks):
    count = 2 * SEND_BATCH + 3
    messages = [
        OutboxMessage(
            dedup_key=f"batch-test:many:{n}",
            recipient=f"c{n}@example.com",
            language="en",
            template="message",
            context={"subject": "Reminder", "body": "Pay before the deadline."},
        )
        for n in range(count)
    ]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        enqueue_emails(messages)

    assert len(callbacks) == 1  # one commit hook, three tasks
    assert len(mail_server.connections) == 3
    assert len(mailoutbox) == count
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(OutboxMessage.Status.SENT, 1)}


def test_the_sweep_sends_what_it_takes_up_in_batches(
    mail_server, settings, mailoutbox, django_capture_on_commit_callbacks
):
    now = timezone.now()
    stale = now - datetime.timedelta(seconds=settings.OUTBOX_STALE_AFTER_SECONDS + 1)
    stalled = [make_row(f"s{n}@example.com", status="sending", attempts=1, claimed_at=stale) for n in range(SEND_BATCH)]
    lost = make_row("lost@example.com", next_attempt_at=now - datetime.timedelta(minutes=3))

    with django_capture_on_commit_callbacks(execute=True):
        requeue_stalled_emails(now)

    assert {state(row) for row in stalled} == {(OutboxMessage.Status.SENT, 2)}
    assert state(lost) == (OutboxMessage.Status.SENT, 1)
    assert len(mailoutbox) == SEND_BATCH + 1
    assert len(mail_server.connections) == 2


def test_the_single_send_is_a_batch_of_one(mail_server, mailoutbox):
    row = make_row()

    assert send_email(row.pk) == "sent"
    assert send_email(row.pk) == "not pending"

    assert state(row) == (OutboxMessage.Status.SENT, 1)
    assert len(mailoutbox) == 1
    assert [(server.opened, server.closed) for server in mail_server.connections] == [(1, 1)]


# A row another worker is claiming at this moment (PostgreSQL row locks) --------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_locked_by_another_claim_is_skipped_without_waiting(mail_server, mailoutbox):
    locked, free = make_row("locked@example.com"), make_row("free@example.com")
    holding, done = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                OutboxMessage.objects.select_for_update().get(pk=locked.pk)
                holding.set()
                done.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        outcome = send_batch(pks([locked, free]))
    finally:
        done.set()
        thread.join(timeout=30)

    assert str(outcome) == "1 sent, 0 failed, 0 to retry, 0 handed back, 1 not pending"
    assert sent_to(mailoutbox) == ["free@example.com"]
    assert state(locked) == (OutboxMessage.Status.PENDING, 0)
    assert state(free) == (OutboxMessage.Status.SENT, 1)
