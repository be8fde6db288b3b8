"""Celery against a real worker on Redis: deadlines crossed while the worker and beat were down are caught up
exactly once, and late acknowledgement is used only where a second delivery is proven harmless.

- Downtime across a deadline: `test_sweeps_after_downtime_catch_up_exactly_once` below.
- A task delivered twice sends one email: tests/notifications/test_worker.py,
  `test_a_task_delivered_twice_sends_one_email` and, for the batch task,
  `test_batch_delivered_twice_sends_each_once` (not repeated here).
- `acks_late` only on idempotent tasks: `test_acks_late_only_on_tasks_proven_idempotent`, an allow-list that
  a new acks_late task must join, naming the test that proves it idempotent.
"""

import importlib

import pytest
from django.utils import timezone

from applications.models import ApplicationEvent, ExamSession
from applications.models import Status as ApplicationStatus
from notifications.models import OutboxMessage
from portal.celery import app as celery_app
from tests import worker as worker_helpers
from tests.factories import approve, submit_application
from tests.tickets.factories import FIRST_REGISTRATION_DAY

# The worker process and the fixture that sends this module's tasks to it (tests/worker.py).
celery_worker_process = worker_helpers.celery_worker_process
worker = worker_helpers.worker

# Tasks that may acknowledge late (a worker lost mid-task makes the broker deliver it again), each with the test
# that delivers it twice and shows that the second delivery changes nothing and sends nothing more.
IDEMPOTENT_ACKS_LATE = {
    "notifications.tasks.send_email": "tests.notifications.test_worker::test_a_task_delivered_twice_sends_one_email",
    "notifications.tasks.send_emails": "tests.notifications.test_worker::test_batch_delivered_twice_sends_each_once",
}
APPROVED_BEFORE_THE_DEADLINE = 3


def lapse_emails_written(worker, applications):
    """{outbox key of the lapse email: how many email files the worker wrote with that key}."""
    counts = {f"application:{application.pk}:lapsed": 0 for application in applications}
    for path in worker.emails():
        for line in path.read_text(errors="replace").splitlines():
            key = line.removeprefix("X-Portal-Key: ").strip()
            if line.startswith("X-Portal-Key: ") and key in counts:
                counts[key] += 1
    return counts


def run_sweeps_twice(worker):
    """Beat's task, sent through the broker twice in a row (as beat sends it again a minute later)."""
    runs = [celery_app.send_task("portal.tasks.run_sweeps") for _ in range(2)]
    worker.wait_for(lambda: worker.succeeded(*runs), "the results of both sweep runs")


def lapse_entries(applications):
    return ApplicationEvent.objects.filter(
        application__in=applications, from_status=ApplicationStatus.APPROVED, to_status=ApplicationStatus.LAPSED
    )


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_sweeps_after_downtime_catch_up_exactly_once(request, session_2024, urumqi, reviewer_urumqi):
    # While the worker and beat are down: applications are approved, then payment closes (the 2024 session's
    # closed on 2024-07-02 18:00) and nobody pays; no sweep runs.
    assert session_2024.payment_closes < timezone.now() and session_2024.payments_final_at is None
    approved = []
    for _n in range(APPROVED_BEFORE_THE_DEADLINE):
        application = submit_application(session_2024, urumqi, now=FIRST_REGISTRATION_DAY, files={})
        approve(application, reviewer_urumqi, now=FIRST_REGISTRATION_DAY)
        approved.append(application)

    # The worker comes back; beat sends the sweep task (twice: it runs every minute).
    worker = request.getfixturevalue("worker")
    run_sweeps_twice(worker)
    for application in approved:
        application.refresh_from_db()
        assert application.status == ApplicationStatus.LAPSED
    assert lapse_entries(approved).count() == APPROVED_BEFORE_THE_DEADLINE  # once each
    # Nobody is told yet: the final payment import may still show a payment made in time.
    assert not OutboxMessage.objects.filter(dedup_key__endswith=":lapsed").exists()
    assert set(lapse_emails_written(worker, approved).values()) == {0}

    # Regional staff mark the final payment import done (the admin action's update); the next runs tell them.
    ExamSession.objects.filter(pk=session_2024.pk).update(payments_final_at=timezone.now())
    run_sweeps_twice(worker)
    worker.wait_for(
        lambda: set(lapse_emails_written(worker, approved).values()) == {1}, "one lapse email per application"
    )
    run_sweeps_twice(worker)
    worker.stays(lambda: set(lapse_emails_written(worker, approved).values()) == {1}, "a lapse email was sent twice")

    rows = OutboxMessage.objects.filter(dedup_key__endswith=":lapsed")
    assert sorted(rows.values_list("dedup_key", flat=True)) == sorted(lapse_emails_written(worker, approved))
    assert {(row.status, row.attempts) for row in rows} == {(OutboxMessage.Status.SENT, 1)}
    assert lapse_entries(approved).count() == APPROVED_BEFORE_THE_DEADLINE
    assert {application.status for application in approved} == {ApplicationStatus.LAPSED}


def test_acks_late_only_on_tasks_proven_idempotent():
    """A task that acknowledges late runs again after a lost worker or ack: only tasks whose second delivery is
    proven harmless may do that. A new acks_late task fails here until it joins IDEMPOTENT_ACKS_LATE with the
    test that proves it (a second delivery: same state, no second email)."""
    celery_app.loader.import_default_modules()  # the tasks modules that autodiscover_tasks() would load
    assert "portal.tasks.run_sweeps" in celery_app.tasks
    acks_late = {name for name, task in celery_app.tasks.items() if task.acks_late}
    unproven = acks_late - set(IDEMPOTENT_ACKS_LATE)
    assert not unproven, f"acks_late tasks without a proof of idempotence: {sorted(unproven)}"
    for name, proof in IDEMPOTENT_ACKS_LATE.items():
        module, test = proof.split("::")
        assert callable(getattr(importlib.import_module(module), test, None)), f"{name}: the proof {proof} is gone"
    assert not celery_app.conf.task_acks_late, "acks_late for every task: each must be proven idempotent"
