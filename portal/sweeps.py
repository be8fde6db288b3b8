"""The registry of deadline sweeps: each is `function(now) -> str` and safe to run twice."""

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


def registered_sweeps():
    return [(path, import_string(path)) for path in settings.PORTAL_SWEEPS]


def run_all(now=None):
    """Run every sweep as of `now`; return [(dotted path, summary of what it changed)]."""
    now = now or timezone.now()
    return [(path, sweep(now)) for path, sweep in registered_sweeps()]


def delete_stale_pending_uploads(now):
    """Files kept for a form that was never sent again: deleted a day later (the form refuses them by then)."""
    from .forms import PENDING_UPLOAD_MAX_AGE
    from .models import PendingUpload

    stale = PendingUpload.objects.filter(created_at__lt=now - PENDING_UPLOAD_MAX_AGE)
    count = 0
    for upload in stale.iterator():
        upload.file.delete(save=False)
        upload.delete()
        count += 1
    return f"{count} unused uploads deleted"
