"""A real Celery worker process on Redis, for the tests that eager tasks cannot answer (tests/notifications/
test_worker.py, tests/security/test_worker_reliability.py, tests/portal/test_spreadsheet_jobs_worker.py). A test
module takes the two fixtures by assignment:

    from tests import worker as worker_helpers

    celery_worker_process = worker_helpers.celery_worker_process
    worker = worker_helpers.worker

Rows must be committed for the worker to see them: such modules are transactional (and need PostgreSQL).

Other test runs may share the Redis database at the same time (each engineer's full suite includes these modules):
each module gets its own queue and worker name, so no worker takes another run's tasks (its claim would look in
the wrong database), and nothing is flushed from under another run. The worker writes emails as files into its
own folder (`Worker.emails()`), and its runtime files under its own folder too, never under the repository's var/.
Task states (the progress of spreadsheet jobs) go to the test Redis, where this process reads them too.
"""

import contextlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import kombu.pools
import pytest
import redis
from django.db import connection

from portal.celery import app as celery_app
from tests.conftest import TEST_REDIS_URL, on_postgres, redis_available, require, use_result_backend

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKER_START_SECONDS = 60
DELIVERY_SECONDS = 30
QUIET_SECONDS = 3
# `celery -A portal worker ...`, except that what the worker itself sends (the emails a sweep queues) goes to
# this run's queue too, not to the default queue that another run's worker, or none, would take.
WORKER_MAIN = (
    "import sys; from portal.celery import app; "
    "app.conf.task_default_queue = sys.argv[1]; app.worker_main(sys.argv[2:])"
)


class Worker:
    def __init__(self, process, log_path, mail_dir, media_root):
        self.process = process
        self.log_path = log_path
        self.mail_dir = mail_dir
        self.media_root = media_root  # its uploads: a test that hands it files stores them here

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

    def succeeded(self, *results):
        """Whether the worker logged the success of every one of these tasks (AsyncResults of delay())."""
        log = self.log()
        return all(f"[{result.id}] succeeded" in log for result in results)

    def stays(self, condition, what, seconds=QUIET_SECONDS):
        """Fail if `condition` turns false within `seconds` (nothing more arrives late)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert condition(), f"{what}; worker log:\n{self.log()[-5000:]}"
            time.sleep(0.2)


def database_url():
    """The test database (its name is known only once pytest-django has created it)."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = db["HOST"] or "localhost"
    port = db["PORT"] or 5432
    return f"postgres://{quote(db['USER'], safe='')}{password}@{host}:{port}/{quote(db['NAME'], safe='')}"


def use_broker(url, queue, result_backend):
    """Send this process's tasks to `queue` on `url` (and read their states from `result_backend`), dropping
    connections pooled for the previous broker."""
    # kombu keeps one pool per broker URL for the whole process: close them all and forget them, so that the
    # next module using a worker gets new ones rather than the closed pool of the previous module.
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    with contextlib.suppress(AttributeError, KeyError):
        del celery_app.control.mailbox.producer_pool  # cached: it would keep a closed pool
    celery_app.conf.broker_url = url
    # The router reads the default queue at each send, so tasks without a route follow this setting.
    celery_app.conf.task_default_queue = queue
    use_result_backend(result_backend)


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
    previous = celery_app.conf.broker_url, celery_app.conf.task_default_queue, celery_app.conf.result_backend
    use_broker(TEST_REDIS_URL, queue, TEST_REDIS_URL)
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
        "CELERY_RESULT_BACKEND": TEST_REDIS_URL,  # the progress of spreadsheet jobs
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PORTAL_VAR_DIR": str(base / "var"),
        "PORTAL_MEDIA_ROOT": str(base / "uploads"),
    }
    env.pop("EMAIL_HOST", None)  # an SMTP host in the caller's environment would override the file backend
    command = [
        sys.executable,
        "-c",
        WORKER_MAIN,
        queue,
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

    worker = Worker(process, log_path, mail_dir, base / "uploads")
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
