"""The admin index's dashboard (issue 11): every figure is a COUNT over the rows the user may see.

Each figure is a conditional COUNT over `for_user(user)` (the one office-scoping method), in one aggregate query
per model: the number of queries does not depend on the office's size. The figure's `filter_query` is the
changelist query string that lists exactly those rows (the test compares both counts for every figure).
The season figures (per day, SLA record) are computed ahead for every scope by beat each minute
(refresh_season_figures) and kept in the cache for SEASON_CACHE_SECONDS; a page computes them only when missing.
"""

import datetime
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications import models as application_rows
from applications.models import NO_ROWS, OPEN_STATUSES, Application, ExamSession, Status
from appointments import figures as visit_figures
from offices import workdays
from offices.models import Office
from tickets import models as ticket_rows
from tickets.models import OPEN_STATUSES as TICKET_OPEN_STATUSES
from tickets.models import DuplicatePayment, InfoChange, Kind, Ticket, deadline_for
from tickets.models import Status as TicketStatus

# Beat refreshes the season figures each minute (refresh_season_figures); they expire if it stops.
SEASON_CACHE_SECONDS = 120


def figure_statuses(conditions):
    """Every application figure counts rows of these statuses: the aggregate reads only them (an index range);
    the approved ones only while payment closes within the window."""
    return (*OPEN_STATUSES, Status.APPROVED) if conditions["payment_closing"] != NO_ROWS else OPEN_STATUSES


APPLICATION_FIGURES = [
    # key, label, changelist filter
    ("due_today", _("Applications due today"), {"due": "today"}),
    ("overdue", _("Applications overdue"), {"due": "overdue"}),
    ("in_person", _("Waiting for in-person review"), {"status__exact": Status.IN_PERSON_REVIEW}),
    ("payment_closing", _("Approved, unpaid, payment closes within 24 hours"), {"attention": "payment_closing"}),
    ("undecided_before_close", _("Undecided, at risk at payment close"), {"attention": "undecided_before_close"}),
    (
        "undecided_after_close",
        _("Undecided at payment close: the candidate cannot pay"),
        {"attention": "undecided_after_close"},
    ),
]
TICKET_FIGURES = [
    ("due_today", _("Requests due today"), {"due": "today"}),
    ("overdue", _("Requests overdue"), {"due": "overdue"}),
    ("escalated", _("Requests with the regional office"), {"status__exact": TicketStatus.ESCALATED}),
]
# The figures shown in alarm colour when not zero (work late, candidates at risk, visits without a time).
ALERTS = {"overdue", "undecided_before_close", "undecided_after_close", "displaced"}
MY_FIGURE = ("mine", _("My open requests"), {"assignee": "mine_open"})


def application_conditions(session, now):
    """One Q per application figure: the conditions the changelist's filters use (applications/models.py)."""
    return {
        "due_today": application_rows.due_today_condition(now),
        "overdue": application_rows.overdue_condition(now),
        "in_person": Q(status=Status.IN_PERSON_REVIEW),
        "payment_closing": application_rows.payment_closing_condition(session, now),
        "undecided_before_close": application_rows.undecided_before_close_condition(session, now),
        "undecided_after_close": application_rows.undecided_after_close_condition(session, now),
    }


def ticket_conditions(user, now):
    """One Q per request figure: the conditions the changelist's filters use (tickets/models.py)."""
    return {
        "due_today": ticket_rows.due_today_condition(now),
        "overdue": ticket_rows.overdue_condition(now),
        "escalated": Q(status=TicketStatus.ESCALATED),
        "mine": ticket_rows.assigned_open_condition(user),
    }


# The figures count the office column (never null) rather than the id: COUNT(office_id) FILTER (…) reads only the
# covering partial index of the open applications (office, due_at INCLUDE status, session), an index-only scan;
# Django refuses COUNT(*) with a filter.


def _counts(queryset, conditions):
    # NO_ROWS would make Django raise EmptyResultSet inside the aggregate: count it as 0 without SQL.
    live = {key: q for key, q in conditions.items() if q != NO_ROWS}
    result = queryset.aggregate(**{key: Count("office", filter=q) for key, q in live.items()}) if live else {}
    return {key: result.get(key, 0) or 0 for key in conditions}


def _link(model, params, office=None):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    params = dict(params)
    if office is not None:
        params["office__code__exact"] = office
    return f"{url}?{urlencode(params)}"


