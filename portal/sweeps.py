"""The registry of deadline sweeps: each is `function(now) -> str` and safe to run twice."""

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


def registered_sweeps():
    return [(path, import_string(path)) for path in settings.PORTAL_SWEEPS]


def run_all(now=None):
    """Run every sweep as of `now`; return [(dotted path, summary of what it changed)]."""
    now = now or timezone.now()
    return [(path, sweep(now)) for path, sweep in registered_sweeps()]


def run_one(path, now=None):
    """Run the sweep of settings.PORTAL_SWEEPS named `path` alone, as of `now`; return its summary."""
    if path not in settings.PORTAL_SWEEPS:
        raise ValueError(f"{path!r} is not one of settings.PORTAL_SWEEPS")
    return import_string(path)(now or timezone.now())


def delete_stale_pending_uploads(now):
    """Files kept for a form that was never sent again: deleted a day later (the form refuses them by then)."""
    from core.forms import PENDING_UPLOAD_MAX_AGE
    from core.models import PendingUpload

    stale = PendingUpload.objects.filter(created_at__lt=now - PENDING_UPLOAD_MAX_AGE)
    count = 0
    for upload in stale.iterator():
        upload.file.delete(save=False)
        upload.delete()
        count += 1
    return f"{count} unused uploads deleted"


# A job still running this long after it started lost its worker (a job of 100,000 rows takes minutes).
SPREADSHEET_JOB_STALLED_AFTER = datetime.timedelta(hours=2)


def delete_old_spreadsheet_jobs(now):
    """Spreadsheet jobs and their files (uploaded lists, exports of personal data) are kept a few days only;
    a job whose worker died while running is marked failed."""
    from .models import SpreadsheetJob

    stalled = SpreadsheetJob.objects.filter(
        status=SpreadsheetJob.Status.RUNNING, started_at__lt=now - SPREADSHEET_JOB_STALLED_AFTER
    ).update(status=SpreadsheetJob.Status.FAILED, finished_at=now, report={"stalled": True})
    kept = datetime.timedelta(days=settings.PORTAL_SPREADSHEET_JOB_DAYS)
    old = SpreadsheetJob.objects.filter(created_at__lt=now - kept)
    count = 0
    for job in old.iterator():
        job.delete_files()
        job.delete()
        count += 1
    return f"{count} old spreadsheet jobs deleted, {stalled} stalled ones marked failed"
