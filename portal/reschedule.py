"""Stored deadlines that follow their sources: after a session's dates (or a calendar day) change, the records
whose deadline is derived from them get the new one, through the engine (tickets.workflow "move-deadline" and
"reopen"), in locked chunks, with a history entry and one email per new deadline value.

`preview` counts what `apply` would do (shown to regional staff before the change is saved); `apply` runs in
the worker (portal.tasks.reschedule_session) and is idempotent: a second run finds nothing to move. Every new
value comes from the one function of its deadline (tickets.models.deadline_for), never a second formula.

Not covered yet (issue 13): applications' review due times and the payment-close cap, applications closed or
lapsed at an old date, realname_auth_last_day after a calendar change.
"""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from core.chunks import CHUNK
from core.transitions import Act
from tickets.models import InfoChange, Kind, Status, Ticket, deadline_for
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
    details: list = field(default_factory=list)  # [(label, old deadlines → new, count)]


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
    result.emailed = result.moved + result.reopened
    return result


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
    return rows, emails


def local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if isinstance(moment, datetime.datetime) else moment
