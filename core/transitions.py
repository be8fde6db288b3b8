"""The transition engine: every state change of a record that has a status table goes through `run`.

A workflow (one per model: applications/workflow.py, tickets/workflow.py) names its transitions: the status each
leads to, who may make it (a permission), the preconditions on the locked row (guards), the fields it sets, the
history note and whether the candidate is emailed. The engine does the rest the same way for one row and for
fifty thousand: it locks the rows in chunks (one row is a batch of one), checks each against the status table
*and* the guards, moves the ones that pass with one UPDATE (or one `UPDATE … FROM VALUES` when each row gets its
own values), writes their history entries, one audit entry each (always the same shape: {field: [old, new]}),
the admin log when a person acted, and the emails into the outbox in the same transaction (sent after commit).
What it refuses comes back with the reason, in words for the person who tried.

The admin derives its buttons, steps and batch actions from the same workflow (`Workflow.offers`), so an action
that the table or a guard refuses is never offered. A guard marked `overridable` may be overridden by a person,
one row at a time, with a reason that goes into the history entry; a batch never overrides.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.admin.models import CHANGE
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .bulk_update import update_many
from .chunks import in_locked_chunks, pks_of


class Refused(Exception):
    """A change the record's status, a precondition or the user's role does not allow; the message says why."""

    def __init__(self, message, code="refused"):
        super().__init__(message)
        self.message, self.code = message, code


@dataclass
class Act:
    """Who changes what, when: the same for every row of a run. `data` holds the form's values (a reason, a note,
    per-row values under their pk); `override` is the reason a person gives for overriding a failing guard."""

    by: Any = None
    now: Any = None
    note: str = ""
    data: dict = field(default_factory=dict)
    actor: str = "staff"  # staff, candidate, system
    request: Any = None
    batch: bool = False
    override: str = ""
    overridden: dict = field(default_factory=dict)  # {pk: [messages of the guards overridden]}, filled by refusal

    def __post_init__(self):
        self.now = self.now or timezone.now()


@dataclass(frozen=True)
class Guard:
    """A precondition: check(record, act) -> a refusal message, or None when the record may go on."""

    check: Callable
    overridable: bool = False  # a person may override it with a recorded reason (never a batch)
    needs_data: bool = False  # it checks what a form gives (a note, a reason): not part of what is offered
    forbidden: bool = False  # its refusal means "not for this user at all" (the admin answers 403)


@dataclass(frozen=True)
class Transition:
    name: str
    label: Any
    target: Any  # the status it leads to; None: a step inside the status (moves fields, writes history and audit)
    sources: tuple | None = None  # the statuses it starts from; None: every status the table lets reach target
    permission: str | None = None  # needed when a person makes it
    guards: tuple = ()
    changes: Callable | None = None  # (record, act) -> {field: value} set along with the status
    note: Callable | None = None  # (record, act) -> the history note; default act.note
    notify: bool = True  # email the candidate (Workflow.emails)
    after: Callable | None = None  # (records, act) -> None, in the same transaction (e.g. a detail row)

    def starts_from(self, status, table):
        if self.target is None:  # a step inside the status: from its sources (every status when None)
            return self.sources is None or status in self.sources
        return self.target in table[status] and (self.sources is None or status in self.sources)


@dataclass
class Outcome:
    done: list = field(default_factory=list)  # the records moved, with their new values
    refused: list = field(default_factory=list)  # [(record, message)]
    overridden: list = field(default_factory=list)  # [(record, [messages])]
    emails: int = 0  # emails queued


class Workflow:
    """One model's status table and transitions; subclasses name them and say how the candidate is emailed."""

    model = None
    event_model = None  # the history: (record fk, at, by, actor, from_status, to_status, note)
    event_fk = ""
    table: dict = {}
    transitions: dict = {}
    select_related: tuple = ()

    # What the admin offers ----------------------------------------------------------------------------------

    def sources(self, name):
        transition = self.transitions[name]
        return tuple(status for status in self.table if transition.starts_from(status, self.table))

    def permitted(self, name, user):
        permission = self.transitions[name].permission
        return permission is None or (user is not None and user.has_perm(permission))

    def forbids(self, name, record, user):
        """Whether `user` may never make the transition on `record` (permission, or a guard marked forbidden)."""
        if not self.permitted(name, user):
            return True
        act = Act(by=user)
        return any(guard.forbidden and guard.check(record, act) for guard in self.transitions[name].guards)

    def offers(self, name, record, user):
        """Whether `user` is offered the transition on `record` now: the table, the permission and every guard
        that does not depend on a form's values (an overridable guard does not hide it: it asks for a reason)."""
        if not self.transitions[name].starts_from(record.status, self.table):
            return False  # before asking why: the status's message may cost a query (who decided last, when)
        return self.refusal(name, record, Act(by=user), offering=True) is None

    # Checks ---------------------------------------------------------------------------------------------------

    def status_refusal(self, record, transition):
        labels = dict(self.model._meta.get_field("status").choices)
        if transition.target is None:
            return _("%(ref)s is “%(status)s”: this step is not possible now.") % {
                "ref": record,
                "status": labels[record.status],
            }
        return _("%(ref)s is “%(status)s”; it cannot become “%(to)s”.") % {
            "ref": record,
            "status": labels[record.status],
            "to": labels[transition.target],
        }

    def refusal(self, name, record, act, *, offering=False):
        """Why `record` cannot take transition `name` now (a message), or None. Failing overridable guards are
        noted in act.overridden when a person gave a reason, a single row at a time."""
        transition = self.transitions[name]
        if not transition.starts_from(record.status, self.table):
            return self.status_refusal(record, transition)
        if act.by is not None and act.actor == "staff" and not self.permitted(name, act.by):
            return _("You may not do this: “%(action)s”.") % {"action": transition.label}
        overridden = []
        for guard in transition.guards:
            if offering and (guard.needs_data or guard.overridable):
                continue
            message = guard.check(record, act)
            if message is None:
                continue
            if guard.overridable and act.override.strip() and not act.batch:
                overridden.append(message)
                continue
            return message
        if overridden:
            act.overridden[record.pk] = overridden
        return None

    # Running ----------------------------------------------------------------------------------------------------

    def load(self, pks, transition):
        """The locked rows as records, in pk order (a workflow may load what `transition`'s guards need)."""
        return list(self.model.objects.filter(pk__in=pks).select_related(*self.select_related).order_by("pk"))

    def run(self, name, queryset, act, *, chunk=500):
        """Make transition `name` on every row of `queryset` that allows it, in locked chunks; the others are
        returned refused with the reason. One row is a batch of one."""
        outcome = Outcome()
        in_locked_chunks(queryset, lambda rows: self.run_locked(name, pks_of(rows), act, outcome), chunk=chunk)
        return outcome

    def run_one(self, name, record, act):
        """The transition on one record; Refused if it may not. Returns the history entry; `record` gets the new
        values (the caller's object is updated in place)."""
        act.batch = False
        outcome = self.run(name, self.model.objects.filter(pk=record.pk), act)
        if outcome.refused:
            raise Refused(outcome.refused[0][1])
        if not outcome.done:
            raise Refused(_("%(ref)s no longer exists.") % {"ref": record})
        moved = outcome.done[0]
        record.__dict__.update({k: v for k, v in moved.__dict__.items() if not k.startswith("_")})
        return moved._event

    def run_locked(self, name, pks, act, outcome=None):
        """The transition on rows the caller has locked in its transaction (the payment import locks them while
        it matches); returns the Outcome."""
        outcome = outcome or Outcome()
        transition = self.transitions[name]
        allowed = []
        with transaction.atomic():
            for record in self.load(pks, transition):
                message = self.refusal(name, record, act)
                if message is None:
                    allowed.append(record)
                else:
                    outcome.refused.append((record, message))
            if allowed:
                self._apply(transition, allowed, act, outcome)
        return outcome

    def _apply(self, transition, records, act, outcome):
        overridden = act.overridden
        changes, old = {}, {}
        for record in records:
            fields = transition.changes(record, act) if transition.changes else {}
            if transition.target is not None:
                fields = {"status": transition.target, **fields}
            changes[record.pk] = fields
            old[record.pk] = {name: getattr(record, name) for name in fields}
            record._from_status = record.status
            record._before = old[record.pk]  # the values before, for the history note
            for name, value in fields.items():
                setattr(record, name, value)
        self._write(records, changes)
        notes = {record.pk: self._note(transition, record, act, overridden.get(record.pk)) for record in records}
        events = self.event_model.objects.bulk_create(
            [
                self.event_model(
                    **{f"{self.event_fk}_id": record.pk},
                    at=act.now,
                    by=act.by,
                    actor=act.actor,
                    from_status=record._from_status,
                    to_status=record.status,
                    note=notes[record.pk],
                )
                for record in records
            ],
            batch_size=1000,
        )
        for record, event in zip(records, events, strict=True):
            record._event = event
        audit.record_bulk_changes(
            self.model,
            {
                record.pk: {
                    name: (_audit_value(old[record.pk][name]), _audit_value(value)) for name, value in fields.items()
                }
                for record, fields in ((record, changes[record.pk]) for record in records)
            },
            reprs={record.pk: str(record) for record in records},
            reason=str(transition.label),
            request=act.request,
            actor=act.by,
        )
        if act.by is not None and act.actor == "staff":
            AdminLogEntry.objects.log_actions(act.by.pk, records, CHANGE, str(transition.label))
        if transition.after:
            transition.after(records, act)
        if transition.notify:
            outcome.emails += self.email(transition, records, act) or 0
        outcome.done += records
        outcome.overridden += [(record, overridden[record.pk]) for record in records if record.pk in overridden]
        # Last in the transaction: counters that other writers add to are locked for the shortest time.
        self.written(records, old)

    def written(self, records, before):
        """After a transition's rows are written: `before` is {pk: {field: value before}} of the changed fields
        (a workflow keeps what it derives from its rows here, e.g. the applications' season counters)."""

    def _write(self, records, changes):
        """One UPDATE when every row gets the same values, else one UPDATE … FROM VALUES per field set."""
        first = changes[records[0].pk]
        if all(changes[record.pk] == first for record in records):
            self.model.objects.filter(pk__in=[record.pk for record in records]).update(**first)
            return
        by_fields = {}
        for record in records:
            by_fields.setdefault(tuple(changes[record.pk]), []).append(record)
        for names, group in by_fields.items():
            update_many(group, list(names))

    def _note(self, transition, record, act, overridden):
        note = transition.note(record, act) if transition.note else act.note
        if overridden:
            override = _("Failing checks overridden (%(checks)s). Reason: %(reason)s") % {
                "checks": " ".join(str(message) for message in overridden),
                "reason": act.override.strip(),
            }
            note = f"{override}\n{note}".strip()
        return note

    # Overdue escalation: a step inside the status, the same for every workflow -----------------------------------

    escalation_stamp = ""  # the field whose date records that an overdue record was escalated (the claim)
    escalation_reason = ""  # the audit entries' reason

    def escalate_overdue(self, queryset, now, recipients):
        """Escalate each overdue record of `queryset` once: the users recipients.for_office names are emailed
        (escalation_email), a history line says to whom, the stamp is set; a record with nobody to tell stays for
        the next run. Locked chunks as everywhere; returns (escalated, emails queued)."""

        def escalate(rows):
            messages, events, escalated = [], [], []
            records = self.load_for_email(pks_of(rows))
            for record in records:
                regional_only = self.escalation_regional_only(record)
                users = recipients.for_office(record.office_id, record.reference, regional_only=regional_only)
                if not users:
                    continue
                escalated.append(record.pk)
                messages += [self.escalation_email(record, user) for user in users]
                events.append(self.system_note(record.pk, record.status, now, recipients.note(record.due_at, users)))
            self.model.objects.filter(pk__in=escalated).update(**{self.escalation_stamp: now})
            audit.record_bulk_changes(
                self.model,
                {pk: {self.escalation_stamp: (None, now)} for pk in escalated},
                reprs={record.pk: str(record) for record in records},
                reason=str(self.escalation_reason),
            )
            self.event_model.objects.bulk_create(events, batch_size=1000)
            return len(escalated), self.queue_emails(messages)

        results = in_locked_chunks(queryset, escalate)
        return tuple(sum(counts) for counts in zip(*results, strict=True)) if results else (0, 0)

    def warn_due_soon(self, queryset, now, recipients):
        """Warn each office about its records of `queryset` (due soon, not yet warned: offices.escalation
        due_soon_condition) in one email per person (due_warning_email) listing them; a history line on each
        record says who was warned, `due_warned_for` / `due_warned_at` record it (the claim). A record with nobody to
        tell stays for the next run. Locked chunks as everywhere; returns (records warned, emails queued)."""

        def warn(rows):
            records = self.load_for_email(pks_of(rows))
            by_office = {}
            for record in records:
                by_office.setdefault(record.office_id, []).append(record)
            messages, events, warned = [], [], []
            for office_id, group in by_office.items():
                users = recipients.for_office(office_id, ", ".join(record.reference for record in group))
                if not users:
                    continue
                warned += [record.pk for record in group]
                messages += [self.due_warning_email(office_id, group, user, now) for user in users]
                events += [
                    self.system_note(record.pk, record.status, now, recipients.note(record.due_at, users))
                    for record in group
                ]
            self.model.objects.filter(pk__in=warned).update(due_warned_for=F("due_at"), due_warned_at=now)
            self.event_model.objects.bulk_create(events, batch_size=1000)
            return len(warned), self.queue_emails(messages)

        results = in_locked_chunks(queryset, warn)
        return tuple(sum(counts) for counts in zip(*results, strict=True)) if results else (0, 0)

    def system_note(self, pk, status, now, note):
        """An unsaved history line of the system's that changes no status (an escalation, a warning, a notice)."""
        return self.event_model(
            **{f"{self.event_fk}_id": pk}, at=now, actor="system", from_status=status, to_status=status, note=note
        )

    def due_warning_email(self, office_id, records, user, now):
        raise NotImplementedError

    def load_for_email(self, pks):
        """The records with what their emails show, in pk order."""
        return self.load(pks, None)

    def escalation_regional_only(self, record):
        return False

    def escalation_email(self, record, user):
        raise NotImplementedError

    def queue_emails(self, messages):
        """Put unsaved outbox rows into the outbox (notifications/workflow.py); returns how many were new."""
        raise NotImplementedError

    def email(self, transition, records, act):
        """Queue the candidates' emails about `records` just moved by `transition` (their `_event`); returns how
        many were queued."""
        raise NotImplementedError


def _audit_value(value):
    return getattr(value, "pk", value)
