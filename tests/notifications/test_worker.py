"""The outbox against a real Celery worker process on Redis: what eager tests cannot show.

A task delivered twice (acks_late, a lost ack, the sweep) must send one email, and a worker in its own process,
with its own database connection, must record what went wrong on the row. Rows are committed
(transactional tests) so that the worker sees them. The worker, its own queue and its mail folder: tests/worker.py.
"""

import time

import pytest
from django.db import transaction

from notifications.models import OutboxMessage, enqueue_email, enqueue_emails
from notifications.tasks import send_email, send_emails
from tests import worker as worker_helpers
from tests.worker import QUIET_SECONDS

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

# The worker process and the fixture that sends this module's tasks to it (tests/worker.py).
celery_worker_process = worker_helpers.celery_worker_process
worker = worker_helpers.worker


def status_of(pk, *statuses):
    row = OutboxMessage.objects.get(pk=pk)
    return row if row.status in statuses else None


def test_a_task_delivered_twice_sends_one_email(worker):
    with transaction.atomic():
        message, created = enqueue_email(
            key="worker:delivered-twice",
            recipient="candidate@example.com",
            language="en",
            template="message",
            context={"subject": "Review result", "body": "Your application was approved."},
        )
    assert created
    second = send_email.delay(message.pk)

    worker.wait_for(worker.emails, "email file")
    row = worker.wait_for(lambda: status_of(message.pk, "sent"), "row marked sent")
    # The second delivery has run once the worker logged its result; then no other email may follow.
    worker.wait_for(lambda: f"send_email[{second.id}] succeeded" in worker.log(), "result of the second delivery")
    deadline = time.monotonic() + QUIET_SECONDS
    while time.monotonic() < deadline:
        assert len(worker.emails()) == 1, worker.log()[-5000:]
        time.sleep(0.2)

    (email,) = worker.emails()
    text = email.read_text()
    assert "To: candidate@example.com" in text
    assert "Subject: Review result" in text
    assert "X-Portal-Key: worker:delivered-twice" in text
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxMessage.Status.SENT, 1)


def portal_keys(worker):
    """The X-Portal-Key of every email the worker wrote (a batch writes its emails into one file)."""
    return sorted(
        line.removeprefix("X-Portal-Key: ").strip()
        for path in worker.emails()
        for line in path.read_text(errors="replace").splitlines()
        if line.startswith("X-Portal-Key: ")
    )


def test_batch_delivered_twice_sends_each_once(worker):
    keys = [f"worker:batch:{n}" for n in range(3)]
    with transaction.atomic():
        queued = enqueue_emails(
            [
                OutboxMessage(
                    dedup_key=key,
                    recipient=f"candidate{n}@example.com",
                    language="en",
                    template="message",
                    context={"subject": "Reminder", "body": "Pay before the deadline."},
                )
                for n, key in enumerate(keys)
            ]
        )  # one send_emails task for the three rows, at commit
    pks = [message.pk for message in queued]
    second = send_emails.delay(pks)  # the same batch again, as the broker redelivers it

    worker.wait_for(lambda: OutboxMessage.objects.filter(pk__in=pks, status="sent").count() == 3, "rows marked sent")
    worker.wait_for(lambda: f"send_emails[{second.id}] succeeded" in worker.log(), "result of the second delivery")
    worker.stays(lambda: portal_keys(worker) == keys, "an email was sent twice")

    assert set(OutboxMessage.objects.filter(pk__in=pks).values_list("status", "attempts")) == {("sent", 1)}


def test_the_worker_records_a_failure_on_the_row(worker):
    with transaction.atomic():
        message, _ = enqueue_email(
            key="worker:missing-template",
            recipient="candidate@example.com",
            language="zh-hans",
            template="no_such_template",
            context={"subject": "?", "body": "?"},
        )

    row = worker.wait_for(lambda: status_of(message.pk, "failed"), "row marked failed")

    assert row.attempts == 1
    assert row.last_error.startswith("TemplateDoesNotExist: ")
    assert "notifications/email/no_such_template" in row.last_error
    assert worker.emails() == []
