"""Stored deadlines that follow their sources: after a session's dates (or a calendar day) change, the records
whose deadline is derived from them get the new one, through the engine (tickets.workflow "move-deadline" and
"reopen"), in locked chunks, with a history entry and one email per new deadline value.

`preview` counts what `apply` would do (shown to regional staff before the change is saved); `apply` runs in
the worker (portal.tasks.reschedule_session) and is idempotent: a second run finds nothing to move. Every new
value comes from the one function of its deadline (tickets.models.deadline_for), never a second formula.

Applications: the review's due time is recomputed with Application.due_from(review_started_at) (the SLA and
the payment-close cap); applications closed at the old registration close go back to the status they were
closed from while registration is open again, lapsed ones back to approved while payment is open again.
"""

from dataclasses import dataclass, field

from django.utils import timezone

from applications.models import OPEN_STATUSES as OPEN_APPLICATIONS
from applications.models import Application
from applications.models import Status as ApplicationStatus
from applications.workflow import APPLICATIONS
from core.chunks import CHUNK
from core.transitions import Act
from offices import workdays
from tickets.models import InfoChange, Kind, KindSetting, Status, Ticket, deadline_for, due_for
from tickets.workflow import TICKETS


class _Same(dict):
    """{pk: value} where every pk gets the same value (act.data["deadlines"] for one group)."""

    def __init__(self, value):
        super().__init__()
        self.value = value

    def __missing__(self, key):
        return self.value


@dataclass
class Preview:
    moved: int = 0  # open requests whose deadline moves
    reopened: int = 0  # requests expired at the old deadline that go back to `submitted`
    emailed: int = 0  # candidates emailed (one per record moved or reopened)
    shortened: int = 0  # deadlines moved earlier than what the candidate was promised: warn
    details: list = field(default_factory=list)  # [(label, new deadline, moved, reopened, shortened)]
    reviews_moved: int = 0  # open applications whose review due time moves (the reviewers', not emailed)
    applications_reopened: int = 0  # closed or lapsed at the old date, open again
    requests_due_moved: int = 0  # open requests whose due time moves (a calendar change; the staff's, not emailed)

    @property
    def anything(self):
        return bool(
            self.moved or self.reopened or self.reviews_moved or self.applications_reopened or self.requests_due_moved
        )


def _groups(session):
    """(label, requests whose deadline derives from the session in one way, their deadline now)."""
    of_session = Ticket.objects.filter(session=session)
    registration = {"scope": InfoChange.Scope.REGISTRATION}
    return [
        ("exemption", of_session.filter(kind=Kind.EXEMPTION), deadline_for(Kind.EXEMPTION, session, {})),
        (
            "info_change",
            of_session.filter(kind=Kind.INFO_CHANGE, info_change__scope=InfoChange.Scope.REGISTRATION),
            deadline_for(Kind.INFO_CHANGE, session, registration),
        ),
    ]


def _to_move(requests, new):
    return requests.filter(status=Status.SUBMITTED).exclude(deadline=new)


def _to_reopen(requests, new, now):
    """Expired at an earlier deadline while the new one is still ahead."""
    if new <= now:
        return requests.none()
    return requests.filter(status=Status.EXPIRED, deadline__lt=new)


def preview(session, now=None):
    """What apply(session) would change now; `session` may hold unsaved dates (the admin's form)."""
    now = now or timezone.now()
    result = Preview()
    for label, requests, new in _groups(session):
        if new is None:
            continue
        moving = _to_move(requests, new)
        moved, shortened = moving.count(), moving.filter(deadline__gt=new).count()
        reopened = _to_reopen(requests, new, now).count()
        result.moved += moved
        result.reopened += reopened
        result.shortened += shortened
        if moved or reopened:
            result.details.append((label, new, moved, reopened, shortened))
    moves, earlier = _review_moves(session)
    result.reviews_moved, result.shortened = len(moves), result.shortened + earlier
    for _name, queryset in _application_reopenings(session, now):
        result.applications_reopened += queryset.count()
    result.requests_due_moved = len(_request_due_moves())
    result.emailed = result.moved + result.reopened + result.applications_reopened
    return result


