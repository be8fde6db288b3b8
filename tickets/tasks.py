"""Thin tasks: each runs one sweep of tickets/sweeps.py as of now and returns its summary.

Beat runs every sweep each minute through portal.tasks.run_sweeps (settings.PORTAL_SWEEPS); these tasks run
one of them alone.
"""

from celery import shared_task
from django.utils import timezone

from . import sweeps


@shared_task
def expire_unverified_tickets():
    return sweeps.expire_unverified_tickets(timezone.now())


@shared_task
def escalate_overdue_tickets():
    return sweeps.escalate_overdue_tickets(timezone.now())
