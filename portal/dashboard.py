"""The admin index's dashboard (issue 11): every figure counts the rows the user may see (`for_user`, the one
office-scoping method), and links to the changelist that lists exactly those rows (the test compares both counts
for every figure). The number of queries does not depend on the volume.

The applications' figures are read from counters that every write of an application keeps (applications.models:
WorkHour for today's work, SeasonDay and DecisionTime for the season), with only the applications due in an hour
that a figure's time boundary cuts (now, for "overdue") counted live; the requests' are conditional COUNTs in one
aggregate query over a covering index of the open requests.
"""

import datetime
import functools
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications import models as application_rows
from applications.models import (
    NO_ROWS,
    OPEN_STATUSES,
    Application,
    DecisionTime,
    ExamSession,
    SeasonDay,
    Status,
    WorkHour,
    due_hour,
)
from appointments import figures as visit_figures
from offices import workdays
from offices.models import Office
from tickets import models as ticket_rows
from tickets.models import OPEN_STATUSES as TICKET_OPEN_STATUSES
from tickets.models import DuplicatePayment, InfoChange, Kind, Ticket, deadline_for
from tickets.models import Status as TicketStatus

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


HOUR = datetime.timedelta(hours=1)


def _due_before(moment):
    """Due before `moment`: (the WorkHour counters wholly before it, the applications due in the hour it cuts)."""
    hour = due_hour(moment)
    return Q(due_hour__lt=hour), Q(due_at__gte=hour, due_at__lt=moment)


def _due_from(moment):
    """Due at or after `moment`, or never: (the counters wholly after it, the applications due in the hour it cuts;
    none when it is a whole hour)."""
    hour = due_hour(moment)
    if hour == moment:
        return Q(due_hour__gte=hour), NO_ROWS
    return Q(due_hour__gte=hour + HOUR), Q(due_at__gte=moment, due_at__lt=hour + HOUR)


def application_conditions(session, now):
    """Each application figure as (a condition on the WorkHour counters, a condition on the applications due in an
    hour that the figure's time boundary cuts): the rows of the conditions the changelist's filters use
    (applications/models.py: due_today_condition …), which also say when a figure has no rows (NO_ROWS)."""
    undecided = Q(status__in=OPEN_STATUSES)
    start, end = workdays.day_bounds(now)  # Beijing midnights: whole hours, nothing to count live
    overdue = _due_before(now)
    figures = {
        "due_today": (undecided & Q(due_hour__gte=start, due_hour__lt=end), NO_ROWS),
        "overdue": (undecided & overdue[0], undecided & overdue[1]),
        "in_person": (Q(status=Status.IN_PERSON_REVIEW), NO_ROWS),
        "payment_closing": (Q(session=session, status=Status.APPROVED), NO_ROWS),
        "undecided_before_close": (NO_ROWS, NO_ROWS),
        "undecided_after_close": (undecided & Q(session=session), NO_ROWS),
    }
    if session is not None:
        at_risk = _due_from(session.payment_closes - application_rows.UNDECIDED_MARGIN)
        of_session = undecided & Q(session=session)
        figures["undecided_before_close"] = (of_session & at_risk[0], of_session & at_risk[1])
    rules = {
        "payment_closing": application_rows.payment_closing_condition(session, now),
        "undecided_before_close": application_rows.undecided_before_close_condition(session, now),
        "undecided_after_close": application_rows.undecided_after_close_condition(session, now),
    }
    return {key: (NO_ROWS, NO_ROWS) if rules.get(key) == NO_ROWS else pair for key, pair in figures.items()}


def application_work(user, session, now):
    """{office code: {figure: count}} of the applications: the counters' sums and the applications due in the hours
    the figures' boundaries cut, counted live (a few thousand rows at most). Two queries whatever the volume."""
    conditions = application_conditions(session, now)
    counted = _by_office(WorkHour.objects.for_user(user), {key: q for key, (q, _live) in conditions.items()}, "count")
    cut = {key: live for key, (_q, live) in conditions.items()}
    in_cut_hours = Q()
    for live in (q for q in cut.values() if q != NO_ROWS):
        in_cut_hours |= live
    live = _by_office(Application.objects.for_user(user).filter(in_cut_hours), cut)
    return {
        office: {key: counted.get(office, {}).get(key, 0) + live.get(office, {}).get(key, 0) for key in conditions}
        for office in counted.keys() | live.keys()
    }


def ticket_conditions(user, now):
    """One Q per request figure: the conditions the changelist's filters use (tickets/models.py)."""
    return {
        "due_today": ticket_rows.due_today_condition(now),
        "overdue": ticket_rows.overdue_condition(now),
        "escalated": Q(status=TicketStatus.ESCALATED),
        "mine": ticket_rows.assigned_open_condition(user),
    }


# The requests' figures count the office column (never null) rather than the id: COUNT(office_id) FILTER (…) reads
# only the covering partial index of the open requests (ticket_open_due_cover), an index-only scan; Django refuses
# COUNT(*) with a filter.


