"""No overbooking, ever (PostgreSQL): many threads compete for the last places of one slot. Exactly `capacity`
bookings win; every other thread gets a clear refusal with other free slots, and the slot row never holds more
bookings than places."""

import threading

import pytest
from django.db import connection
from django.utils import translation

from appointments import booking as rules
from appointments.models import Booking, BookingRefused, CounterSettings, Slot, Status
from offices.models import Office
from tests.appointments.helpers import at, password_reset

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 16
CAPACITY = 3
NOW = at(2024, 6, 20, 8)
START = at(2024, 6, 21, 10)


def test_many_threads_compete_for_the_last_places():
    office = Office.objects.get(code="650100")
    CounterSettings.objects.create(office=office, counters=CAPACITY, kinds=["password_reset"])
    tickets = [password_reset(office, now=NOW) for _ in range(THREADS)]
    rules.available_slots(tickets[0], NOW)  # the slot rows exist, as on the page the candidates saw
    barrier = threading.Barrier(THREADS)
    results = [None] * THREADS

    def run(index):
        try:
            barrier.wait(timeout=20)
            with translation.override("en"):
                results[index] = rules.book(tickets[index], START, NOW)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    won = [r for r in results if isinstance(r, Booking)]
    refused = [r for r in results if isinstance(r, BookingRefused)]
    assert len(won) == CAPACITY and len(refused) == THREADS - CAPACITY, results
    assert {r.code for r in refused} == {"full"}
    assert all("was just taken" in r.message and r.alternatives for r in refused)
    assert all(START not in [s.starts_at for s in r.alternatives] for r in refused)
    slot = Slot.objects.get(office=office, starts_at=START)
    assert (slot.booked, slot.capacity) == (CAPACITY, CAPACITY)
    assert Booking.objects.filter(slot=slot, status=Status.BOOKED).count() == CAPACITY
