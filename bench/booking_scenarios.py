"""booking_rush: candidates of one office book visits at the opening of registration (issue 14).

wrk with 20 connections for 30 s POSTs slots to the private visit pages of fresh requests of one office, each request
once; the slots are drawn at random from the office's next days, so that popular ones fill up and later bookings
are refused with other times (HTTP 200, counted apart). Bookings per second are the bookings the database holds
afterwards over the run's duration; the check afterwards: no slot holds more bookings than places, neither by its
counter nor by its booking rows. Everything made here is deleted afterwards.
"""

import secrets
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from .load import LUA, THREADS, WORKERS, csrf_pair, free_port, serve_env, start, stop, wait_until_up, wrk

OFFICE = "650100"
REQUESTS = 8_000
COUNTERS = 20
SCOPE = "bench-visit:"


def create_requests(office, count, now):
    """Password-reset requests (no deadline) of existing candidates, made in bulk; their visit pages are the targets."""
    from applications.models import Candidate
    from core.references import new_reference
    from tickets.models import Kind, Ticket

    candidates = list(Candidate.objects.order_by("pk").values_list("pk", flat=True)[:count])
    tickets = [
        Ticket(
            reference=new_reference("P"),
            status_token=secrets.token_urlsafe(32),
            kind=Kind.PASSWORD_RESET,
            office=office,
            candidate_id=candidates[n % len(candidates)],
            scope_key=f"{SCOPE}{n}",
            email=f"visit{n}@example.com",
            phone="13800138000",
            submitted_at=now,
            due_at=now + timezone.timedelta(days=5),
        )
        for n in range(count)
    ]
    Ticket.objects.bulk_create(tickets, batch_size=2000)
    return [t.status_token for t in tickets]


def remove(office):
    """Raw SQL: the ORM's delete would write an audit entry per row (the bench data stays as generated)."""
    with transaction.atomic(), connection.cursor() as cursor:
        ours = "SELECT id FROM tickets_ticket WHERE scope_key LIKE %s"
        like = f"{SCOPE}%"
        cursor.execute(
            "DELETE FROM auditlog_logentry WHERE content_type_id = "
            "(SELECT id FROM django_content_type WHERE app_label = 'appointments' AND model = 'booking') "
            "AND object_pk IN (SELECT id::text FROM appointments_booking WHERE office_id = %s)",
            [office.pk],
        )
        cursor.execute("DELETE FROM notifications_outboxmessage WHERE dedup_key LIKE 'booking:%%'")
        cursor.execute("DELETE FROM appointments_booking WHERE office_id = %s", [office.pk])
        cursor.execute("DELETE FROM appointments_slot WHERE office_id = %s", [office.pk])
        cursor.execute("DELETE FROM appointments_countersettings WHERE office_id = %s", [office.pk])
        cursor.execute(f"DELETE FROM tickets_ticketevent WHERE ticket_id IN ({ours})", [like])  # noqa: S608
        cursor.execute("DELETE FROM tickets_ticket WHERE scope_key LIKE %s", [like])


def overbooked(office):
    from appointments.models import Slot

    by_counter = Slot.objects.filter(office=office, booked__gt=F("capacity")).count()
    by_rows = (
        Slot.objects.filter(office=office)
        .annotate(n=Count("bookings", filter=Q(bookings__status="booked")))
        .filter(Q(n__gt=F("capacity")) | ~Q(n=F("booked")))
        .count()
    )
    return by_counter, by_rows


def booking_rush(results, env):
    from appointments import booking as rules
    from appointments.models import Booking, CounterSettings, Slot
    from offices.models import Office
    from tickets.models import Ticket

    if not shutil.which("wrk"):
        print("[bench] wrk is missing (apt-get install -y wrk): booking_rush skipped")
        return
    office = Office.objects.get(code=OFFICE)
    remove(office)  # a run that was interrupted
    now = timezone.now()
    CounterSettings.objects.create(office=office, counters=COUNTERS, days_ahead=14, kinds=["password_reset"])
    tokens = create_requests(office, REQUESTS, now)
    first = Ticket.objects.get(status_token=tokens[0])
    slots = rules.available_slots(first, now)  # the slot rows, as the first visitors' pages make them
    values = [timezone.localtime(s.starts_at).isoformat() for s in slots]
    work = Path(tempfile.mkdtemp(prefix="bench-booking-"))
    (work / "tokens.txt").write_text("\n".join(tokens) + "\n")
    (work / "slots.txt").write_text("\n".join(values) + "\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(settings.BASE_DIR) / "var" / "bench" / "gunicorn-booking.log"
    command = [str(Path(settings.BASE_DIR) / ".venv" / "bin" / "gunicorn"), "portal.wsgi", "--bind",
               f"127.0.0.1:{port}", "--workers", str(WORKERS), "--log-level", "warning"]  # fmt: skip
    gunicorn = start(command, serve_env(env), log_path)
    try:
        wait_until_up(f"{base}/zh-hans/", gunicorn)
        secret, token = csrf_pair()
        figures = wrk(f"{base}/", LUA / "book.lua", [str(work / "tokens.txt"), str(work / "slots.txt"), secret, token,
                      str(THREADS)])  # fmt: skip
        booked = Booking.objects.filter(office=office, status="booked").count()
        by_counter, by_rows = overbooked(office)
        places = sum(s.capacity for s in Slot.objects.filter(office=office))
        seconds = int(figures["wrk"].rsplit("-d", 1)[1].rstrip("s"))
        per_s = booked / seconds
        ok = per_s >= 50 and figures["p95_ms"] <= 300 and not figures["errors"] and by_counter == by_rows == 0
        results.add(
            "booking_rush",
            {"bookings_per_s": per_s, "requests_per_s": figures["per_s"], "p95_ms": figures["p95_ms"],
             "p50_ms": figures["p50_ms"], "booked": booked, "requests": figures["requests"], "slots": len(slots),
             "places": places, "overbooked_slots": by_counter, "slots_disagreeing_with_rows": by_rows,
             "errors": figures["errors"], "target_per_s": 50, "target_p95_ms": 300, "ok": ok},
            note=f"gunicorn {WORKERS} sync workers; {figures['wrk']}; office {OFFICE}, {COUNTERS} counters per slot, "
            f"random slots of the next 14 days; 302 booked, 200 refused (full: other times offered)",
        )  # fmt: skip
    finally:
        stop(gunicorn)
        shutil.rmtree(work, ignore_errors=True)
        remove(office)