def _by_office(queryset, conditions, total=None):
    """{office code: {key: count}}: one aggregate query grouped by office (one row for an office's staff), counting
    the rows of each condition, or summing their `total` column (the counters)."""
    # NO_ROWS would make Django raise EmptyResultSet inside the aggregate: count it as 0 without SQL.
    live = {key: q for key, q in conditions.items() if q != NO_ROWS}
    if not live:
        return {}
    counts = {key: Sum(total, filter=q) if total else Count("office", filter=q) for key, q in live.items()}
    rows = queryset.values("office").annotate(**counts).order_by()
    return {row["office"]: {key: row.get(key) or 0 for key in conditions} for row in rows}


def open_work(user, now):
    """Today's work of every office the user sees: {"session": the current one, "applications": {office: {key:
    count}}, "tickets": …}. The office figures are its totals and the regional table its rows: computed once per
    page, with the session the other sections read."""
    session = ExamSession.objects.current()
    tickets = Ticket.objects.for_user(user).filter(status__in=TICKET_OPEN_STATUSES)
    return {
        "session": session,
        "applications": application_work(user, session, now),
        "tickets": _by_office(tickets, ticket_conditions(user, now)),
    }


@functools.cache
def _changelist_url(model, urlconf, prefix):
    """A model's changelist URL, reversed once per URLconf and prefix (a page links to it up to 200 times)."""
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist", urlconf=urlconf)


def _totals(rows, figures):
    return {key: sum(row.get(key, 0) for row in rows.values()) for key, _label, _params in figures}


def _link(model, params, office=None):
    url = _changelist_url(model, get_urlconf(), get_script_prefix())
    params = dict(params)
    if office is not None:
        params["office__code__exact"] = office
    return f"{url}?{urlencode(params)}"


def office_figures(user, now=None, work=None):
    """Today's work of the offices the user sees: [(label, count, link)] for applications and requests,
    the requests by kind and status, and the user's own open requests. `work`: open_work's, when computed."""
    now = now or timezone.now()
    work = work or open_work(user, now)
    session = work["session"]
    apps = _totals(work["applications"], APPLICATION_FIGURES)
    tickets = _totals(work["tickets"], [*TICKET_FIGURES, MY_FIGURE])
    by_kind = {}
    open_tickets = Ticket.objects.for_user(user).filter(status__in=TICKET_OPEN_STATUSES)
    for row in open_tickets.values("kind", "status").annotate(n=Count("pk")).order_by():
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


def season_figures(user, now=None, work=None):
    """Per day of the current session: submissions, decisions, payments; and the SLA record (share decided by the
    review deadline, median time to decision), of the offices the user sees. Read from the season counters that
    every write of an application keeps (applications.models.SeasonDay, DecisionTime): two small queries, the
    same for one office's first day and the region's 1,250,000 applications. `work`: open_work's, for its session."""
    now = now or timezone.now()
    session = work["session"] if work else ExamSession.objects.current()
    if session is None:
        return None
    per_day = {
        row["day"]: row
        for row in SeasonDay.objects.for_user(user)
        .filter(session=session)
        .values("day")
        .annotate(submitted=Sum("submitted"), decided=Sum("decided"), in_time=Sum("decided_in_time"), paid=Sum("paid"))
        .order_by()
    }
    times = (
        DecisionTime.objects.for_user(user)
        .filter(session=session, count__gt=0)
        .values_list("tenths")
        .annotate(n=Sum("count"))
        .order_by("tenths")
    )
    first = timezone.localtime(session.registration_opens, workdays.BEIJING).date()
    last = min(
        timezone.localtime(now, workdays.BEIJING).date(),
        timezone.localtime(session.payment_closes, workdays.BEIJING).date(),
    )
    days = []
    day = first
    while day <= last:
        row = per_day.get(day, {})
        days.append({"day": day, **{series: row.get(series, 0) for series in ("submitted", "decided", "paid")}})
        day += datetime.timedelta(days=1)
    decided = sum(row["decided"] for row in per_day.values())
    in_time = sum(row["in_time"] for row in per_day.values())
    median = median_tenths(list(times))
    return {
        "days": days,
        "chart": _chart(days),
        "decided": decided,
        "in_time_percent": round(100 * in_time / decided) if decided else None,
        "median_hours": round(median / 10, 1) if median is not None else None,
    }


def median_tenths(counts):
    """The median of the decision times [(tenths of an hour, how many)] in ascending order: the middle one, or
    the mean of the two middle ones; None without any."""
    total = sum(n for _tenths, n in counts)
    if not total:
        return None
    wanted, found, seen = {(total - 1) // 2, total // 2}, [], 0
    for tenths, n in counts:
        found += [tenths for position in sorted(wanted) if seen <= position < seen + n]
        seen += n
    return sum(found) / len(found)


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


def regional_table(user, now=None, order=None, work=None):
    """One row per office with the figures of office_figures, the totals, and the offices in trouble; for the
    staff who see all offices. `work`: open_work's, when computed for the page."""
    now = now or timezone.now()
    offices = list(Office.objects.for_user(user))
    work = work or open_work(user, now)
    session = work["session"]
    app_rows, ticket_rows = work["applications"], work["tickets"]
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
