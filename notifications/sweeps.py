import datetime

from django.conf import settings
from django.db import transaction

from .models import OutboxMessage, schedule_sends

# A pending row whose attempt time is this far behind was not picked up: its task message was lost.
LOST_TASK_GRACE = datetime.timedelta(minutes=2)


def requeue_stalled_emails(now):
    """Take up rows stuck in `sending` (a worker died) and pending rows whose task never arrived."""
    stale_before = now - datetime.timedelta(seconds=settings.OUTBOX_STALE_AFTER_SECONDS)
    pending = OutboxMessage.Status.PENDING
    with transaction.atomic():
        stalled = OutboxMessage.objects.select_for_update().filter(
            status=OutboxMessage.Status.SENDING, claimed_at__lt=stale_before
        )
        # A row that stalled on its last attempt (an email that kills the worker every time) stops here.
        gave_up = OutboxMessage.objects.filter(
            pk__in=stalled.filter(attempts__gte=settings.OUTBOX_MAX_ATTEMPTS).values("pk")
        ).update(status=OutboxMessage.Status.FAILED, last_error="The worker stopped while sending this email.")
        stalled_ids = list(stalled.values_list("pk", flat=True))
        OutboxMessage.objects.filter(pk__in=stalled_ids).update(status=pending, next_attempt_at=now)
        lost_ids = list(
            OutboxMessage.objects.filter(status=pending, next_attempt_at__lte=now - LOST_TASK_GRACE).values_list(
                "pk", flat=True
            )
        )
        schedule_sends(sorted({*stalled_ids, *lost_ids}))
    return f"{len(stalled_ids)} stalled taken up again, {gave_up} given up, {len(lost_ids)} lost pending sent again"
