"""The locked-chunk loop of every bulk state change (sweeps, batch decisions, imports)."""

from django.db import transaction

CHUNK = 2000


def in_locked_chunks(queryset, handle, chunk=CHUNK):
    """Call handle([(pk, status)]) on `queryset` in chunks of `chunk` rows, in pk order, each chunk locked
    (FOR UPDATE) in its own transaction; returns the list of what handle returned. The requests' sweeps
    use it too.

    A decision or payment that holds a row's lock is waited for, and the row is left out if it no longer
    matches; one that comes later waits for the chunk's commit and sees the new status. Only the queryset's own
    rows are locked (FOR UPDATE OF): a condition on a joined row, such as the session's payment close, never locks
    the session staff may be editing.
    """
    results, last = [], 0
    while True:
        with transaction.atomic():
            rows = list(
                queryset.filter(pk__gt=last)
                .order_by("pk")
                .select_for_update(of=("self",))
                .values_list("pk", "status")[:chunk]
            )
            if not rows:
                return results
            results.append(handle(rows))
        last = rows[-1][0]


def pks_of(rows):
    return [pk for pk, _status in rows]
