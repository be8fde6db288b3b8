"""Shared fixtures: the named staff of DESIGN.md, real services, and the rule that CI skips nothing."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.utils import translation

from portal.celery import app as celery_app

CI = os.environ.get("CI", "").lower() == "true"
TEST_REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def use_result_backend(url):
    """Where this process's tasks report their state (spreadsheet jobs report their progress there)."""
    celery_app.conf.result_backend = url
    # Celery keeps the backend it made for the previous URL (once for the app, or once per thread).
    celery_app._backend_cache = None
    vars(celery_app._local).pop("backend", None)


# Eager tasks (the default of the tests, below) keep their states in this process's memory; tests against a real
# worker use the test Redis for both (tests/worker.py).
use_result_backend("cache+memory://")


def require(available: bool, reason: str):
    """Skip a test whose service is missing, except under CI=true, where that is a failure."""
    if available:
        return
    if CI:
        pytest.fail(f"{reason} (CI=true: no test may be skipped for a missing service)")
    pytest.skip(reason)


def on_postgres():
    return django_settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def bulk_query_limit(postgres_limit=20):
    """A bound on the queries of a bulk operation over a few hundred rows. SQLite splits a bulk insert into
    batches of at most 999 parameters, so it needs a few more queries; either bound is far below per-row."""
    return postgres_limit if on_postgres() else 2 * postgres_limit


def redis_available():
    import redis

    try:
        return redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture(autouse=True)
def _services_for_markers(request):
    if request.node.get_closest_marker("postgres"):
        require(on_postgres(), "needs PostgreSQL (set DATABASE_URL or start it on 127.0.0.1:5432)")
    if request.node.get_closest_marker("redis"):
        require(redis_available(), f"needs Redis at {TEST_REDIS_URL}")


@pytest.fixture(autouse=True)
def _fresh_cache(settings, tmp_path):
    """Rate-limit counters and cached values of one test must not leak into the next (Redis in CI). Without
    Redis the cache is files under var/cache: each test gets its own folder, so parallel runs share nothing."""
    from django.core.cache import cache

    if settings.CACHES["default"]["BACKEND"].endswith(".FileBasedCache"):
        settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": tmp_path / "cache"}}
    cache.clear()


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    """Uploaded and generated files of a test go to its own folder, never to var/."""
    settings.MEDIA_ROOT = tmp_path / "uploads"
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Unit tests run tasks in-process; tests against a real worker switch this off.
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Tests that commit (live server, transactional) flush the database afterwards, data-migration
    rows included: recreate offices, the 2024 session and the help entries before each of them."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    if transactional or {"transactional_db", "live_server"} & set(request.fixturenames):
        request.getfixturevalue("transactional_db")
        from portal.seed import create_reference_data

        create_reference_data()


@pytest.fixture
def during_the_2024_session(time_machine):
    """The clock inside the 2024 session's registration (FAQ 1: it closes 2024-07-02 12:00), for tests that decide
    on its applications at the real time: returning for correction after registration close, or approving after
    payment close, has no effect and is refused (applications/workflow.py)."""
    import datetime

    from offices.workdays import BEIJING

    time_machine.move_to(datetime.datetime(2024, 6, 25, 10, tzinfo=BEIJING), tick=True)


@pytest.fixture
def current_2025(session_2024):
    """The 2025 session (tests/applications/test_exam_session.py), saved and made current."""
    from tests.applications.test_exam_session import session_2025

    session = session_2025()
    session.full_clean()
    session.save()
    session.make_current()
    return session


@pytest.fixture
def session_2024(db):
    from applications.models import ExamSession

    return ExamSession.objects.get(year=2024)


@pytest.fixture
def urumqi(db):
    from offices.models import Office

    return Office.objects.get(code="650100")


@pytest.fixture
def kashgar(db):
    from offices.models import Office

    return Office.objects.get(code="653100")


@pytest.fixture
def english():
    """Messages in English, for tests that read them outside a request."""
    with translation.override("en"):
        yield


STAFF = {
    # username: (office, role) — the named users of every test
    "reviewer_urumqi": ("650100", "reviewer"),
    "manager_urumqi": ("650100", "manager"),
    "reviewer_kashgar": ("653100", "reviewer"),
    "regional_admin": ("650000", "regional"),
}
PASSWORD = "correct-horse-battery"


@pytest.fixture
def staff(db):
    from offices.models import Office, User

    return {
        username: User.objects.create_staff(
            username, office=Office.objects.get(code=code), role=role, password=PASSWORD
        )
        for username, (code, role) in STAFF.items()
    }


@pytest.fixture
def reviewer_urumqi(staff):
    return staff["reviewer_urumqi"]


@pytest.fixture
def manager_urumqi(staff):
    return staff["manager_urumqi"]


@pytest.fixture
def reviewer_kashgar(staff):
    return staff["reviewer_kashgar"]


@pytest.fixture
def regional_admin(staff):
    return staff["regional_admin"]


@pytest.fixture
def client_of(client):
    """client_of(user): the test client logged in as that staff member."""

    def login(user):
        client.force_login(user)
        return client

    return login


def compile_messages():
    """Compile each catalogue of LOCALE_PATHS whose .mo is missing or older than its .po, as `make` does, so that a
    bare `pytest` on a fresh clone speaks Chinese: with gettext's msgfmt when there is one (the same check as the
    Makefile), else with polib. Returns the .mo files written."""
    msgfmt = shutil.which("msgfmt")
    written = []
    for po in sorted(po for folder in django_settings.LOCALE_PATHS for po in Path(folder).glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        partial = mo.with_name(f".{mo.name}.{os.getpid()}")  # a run started alongside never reads half a file
        try:
            if msgfmt:
                subprocess.run([msgfmt, "--check-format", "-o", str(partial), str(po)], check=True)
            else:
                import polib

                polib.pofile(str(po)).save_as_mofile(str(partial))
            partial.replace(mo)
        finally:
            partial.unlink(missing_ok=True)
        written.append(mo)
    return written


def pytest_configure(config):
    if compile_messages():
        # Django was set up before this file was read: forget any catalogue it read without these.
        setting_changed.send(sender=None, setting="LOCALE_PATHS", value=django_settings.LOCALE_PATHS, enter=False)


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if CI and skipped:
        reporter.write_line(f"CI=true but {len(skipped)} test(s) were skipped: failing the run.", red=True)
        session.exitstatus = 1
