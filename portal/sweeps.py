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
