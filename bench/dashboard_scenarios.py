"""The admin index's dashboard (issue 11) measured in-process, its figures checked against plain COUNT queries.

Nothing of the dashboard is cached; "cold" empties the cache before every request all the same (the sessions and
permissions Django keeps there), "warm" does not."""

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F
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
    decided = scoped.filter(decided_at__isnull=False)
    wrong += season["decided"] != decided.count()
    in_time = decided.filter(due_at__isnull=False, decided_at__lte=F("due_at")).count()
    wrong += season["in_time_percent"] != (round(100 * in_time / season["decided"]) if season["decided"] else None)
    wrong += not median_agrees(season["median_hours"], decided)
    for field, key in (("submitted_at", "submitted"), ("decided_at", "decided"), ("paid_at", "paid")):
        in_days = sum(day[key] for day in season["days"])
        first, last = season["days"][0]["day"], season["days"][-1]["day"]
        wrong += in_days != scoped.filter(**{f"{field}__date__gte": first, f"{field}__date__lte": last}).count()
    return wrong


def median_agrees(median_hours, decided):
    """The counters keep decision times to the tenth of an hour: their median is within 0.1 h of the exact one
    (PostgreSQL's percentile_cont over the rows)."""
    with connection.cursor() as cursor:
        sql, params = decided.values("pk").query.sql_with_params()
        exact = "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - submitted_at))"
        cursor.execute(f"SELECT {exact} FROM applications_application WHERE id IN ({sql})", params)  # noqa: S608
        seconds = cursor.fetchone()[0]
    if seconds is None:
        return median_hours is None
    return abs(median_hours - seconds / 3600) <= 0.1


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
    warm = summary(measure(get(client_for(regional.username), ADMIN), runs))
    figures["warm_median_ms"], figures["warm_queries"] = warm["median_ms"], warm["queries"]
    figures["figures_wrong"] = figures_wrong(regional, now)
    results.append(("dashboard_regional", figures, TARGET_MS, figures["figures_wrong"] == 0))
    return results
