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