def office_figures(user, now=None):
    """Today's work of the offices the user sees: [(label, count, link)] for applications and requests,
    the requests by kind and status, and the user's own open requests."""
    now = now or timezone.now()
    session = ExamSession.objects.current()
    conditions = application_conditions(session, now)
    apps = _counts(Application.objects.for_user(user).filter(status__in=figure_statuses(conditions)), conditions)
    tickets_qs = Ticket.objects.for_user(user)
    tickets = _counts(tickets_qs, ticket_conditions(user, now))
    by_kind = {}
    for row in tickets_qs.filter(status__in=TICKET_OPEN_STATUSES).values("kind", "status").annotate(n=Count("pk")):
        by_kind.setdefault(row["kind"], {})[row["status"]] = row["n"]
    kinds = [
        {
            "label": kind.label,
            "cells": [
                {
                    "count": by_kind.get(kind.value, {}).get(status.value, 0),
                    "link": _link(Ticket, {"kind__exact": kind.value, "status__exact": status.value}),
                }
                for status in TICKET_STATUS_COLUMNS
            ],
        }
        for kind in Kind
    ]
    return {
        "session": session,
        "applications": [
            {"key": key, "label": label, "count": apps[key], "link": _link(Application, params), "alert": key in ALERTS}
            for key, label, params in APPLICATION_FIGURES
        ],
        "tickets": [
            {"key": key, "label": label, "count": tickets[key], "link": _link(Ticket, params), "alert": key in ALERTS}
            for key, label, params in [*TICKET_FIGURES, MY_FIGURE]
        ],
        "ticket_statuses": [status.label for status in TICKET_STATUS_COLUMNS],
        "ticket_kinds": kinds,
        "deadlines": next_deadlines(session, now),
        "visits": visits(user, session, now),
    }


VISIT_FIGURES = [
    ("today", _("Visits booked today"), {"day": "today"}),
    ("checked_in", _("Checked in today"), {"day": "today", "status__exact": "checked_in"}),
    ("tomorrow", _("Visits booked tomorrow"), {"day": "tomorrow", "status__exact": "booked"}),
    ("displaced", _("Visits that need a new time"), {"day": "upcoming", "status__exact": "displaced"}),
]


def visits(user, session, now):
    """Counter visits: today's and tomorrow's, and the free places left before the in-person deadlines."""
    from appointments.models import Booking

    counts = visit_figures.visit_counts(user, now)
    deadlines = []
    if session is not None:
        # The requests' own in-person deadlines (tickets.models.deadline_for), not a second formula.
        registration = {"scope": InfoChange.Scope.REGISTRATION}
        deadlines = [
            (_("Free visit places before the exemption deadline"), deadline_for(Kind.EXEMPTION, session, {})),
            (
                _("Free visit places before the personal-info change deadline"),
                deadline_for(Kind.INFO_CHANGE, session, registration),
            ),
        ]
    free = visit_figures.free_places(user, [moment for _label, moment in deadlines], now)
    return {
        "figures": [
            {"key": key, "label": label, "count": counts[key], "link": _link(Booking, params), "alert": key in ALERTS}
            for key, label, params in VISIT_FIGURES
        ],
        "free": [
            {"label": label, "at": moment, "count": free[moment]} for label, moment in deadlines if moment in free
        ],
    }


TICKET_STATUS_COLUMNS = [status for status in TicketStatus if status in TICKET_OPEN_STATUSES]


def next_deadlines(session, now):
    """The session's dates still ahead, nearest first, with the days left."""
    if session is None:
        return []
    session.fill_defaults()
    moments = [
        (_("Registration closes"), session.registration_closes),
        (_("Payment closes"), session.payment_closes),
        (_("Subject exemption deadline"), session.exemption_deadline),
        (_("Duplicate-payment list due"), session.duplicate_list_due),
        (_("Personal-info change deadline"), session.info_change_deadline),
        (_("Admit card printing from"), session.admit_card_from),
        (_("First exam day"), session.exam_first_day),
    ]
    today = timezone.localtime(now, workdays.BEIJING).date()
    rows = []
    for label, moment in moments:
        if moment is None:
            continue
        day = timezone.localtime(moment, workdays.BEIJING).date() if isinstance(moment, datetime.datetime) else moment
        if day >= today:
            rows.append({"label": label, "at": moment, "days_left": (day - today).days})
    rows.sort(key=lambda row: row["days_left"])
    return rows[:4]


# Season progress ------------------------------------------------------------------------------------------


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5) over an interval."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def season_figures(user, now=None):
    """Per day of the current session: submissions, decisions, payments; and the SLA record (share decided by
    the review deadline, median time to decision). Read from the cache, which beat keeps warm for every scope
    (refresh_season_figures, each minute); computed here only when it is not there (beat not running)."""
    now = now or timezone.now()
    session = ExamSession.objects.current()
    if session is None:
        return None
    scope = "all" if user.sees_all_offices else (user.office_id or "none")
    cached = cache.get(_season_key(session, scope))
    if cached is None:
        cached = _season(Application.objects.for_user(user).filter(session=session), session, now)
        cache.set(_season_key(session, scope), cached, SEASON_CACHE_SECONDS)
    return cached


