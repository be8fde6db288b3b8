"""Runs the scenario groups and writes var/bench/latest.json."""

import json
import platform
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from . import database
from .common import Results

GROUPS = ("admin", "dashboard", "write", "reschedule", "import", "export", "outbox", "load", "booking")
NATIONAL_GROUPS = ("admin", "dashboard", "write")
ADMIN_SCENARIOS = (
    "changelist_reviewer_large_office",
    "changelist_regional",
    "changelist_regional_overdue",
    "changelist_regional_search_document",
    "ticket_inbox_regional",
    "application_change_view",
)
OUT = Path(settings.BASE_DIR) / "var" / "bench"


def run(args, env):
    scale = args.scale
    meta = database.prepare(scale, env["DATABASE_URL"].rsplit("/", 1)[1])
    keep_registration_open()
    groups = args.only or (NATIONAL_GROUPS if scale == "national" else GROUPS)
    results = Results()
    started = time.monotonic()
    print(f"[bench] scale={scale} applications={meta['applications']} runs={args.runs} groups={','.join(groups)}")
    if "admin" in groups:
        from .admin_scenarios import scenarios

        for name, figures, target, extra_ok in scenarios(meta, args.runs):
            ok = figures["median_ms"] <= target and extra_ok is not False
            results.add(name, {**figures, "target_ms": target, "ok": ok})
    if "dashboard" in groups:
        from .dashboard_scenarios import scenarios as dashboard_scenarios

        for name, figures, target, extra_ok in dashboard_scenarios(meta, args.runs):
            ok = figures["median_ms"] <= target and extra_ok is not False
            results.add(name, {**figures, "target_ms": target, "ok": ok})
    if "write" in groups:
        from .write_scenarios import batch_approve, reminder_sweep

        batch_approve(results, meta, runs=3)
        reminder_sweep(results, meta, runs=3)
    if "reschedule" in groups:
        from .write_scenarios import reschedule_extend_registration

        reschedule_extend_registration(results, meta)
    if "import" in groups:
        from .write_scenarios import payment_import

        payment_import(results, meta)
    if "export" in groups:
        from .write_scenarios import export

        export(results, meta, env)
    if "outbox" in groups:
        from .load import outbox_sending

        outbox_sending(results, env)
    if "load" in groups:
        from .load import load_scenarios

        load_scenarios(results, meta, env)
    if "booking" in groups:
        from .booking_scenarios import booking_rush

        booking_rush(results, env)
    if scale == "national":
        compare_with_regional(results)
    write(results, scale, meta, time.monotonic() - started)
    return 0


def keep_registration_open():
    """A reused database may be days old: keep the current session's registration open now (the submit
    scenario needs it), moving its dates as a whole."""
    from applications.models import ExamSession

    from .generate import session_dates

    current = ExamSession.objects.current()
    now = timezone.now()
    if current.registration_opens <= now < current.registration_closes - timezone.timedelta(hours=2):
        return
    opens = (now - timezone.timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    ExamSession.objects.filter(pk=current.pk).update(**session_dates(current.year, opens))


def compare_with_regional(results):
    path = OUT / "latest-regional.json"
    if not path.exists():
        print("[bench] no regional figures (var/bench/latest-regional.json): run `make bench` first for the ratio")
        return
    regional = json.loads(path.read_text())["scenarios"]
    # The target compares pages (the "same page at ten times the rows"); the sweeps work on the same
    # 50,000 approved, unpaid applications at both scales and keep their own targets.
    for name in [name for name in results.rows if name in ADMIN_SCENARIOS]:
        ours, base = results.rows[name], regional.get(name, {})
        key = "median_ms" if "median_ms" in ours else "seconds" if "seconds" in ours else None
        if key and base.get(key):
            ratio = ours[key] / base[key]
            results.add(
                f"national_ratio_{name}",
                {"national": ours[key], "regional": base[key], "ratio": ratio, "target_ratio": 1.5, "ok": ratio <= 1.5},
            )


def write(results, scale, meta, seconds):
    OUT.mkdir(parents=True, exist_ok=True)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    import os

    document = {
        "scale": scale,
        "finished_at": timezone.now().isoformat(),
        "seconds": round(seconds, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": pg,
            "platform": platform.platform(),
        },  # fmt: skip
        "data": {k: v for k, v in meta.items() if not isinstance(v, list)},
        "scenarios": results.rows,
    }
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    (OUT / "latest.json").write_text(text)
    (OUT / f"latest-{scale}.json").write_text(text)
    print(f"[bench] figures written to {OUT / 'latest.json'} ({seconds:.0f} s)")
