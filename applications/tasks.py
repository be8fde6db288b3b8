"""The staff digest's task: it runs only from here, on its own beat entry (08:30 Beijing time,
settings.CELERY_BEAT_SCHEDULE), never each minute.

The deadline sweeps of applications/sweeps.py run every minute through portal.tasks.run_sweeps, and one of them
alone through portal.tasks.run_sweep (both read settings.PORTAL_SWEEPS).
"""

from celery import shared_task
from django.utils import timezone

from . import sweeps


@shared_task
def send_staff_digests():
    return sweeps.send_staff_digests(timezone.now())
