from celery import shared_task
from django.utils import timezone

from . import digest, sweeps


@shared_task
def run_sweeps():
    return [f"{path}: {summary}" for path, summary in sweeps.run_all()]


@shared_task
def send_staff_digests():
    """The staff digest runs only from here, on its own beat entry (08:30 Beijing time, CELERY_BEAT_SCHEDULE),
    never each minute."""
    return digest.send_staff_digests(timezone.now())


@shared_task
def run_sweep(path):
    """One sweep alone, as of now, e.g. by hand:
    `celery -A portal call portal.tasks.run_sweep --args '["tickets.sweeps.expire_unverified_tickets"]'`."""
    return sweeps.run_one(path)


@shared_task
def reschedule_session(session_pk, because):
    """Move the stored deadlines that derive from the session's dates (portal/reschedule.py), in the worker."""
    from applications.models import ExamSession

    from . import reschedule

    rows, emails = reschedule.apply(ExamSession.objects.get(pk=session_pk), because)
    return f"{rows} deadlines moved, {emails} emails queued"
