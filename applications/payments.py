"""Matching the payments of the national platform's list to applications, and applying them, many at once.

A payment belongs to the candidate's latest live application of its session (same document number). A
payment made by payment close moves an approved or lapsed application to paid, as Application.mark_paid
does one (history, audit entry, email); anything else is noted on the payment row. The payments are taken
in the list's order in chunks, each chunk's applications locked (FOR UPDATE) in its own transaction, so a
decision waiting on a row's lock sees it paid, and a second payment of the same application in the same list
is seen as one ("Application already paid").
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import id_numbers
from core.bulk_update import update_many
from core.transitions import Act, Refused

from . import bulk
from .models import DEAD_STATUSES, Application, Status
from .workflow import APPLICATIONS

CHUNK = 1000


def latest_applications(session, numbers, *, lock=False):
    """{document number: (pk, status, payment code)} of the latest live application of each number in the
    session, for many numbers in one query (the rows locked when `lock`)."""
    rows = Application.objects.filter(session=session, candidate__document_number__in=set(numbers)).exclude(
        status__in=DEAD_STATUSES
    )
    if lock:
        rows = rows.select_for_update(of=("self",))
    latest = {}
    ordered = rows.order_by("submitted_at", "pk")
    for number, pk, status, payment_code in ordered.values_list(
        "candidate__document_number", "pk", "status", "payment_code"
    ):
        latest[number] = (pk, status, payment_code)  # the later one wins
    return latest


def apply_payments(session, payments, now=None):
    """Match and apply saved payments of `session` in their order; returns {"paid", "unmatched", "not_applied"}
    counts. Safe to run again on the same rows: a payment already applied changes nothing."""
    now = now or timezone.now()
    outcome = {"paid": 0, "unmatched": 0, "not_applied": 0}
    for start in range(0, len(payments), CHUNK):
        with transaction.atomic():
            for key, count in _apply_chunk(session, payments[start : start + CHUNK], now).items():
                outcome[key] += count
    return outcome


# What happens to one payment (the preview says it, the import does it).
PAYS, ALREADY_PAID, UNMATCHED, LATE, FUTURE, NOT_APPROVED = (
    "pays",
    "already_paid",
    "unmatched",
    "late",
    "future",
    "not_approved",
)


def decide(payment, match, state, session, now):
    """(outcome, note) of one payment given its application's (status, payment code) as the list leaves it so far;
    the note is what the payment row keeps ("" when it is applied, or was applied before)."""
    if match is None:
        return UNMATCHED, _("No application of this session has this document number.")
    status, code = state
    if payment.paid_at > now:
        return FUTURE, _("Payment time in the future: refused.")
    if payment.paid_at > session.payment_closes:
        return LATE, _("Paid after payment closed: not applied.")
    if status in (Status.APPROVED, Status.LAPSED):
        return PAYS, ""
    if status == Status.PAID:
        return ALREADY_PAID, "" if code == payment.payment_code else _("Application already paid.")
    return NOT_APPROVED, _("Application is not approved (%(status)s).") % {"status": Status(status).label}


def preview(session, payments, now=None):
    """What importing `payments` would do, per payment in the list's order, reading only (the dry run):
    [(payment, outcome, note, application or None, expected fee or None)]."""
    now = now or timezone.now()
    numbers = [id_numbers.normalize(payment.document_number) for payment in payments]
    latest = latest_applications(session, numbers)
    applications = Application.objects.select_related("office").in_bulk([pk for pk, _s, _c in latest.values()])
    state = {pk: [status, code] for pk, status, code in latest.values()}
    rows = []
    for payment, number in zip(payments, numbers, strict=True):
        match = latest.get(number)
        outcome, note = decide(payment, match, state[match[0]] if match else None, session, now)
        application = applications[match[0]] if match else None
        if outcome == PAYS:
            state[match[0]] = [Status.PAID, payment.payment_code]
        rows.append((payment, outcome, note, application, application.expected_fee(session) if application else None))
    return rows


def _apply_chunk(session, payments, now):
    numbers = [id_numbers.normalize(payment.document_number) for payment in payments]
    latest = latest_applications(session, numbers, lock=True)
    state = {pk: [status, code] for pk, status, code in latest.values()}  # as this chunk leaves them
    to_pay, outcome = [], {"paid": 0, "unmatched": 0, "not_applied": 0}
    for payment, number in zip(payments, numbers, strict=True):
        match = latest.get(number)
        payment.application_id = match[0] if match else None
        decision, payment.note = decide(payment, match, state[match[0]] if match else None, session, now)
        if decision == UNMATCHED:
            outcome["unmatched"] += 1
            continue
        if decision == PAYS:
            to_pay.append((payment, state[payment.application_id][0]))
            state[payment.application_id] = [Status.PAID, payment.payment_code]
        outcome["not_applied" if payment.note else "paid"] += 1
    if to_pay:
        _mark_paid(to_pay, now)
    update_many(payments, ["application", "note"])
    return outcome


def _mark_paid(to_pay, now):
    """The "pay" transition for (payment, former status) pairs, one application each, on the rows this chunk
    holds locked."""
    payments = {payment.application_id: payment for payment, _status in to_pay}
    outcome = APPLICATIONS.run_locked("pay", list(payments), Act(actor="system", now=now, data={"payments": payments}))
    if outcome.refused:
        raise Refused(" ".join(str(message) for _record, message in outcome.refused))


payment_note = bulk.payment_note