def refresh_season_figures(now=None):
    """Compute the season figures of the region and of every office into the cache (portal.tasks.refresh_dashboard,
    each minute): the dashboard never computes them while staff wait. The same queries and figures as computed on a
    page; what an office's staff see is its own applications (OfficeScopedQuerySet.for_user)."""
    now = now or timezone.now()
    session = ExamSession.objects.current()
    if session is None:
        return "no current session"
    of_session = Application.objects.filter(session=session)
    scopes = {"all": of_session} | {
        code: of_session.filter(office_id=code) for code in Office.objects.values_list("code", flat=True)
    }
    for scope, queryset in scopes.items():
        cache.set(_season_key(session, scope), _season(queryset, session, now), SEASON_CACHE_SECONDS)
    return f"season figures of {len(scopes)} scopes refreshed"


def _season_key(session, scope):
    return f"dashboard:season:{session.pk}:{scope}"


def _per_day(queryset, field):
    day = TruncDate(field, tzinfo=workdays.BEIJING)
    rows = queryset.filter(**{f"{field}__isnull": False}).annotate(day=day).values("day").annotate(n=Count("*"))
    return {row["day"]: row["n"] for row in rows.order_by()}


def _season(queryset, session, now):
    submitted = _per_day(queryset, "submitted_at")
    decided = _per_day(queryset, "decided_at")
    paid = _per_day(queryset, "paid_at")
    first = timezone.localtime(session.registration_opens, workdays.BEIJING).date()
    last = min(
        timezone.localtime(now, workdays.BEIJING).date(),
        timezone.localtime(session.payment_closes, workdays.BEIJING).date(),
    )
    days = []
    day = first
    while day <= last:
        days.append(
            {"day": day, "submitted": submitted.get(day, 0), "decided": decided.get(day, 0), "paid": paid.get(day, 0)}
        )
        day += datetime.timedelta(days=1)
    decided_qs = queryset.filter(decided_at__isnull=False)
    took = ExpressionWrapper(F("decided_at") - F("submitted_at"), output_field=DurationField())
    aggregates = {
        "decided": Count("decided_at"),
        "in_time": Count("decided_at", filter=Q(due_at__isnull=False, decided_at__lte=F("due_at"))),
    }
    if connection.vendor == "postgresql":
        aggregates["median"] = Median(took)
    sla = decided_qs.aggregate(**aggregates)
    if "median" not in sla:  # SQLite (development without PostgreSQL): the median in Python
        durations = sorted(decided_qs.annotate(took=took).values_list("took", flat=True))
        sla["median"] = durations[len(durations) // 2] if durations else None
    share = round(100 * sla["in_time"] / sla["decided"]) if sla["decided"] else None
    median = sla["median"]
    median_hours = round(median.total_seconds() / 3600, 1) if median is not None else None
    return {
        "days": days,
        "chart": _chart(days),
        "decided": sla["decided"],
        "in_time_percent": share,
        "median_hours": median_hours,
    }


CHART_WIDTH, CHART_HEIGHT = 640, 160


def _chart(days):
    """Bars of a server-rendered SVG (no script: the CSP forbids inline script): three bars per day."""
    top = max([max(d["submitted"], d["decided"], d["paid"]) for d in days] or [0]) or 1
    slot = CHART_WIDTH / max(len(days), 1)
    bar = max(slot / 4, 1)
    bars = []
    for index, d in enumerate(days):
        for offset, series in enumerate(("submitted", "decided", "paid")):
            height = round(CHART_HEIGHT * d[series] / top, 1)
            x = round(index * slot + offset * bar, 1)
            bars.append(
                {
                    "x": x,
                    "y": round(CHART_HEIGHT - height, 1),
                    "width": round(bar, 1),
                    "height": height,
                    "series": series,
                }
            )
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "bars": bars, "top": top}


# Regional ------------------------------------------------------------------------------------------------

REGIONAL_COLUMNS = [
    ("applications_due_today", _("Applications due today")),
    ("applications_overdue", _("Applications overdue")),
    ("applications_in_person", _("Waiting for in-person review")),
    ("applications_payment_closing", _("Approved, unpaid, payment closes within 24 hours")),
    ("applications_undecided_before_close", _("Undecided, at risk at payment close")),
    ("applications_undecided_after_close", _("Undecided at payment close: the candidate cannot pay")),
    ("tickets_due_today", _("Requests due today")),
    ("tickets_overdue", _("Requests overdue")),
    ("tickets_escalated", _("Requests with the regional office")),
]


