"""The outbox against a real Celery worker process on Redis: what eager tests cannot show.

A task delivered twice (acks_late, a lost ack, the sweep) must send one email, and a worker in its own process,
with its own database connection, must record what went wrong on the row. Rows are committed
(transactional tests) so that the worker sees them.

Other test runs may share the Redis database at the same time (each engineer's full suite includes this module):
each run gets its own queue and worker name, so no worker takes another run's tasks (its claim would look in the
wrong database), and nothing is flushed from under another run.
"""

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.db import connection, transaction

from notifications.models import OutboxMessage, enqueue_email
from notifications.tasks import send_email
from portal.celery import app as celery_app
from tests.conftest import TEST_REDIS_URL, on_postgres, redis_available, require

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER_START_SECONDS = 60
DELIVERY_SECONDS = 30
QUIET_SECONDS = 3


class Worker:
    def __init__(self, process, log_path, mail_dir):
        self.process = process
        self.log_path = log_path
        self.mail_dir = mail_dir

    def log(self):
        return self.log_path.read_text(errors="replace")

    def emails(self):
        return sorted(self.mail_dir.iterdir())

    def wait_for(self, condition, what, seconds=DELIVERY_SECONDS):
        """Poll `condition` until it returns something true; fail with the worker's log after `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            result = condition()
            if result:
                return result
            assert self.process.poll() is None, f"the worker exited while waiting for {what}:\n{self.log()[-5000:]}"
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} after {seconds} s; worker log:\n{self.log()[-5000:]}")
            time.sleep(0.2)


def database_url():
    """The test database (its name is known only once pytest-django has created it)."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = db["HOST"] or "localhost"
    port = db["PORT"] or 5432
    return f"postgres://{quote(db['USER'], safe='')}{password}@{host}:{port}/{quote(db['NAME'], safe='')}"


def use_broker(url, queue):
    """Send this process's tasks to `queue` on `url`, dropping connections pooled for the previous broker."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url
    # The router reads the default queue at each send, so tasks without a route follow this setting.
    celery_app.conf.task_default_queue = queue


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def celery_worker_process(request, django_db_setup, tmp_path_factory):
    require(on_postgres(), "needs PostgreSQL (set DATABASE_URL or start it on 127.0.0.1:5432)")
    require(redis_available(), f"needs Redis at {TEST_REDIS_URL}")

    queue = f"outbox-test-{uuid.uuid4().hex[:12]}"
    node = f"{queue}@localhost"
    previous = celery_app.conf.broker_url, celery_app.conf.task_default_queue
    use_broker(TEST_REDIS_URL, queue)
    request.addfinalizer(lambda: use_broker(*previous))
    keys = (queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    request.addfinalizer(lambda: redis.Redis.from_url(TEST_REDIS_URL).delete(*keys))

    base = tmp_path_factory.mktemp("celery-worker")
    mail_dir = base / "mail"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": TEST_REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    env.pop("EMAIL_HOST", None)  # an SMTP host in the caller's environment would override the file backend
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "portal",
        "worker",
        "--pool",
        "solo",
        "--concurrency",
        "1",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--queues",
        queue,
        "--hostname",
        node,
    ]
    log_path = base / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    request.addfinalizer(lambda: stop(process))

    def answers_ping():
        return celery_app.control.ping(destination=[node], timeout=1)

    worker = Worker(process, log_path, mail_dir)
    worker.wait_for(answers_ping, "answer to ping", seconds=WORKER_START_SECONDS)
    return worker


@pytest.fixture
def worker(celery_worker_process, _fast_tests):
    """The running worker, with this process sending tasks to it (after conftest made them eager)."""
    celery_app.conf.task_always_eager = False
    shutil.rmtree(celery_worker_process.mail_dir)
    celery_worker_process.mail_dir.mkdir()
    yield celery_worker_process
    celery_app.conf.task_always_eager = True


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