def _review_moves(session):
    """{pk: new due} of the open applications whose review due time changes, and how many move earlier.
    due_from depends on the Beijing day of its moment only: computed once per day."""
    rows = Application.objects.filter(session=session, status__in=OPEN_APPLICATIONS).values_list(
        "pk", "review_started_at", "submitted_at", "due_at"
    )
    probe, by_day, moves, earlier = Application(session=session), {}, {}, 0
    for pk, started, submitted, due in rows.iterator(chunk_size=5000):
        moment = started or submitted
        day = timezone.localtime(moment, workdays.BEIJING).date()
        if day not in by_day:
            by_day[day] = probe.due_from(moment)
        new = by_day[day]
        if new != due:
            moves[pk] = new
            earlier += due is not None and new < due
    return moves, earlier


def _request_due_moves():
    """{pk: new due} of the open requests (of every session, and none) whose due time changes with the calendar:
    tickets.models.due_for, computed once per kind and Beijing day of submission."""
    slas = {kind: KindSetting.sla_for(kind) for kind in Kind.values}
    rows = Ticket.objects.open().values_list("pk", "kind", "submitted_at", "due_at")
    by_day, moves = {}, {}
    for pk, kind, submitted, due in rows.iterator(chunk_size=5000):
        key = (kind, timezone.localtime(submitted, workdays.BEIJING).date())
        if key not in by_day:
            by_day[key] = due_for(kind, submitted, slas[kind])
        if by_day[key] != due:
            moves[pk] = by_day[key]
    return moves


def _application_reopenings(session, now):
    of_session = Application.objects.filter(session=session)
    runs = []
    if session.registration_closes > now:
        for status in (ApplicationStatus.RETURNED, ApplicationStatus.IN_PERSON_REVIEW):
            closed_from = of_session.filter(
                status=ApplicationStatus.CLOSED,
                events__to_status=ApplicationStatus.CLOSED,
                events__from_status=status,
            ).distinct()
            runs.append((f"reopen-{status}", closed_from))
    if session.payment_is_open(now):
        runs.append(("reopen-lapsed", of_session.filter(status=ApplicationStatus.LAPSED)))
    return runs


def apply(session, because, now=None):
    """Move every derived deadline to its value from the session's saved dates; returns (rows, emails)."""
    now = now or timezone.now()
    rows = emails = 0
    for _label, requests, new in _groups(session):
        if new is None:
            continue
        act = Act(actor="system", now=now, data={"deadlines": _Same(new), "because": because}, batch=True)
        for name, queryset in (("move-deadline", _to_move(requests, new)), ("reopen", _to_reopen(requests, new, now))):
            outcome = TICKETS.run(name, queryset, act, chunk=CHUNK)
            rows += len(outcome.done)
            emails += outcome.emails
    act = Act(actor="system", now=now, data={"because": because}, batch=True)
    moves, _earlier = _review_moves(session)
    # In runs of CHUNK known pks: one locked chunk each, instead of every chunk's query carrying all of them.
    pks = sorted(moves)
    for start in range(0, len(pks), CHUNK):
        batch = Application.objects.filter(pk__in=pks[start : start + CHUNK])
        rows += len(APPLICATIONS.run("move-due", batch, act, chunk=CHUNK).done)
    for name, queryset in _application_reopenings(session, now):
        outcome = APPLICATIONS.run(name, Application.objects.filter(pk__in=queryset.values("pk")), act, chunk=CHUNK)
        rows += len(outcome.done)
        emails += outcome.emails
    dues = _request_due_moves()
    if dues:
        due_act = Act(actor="system", now=now, data={"dues": dues, "because": because}, batch=True)
        rows += len(TICKETS.run("move-due", Ticket.objects.filter(pk__in=list(dues)), due_act, chunk=CHUNK).done)
    return rows, emails