def regional_table(user, now=None, order=None):
    """One row per office with the figures of office_figures, the totals, and the offices in trouble; for the
    staff who see all offices. Three queries: offices, applications by office, requests by office."""
    now = now or timezone.now()
    session = ExamSession.objects.current()
    offices = list(Office.objects.for_user(user))
    app_conditions = application_conditions(session, now)
    live = {key: q for key, q in app_conditions.items() if q != NO_ROWS}
    app_rows = {}
    if live:
        for row in (
            Application.objects.for_user(user)
            .filter(status__in=figure_statuses(app_conditions))
            .values("office")
            .annotate(**{key: Count("office", filter=q) for key, q in live.items()})
            .order_by()
        ):
            app_rows[row["office"]] = row
    t_conditions = ticket_conditions(user, now)
    t_conditions.pop("mine")
    ticket_rows = {
        row["office"]: row
        for row in Ticket.objects.for_user(user)
        .values("office")
        .annotate(**{key: Count("office", filter=q) for key, q in t_conditions.items()})
        .order_by()
    }
    rows = []
    for office in offices:
        values = {}
        for key, _label, params in APPLICATION_FIGURES:
            count = app_rows.get(office.code, {}).get(key, 0)
            values[f"applications_{key}"] = (count, _link(Application, params, office.code))
        for key, _label, params in TICKET_FIGURES:
            count = ticket_rows.get(office.code, {}).get(key, 0)
            values[f"tickets_{key}"] = (count, _link(Ticket, params, office.code))
        trouble = values["applications_overdue"][0] + values["tickets_overdue"][0] > 0 or (
            values["applications_undecided_before_close"][0] + values["applications_undecided_after_close"][0] > 0
        )
        rows.append({"office": office, "cells": [values[key] for key, _label in REGIONAL_COLUMNS], "trouble": trouble})
    totals = []
    for index, (key, _label) in enumerate(REGIONAL_COLUMNS):
        model, params = _column_source(key)
        totals.append((sum(row["cells"][index][0] for row in rows), _link(model, params)))
    order_key, descending = (order or "").lstrip("-"), (order or "").startswith("-")
    keys = [key for key, _label in REGIONAL_COLUMNS]
    if order_key in keys:
        index = keys.index(order_key)
        rows.sort(key=lambda row: row["cells"][index][0], reverse=descending)
    elif order_key == "office":
        rows.sort(key=lambda row: row["office"].code, reverse=descending)
    columns = [
        {"key": key, "label": label, "sort": f"-{key}" if order == key else key, "sorted": order_key == key}
        for key, label in REGIONAL_COLUMNS
    ]
    return {
        "columns": columns,
        "rows": rows,
        "totals": totals,
        "warnings": warnings(offices, session, now),
        "offices_missing_data": offices_missing_data(offices),
    }


def offices_missing_data(offices):
    """[(office, what is missing)] of the offices whose directory entry candidates cannot use in full."""
    missing = ((office, office.missing_contact_data()) for office in offices)
    return [(office, gettext(", ").join(str(label) for label in labels)) for office, labels in missing if labels]


def _column_source(key):
    for prefix, model, figures in (
        ("applications_", Application, APPLICATION_FIGURES),
        ("tickets_", Ticket, TICKET_FIGURES),
    ):
        for figure_key, _label, params in figures:
            if key == prefix + figure_key:
                return model, params
    raise KeyError(key)


def warnings(offices, session, now):
    """What the regional office must fix: the duplicate-payment list not imported by its due date, the final
    payment import not marked."""
    today = timezone.localtime(now, workdays.BEIJING).date()
    result = []
    # The calendar's unknown years are the alert above the dashboard (PortalAdminSite.index), for every staff
    # member, and the offices' missing contact data is a list of its own (offices_missing_data): not repeated here.
    if session is not None:
        session.fill_defaults()
        due = session.duplicate_list_due
        if due and today > due and not DuplicatePayment.objects.filter(session=session).exists():
            result.append(_("The duplicate-payment list was due on %(day)s and has not been imported.") % {"day": due})
        if session.payments_final_at is None and now > session.payment_closes:
            result.append(_("Payment has closed but the final payment import is not marked as done."))
    return result


def regional_rows_for_export(table):
    """The regional table as a tablib Dataset (xlsx download)."""
    import tablib

    headers = [str(_("Office")), *[str(column["label"]) for column in table["columns"]]]
    dataset = tablib.Dataset(headers=headers, title=str(_("Offices")))
    dataset.append([str(_("Total")), *[count for count, _link in table["totals"]]])
    for row in table["rows"]:
        dataset.append([str(row["office"]), *[count for count, _link in row["cells"]]])
    return dataset
