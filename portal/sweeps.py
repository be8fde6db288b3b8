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


# A job still waiting or running this long after it was created or confirmed lost its worker (or its task): a job
# of 100,000 rows takes minutes.
SPREADSHEET_JOB_STALLED_AFTER = datetime.timedelta(hours=2)


def delete_old_spreadsheet_jobs(now):
    """Spreadsheet jobs (django-import-export-extensions) and their files (uploaded lists, exports of personal
    data) are kept a few days only; a job whose worker died while it waited or ran is marked failed."""
    from django.db.models import Q
    from import_export_extensions.models import ExportJob, ImportJob

    from core.spreadsheet_jobs import WORKER_LOST

    stalled = now - SPREADSHEET_JOB_STALLED_AFTER
    Import, Export = ImportJob.ImportStatus, ExportJob.ExportStatus
    lost = {"error_message": WORKER_LOST, "modified": now}
    count = ImportJob.objects.filter(import_status__in=[Import.CREATED, Import.PARSING], created__lt=stalled).update(
        import_status=Import.PARSE_ERROR, **lost
    )
    count += ImportJob.objects.filter(
        import_status__in=[Import.CONFIRMED, Import.IMPORTING], import_started__lt=stalled
    ).update(import_status=Import.IMPORT_ERROR, **lost)
    count += ExportJob.objects.filter(
        Q(export_status=Export.CREATED, created__lt=stalled)
        | Q(export_status=Export.EXPORTING, export_started__lt=stalled)
    ).update(export_status=Export.EXPORT_ERROR, **lost)

    deleted = 0
    kept = now - datetime.timedelta(days=settings.PORTAL_SPREADSHEET_JOB_DAYS)
    for model, files in ((ImportJob, ("data_file", "input_errors_file")), (ExportJob, ("data_file",))):
        for job in model.objects.filter(created__lt=kept).only("pk", *files).iterator():
            for name in files:
                stored = getattr(job, name)
                if stored:
                    stored.delete(save=False)
            job.delete()
            deleted += 1
    return f"{deleted} old spreadsheet jobs deleted, {count} stalled ones marked failed"
