"""The admin index's dashboard (issue 11) measured in-process, its figures checked against plain COUNT queries.

The season figures are cached for a short while in production (portal/dashboard.py); here the cache is emptied
before every request, so that each measured page computes every figure."""

import time

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from applications.models import Application, ExamSession, Status
from offices.models import Role, User
from portal import dashboard
from tickets.models import OPEN_STATUSES as TICKET_OPEN_STATUSES
from tickets.models import Status as TicketStatus
from tickets.models import Ticket

from .admin_scenarios import ADMIN, client_for, get, use_bench_urls
from .common import measure, summary

TARGET_MS = 150


def cold(client):
    def request():
        cache.clear()
        response = client.get(ADMIN)
        if response.status_code != 200:
            raise RuntimeError(f"{ADMIN}: HTTP {response.status_code}")
        return response

    return request


def plain_counts(user, now):
    """The figures again, one plain COUNT per figure and office, written from the rules' text (not from
    dashboard.py's conditions)."""
    session = ExamSession.objects.current()
    apps = Application.objects.for_user(user)
    tickets = Ticket.objects.for_user(user)
    counts = {
        "due_today": apps.due_today(now).count(),
        "overdue": apps.overdue(now).count(),
        "in_person": apps.filter(status=Status.IN_PERSON_REVIEW).count(),
        "payment_closing": apps.payment_closing_soon(session, now).count(),
        "undecided_before_close": apps.undecided_before_close(session, now).count(),
        "undecided_after_close": apps.undecided_after_close(session, now).count(),
        "t_due_today": tickets.due_today(now).count(),
        "t_overdue": tickets.overdue(now).count(),
        "t_escalated": tickets.filter(status=TicketStatus.ESCALATED).count(),
        "t_mine": tickets.open().filter(assigned_to=user).count(),
    }
    by_kind = {
        (row["kind"], row["status"]): row["n"]
        for row in tickets.filter(status__in=TICKET_OPEN_STATUSES).values("kind", "status").annotate(n=Count("pk"))
    }
    return counts, by_kind


def figures_wrong(user, now):
    figures = dashboard.office_figures(user, now)
    counts, by_kind = plain_counts(user, now)
    ours = {f["key"]: f["count"] for f in figures["applications"]}
    ours.update({f"t_{f['key']}": f["count"] for f in figures["tickets"]})
    wrong = sum(ours[key] != counts[key] for key in counts)
    for kind, row in zip(dashboard.Kind, figures["ticket_kinds"], strict=True):
        for status, cell in zip(dashboard.TICKET_STATUS_COLUMNS, row["cells"], strict=True):
            wrong += cell["count"] != by_kind.get((kind.value, status.value), 0)
    if user.sees_all_offices:
        table = dashboard.regional_table(user, now)
        for row in table["rows"]:
            code = row["office"].code
            apps = Application.objects.filter(office_id=code)
            tickets = Ticket.objects.filter(office_id=code)
            expected = [
                apps.due_today(now).count(),
                apps.overdue(now).count(),
                apps.filter(status=Status.IN_PERSON_REVIEW).count(),
                apps.payment_closing_soon(ExamSession.objects.current(), now).count(),
                apps.undecided_before_close(ExamSession.objects.current(), now).count(),
                apps.undecided_after_close(ExamSession.objects.current(), now).count(),
                tickets.due_today(now).count(),
                tickets.overdue(now).count(),
                tickets.filter(status=TicketStatus.ESCALATED).count(),
            ]
            wrong += sum(cell[0] != value for cell, value in zip(row["cells"], expected, strict=True))
    # Season: per-day sums against plain counts of the session.
    session = ExamSession.objects.current()
    season = dashboard.season_figures(user, now)
    scoped = Application.objects.for_user(user).filter(session=session)
    wrong += season["decided"] != scoped.filter(decided_at__isnull=False).count()
    for field, key in (("submitted_at", "submitted"), ("decided_at", "decided"), ("paid_at", "paid")):
        in_days = sum(day[key] for day in season["days"])
        first, last = season["days"][0]["day"], season["days"][-1]["day"]
        wrong += in_days != scoped.filter(**{f"{field}__date__gte": first, f"{field}__date__lte": last}).count()
    return wrong


def quiet_office():
    row = (
        Application.objects.exclude(office__code="650000")
        .values("office")
        .annotate(n=Count("pk"))
        .order_by("n")
        .first()
    )
    return row["office"]


def scenarios(meta, runs):
    """(name, figures, target_ms, extra check)"""
    use_bench_urls()
    now = timezone.now()
    results = []
    large = User.objects.get(username="bench_reviewer_large")
    quiet = User.objects.filter(office_id=quiet_office(), role=Role.REVIEWER, is_active=True).first()
    figures = summary(measure(cold(client_for(large.username)), runs))
    quiet_figures = summary(measure(cold(client_for(quiet.username)), runs))
    figures["quiet_office"] = quiet.office_id
    figures["quiet_median_ms"] = quiet_figures["median_ms"]
    warm = summary(measure(get(client_for(large.username), ADMIN), runs))
    figures["warm_median_ms"], figures["warm_queries"] = warm["median_ms"], warm["queries"]
    figures["queries_quiet_office"] = quiet_figures["queries"]
    figures["figures_wrong"] = figures_wrong(large, now) + figures_wrong(quiet, now)
    fixed = figures["queries"] == quiet_figures["queries"]
    results.append(("dashboard_reviewer_large_office", figures, TARGET_MS, fixed and figures["figures_wrong"] == 0))
    regional = User.objects.get(username="bench_regional")
    figures = summary(measure(cold(client_for(regional.username)), runs))
    # Within SEASON_CACHE_SECONDS of a first view the season figures come from the cache (what most views get).
    warm = summary(measure(get(client_for(regional.username), ADMIN), runs))
    figures["warm_median_ms"], figures["warm_queries"] = warm["median_ms"], warm["queries"]
    figures["figures_wrong"] = figures_wrong(regional, now)
    results.append(("dashboard_regional", figures, TARGET_MS, figures["figures_wrong"] == 0))
    # Beat computes the season figures of every scope ahead each minute (portal.tasks.refresh_dashboard): the warm
    # figures above are then what staff get; the cold ones (the targets' measure) what they get when beat stops.
    started = time.perf_counter()
    summary_line = dashboard.refresh_season_figures(now)
    refresh_ms = (time.perf_counter() - started) * 1000
    # The worker's minute: its own budget (60 s), not the page's.
    results.append(("dashboard_refresh_every_scope", {"median_ms": refresh_ms, "runs": 1, "summary": summary_line},
                    60_000, True))  # fmt: skip
    return results
