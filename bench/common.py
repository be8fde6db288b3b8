"""Timing, statistics and the printed line of a scenario."""

import gc
import math
import statistics
import time
from contextlib import contextmanager

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext


def p95(values):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def fmt(value):
    if isinstance(value, float):
        return f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class Results:
    def __init__(self):
        self.rows = {}

    def add(self, name, fields, note=None):
        """Print `name key=value ...` (ok last) and keep the figures for latest.json."""
        line = " ".join(f"{key}={fmt(value)}" for key, value in fields.items() if key != "ok")
        line = f"{name} {line} ok={fmt(fields['ok'])}"
        print(line, flush=True)
        if note:
            print(f"  # {note}", flush=True)
        self.rows[name] = {**fields, "ok": bool(fields["ok"]), **({"note": note} if note else {})}
        return fields


@contextmanager
def rolled_back():
    """Run a writing scenario in a transaction that is undone afterwards: the data stays reusable, and the
    emails it queues are never handed to a broker (on_commit never fires)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def measure(function, runs, warmup=1):
    """[(ms, queries, sql_ms, result)] of `runs` calls after `warmup` ones. The garbage of the scenarios before
    (the plain admin's pages at the national scale build millions of objects) is collected first, so that no
    page pays for another's."""
    gc.collect()
    samples = []
    for n in range(warmup + runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = function()
            elapsed = (time.perf_counter() - started) * 1000
        if n >= warmup:
            sql = sum(float(q["time"]) for q in queries.captured_queries) * 1000
            samples.append((elapsed, len(queries), sql, result))
    return samples


def summary(samples):
    times = [s[0] for s in samples]
    return {
        "median_ms": statistics.median(times),
        "p95_ms": p95(times),
        "queries": int(statistics.median([s[1] for s in samples])),
        "sql_ms": statistics.median([s[2] for s in samples]),
    }
