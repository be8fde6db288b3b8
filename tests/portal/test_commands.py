import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from applications.models import Application, ExamSession, Status
from offices.models import User
from offices.workdays import BEIJING
from portal.management.commands.demo import DEMO_ACCOUNTS
from tickets.models import DuplicatePayment, Kind, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def snapshot():
    return (
        list(User.objects.order_by("username").values_list("username", "office_id", "role", "password")),
        list(ExamSession.objects.order_by("year").values()),
        sorted(Ticket.objects.values_list("reference", "status")),
        TicketEvent.objects.count(),
    )


def test_demo_loads_once_and_prints_logins(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 26, 10, tzinfo=BEIJING))
    output = run("demo")
    for username, _office, _role, password in DEMO_ACCOUNTS:
        assert username in output and password in output
    session = ExamSession.objects.current()
    assert session.registration_is_open(datetime.datetime(2026, 11, 26, 10, tzinfo=BEIJING))
    assert User.objects.get(username="reviewer_kashgar").office_id == "653100"
    assert User.objects.get(username="reviewer_urumqi").check_password("demo-reviewer-urumqi")

    statuses = set(Application.objects.values_list("status", flat=True))
    assert statuses == set(Status.values)
    now = datetime.datetime(2026, 11, 26, 10, tzinfo=BEIJING)
    assert Application.objects.overdue(now).exists()
    assert now < session.payment_closes <= now + datetime.timedelta(hours=24)
    assert Application.objects.filter(session=session, status=Status.APPROVED).exists()

    assert "sample-payments.xlsx" in output
    assert "sample-duplicate-payments.xlsx" in output
    assert set(Ticket.objects.values_list("kind", flat=True)) == set(Kind.values)
    assert Ticket.objects.filter(office_id="653100").exists()
    assert Ticket.objects.overdue(now).count() == 1

    before = snapshot()
    assert "loaded already" in run("demo")
    assert snapshot() == before


def test_demo_reset_recreates_relative_to_today(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 26, 10, tzinfo=BEIJING))
    run("demo")
    time_machine.move_to(datetime.datetime(2027, 5, 1, 10, tzinfo=BEIJING))
    run("demo", "--reset")
    session = ExamSession.objects.current()
    assert session.registration_is_open(datetime.datetime(2027, 5, 1, 10, tzinfo=BEIJING))
    assert ExamSession.objects.count() == 2  # 2024 and the new demo session
    assert User.objects.filter(username__in=[a[0] for a in DEMO_ACCOUNTS]).count() == 4
    # The requests were deleted before the applications and candidates they point at, and made again.
    assert Ticket.objects.filter(submitted_at__year=2026).count() == 0
    assert set(Ticket.objects.filter(session=session).values_list("kind", flat=True)) == {
        Kind.INFO_CHANGE,
        Kind.REFUND,
        Kind.EXEMPTION,
    }
    assert not DuplicatePayment.objects.exists()


def test_run_sweeps_as_of_a_moment():
    output = run("run_sweeps", "--now", "2024-07-02T18:00+08:00")
    assert "2024-07-02 18:00:00" in output
    assert "notifications.sweeps.requeue_stalled_emails:" in output


def test_run_sweeps_rejects_a_bad_moment():
    with pytest.raises(CommandError, match="not an ISO date"):
        call_command("run_sweeps", "--now", "tomorrow")


def test_make_run_keeps_the_worker_quiet_so_the_demo_logins_stay_in_sight():
    """`make run` prints the demo logins, then starts the three processes: the worker and beat print no banner and
    only warnings, so the logins are not buried under their start-up lines."""
    from pathlib import Path

    procfile = (Path(__file__).resolve().parents[2] / "Procfile.dev").read_text().splitlines()
    celery = [line for line in procfile if "celery" in line]
    assert len(celery) == 2
    for line in celery:
        assert " --quiet " in line and "--loglevel WARNING" in line, line
