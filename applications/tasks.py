"""Thin tasks: each runs one function of applications/sweeps.py as of now and returns its summary.

The deadline sweeps also run every minute through portal.tasks.run_sweeps (settings.PORTAL_SWEEPS); these
tasks run one of them alone.
"""

from celery import shared_task
from django.utils import timezone

from . import sweeps


@shared_task
def close_incomplete_applications():
    return sweeps.close_incomplete_applications(timezone.now())


@shared_task
def lapse_unpaid_applications():
    return sweeps.lapse_unpaid_applications(timezone.now())


@shared_task
def send_lapse_emails():
    return sweeps.send_lapse_emails(timezone.now())


@shared_task
def send_payment_reminders():
    return sweeps.send_payment_reminders(timezone.now())


@shared_task
def escalate_overdue_applications():
    return sweeps.escalate_overdue_applications(timezone.now())
