"""Resources that can also run as background jobs of django-import-export-extensions (docs/spreadsheet-jobs.md).

The library's ImportJob and ExportJob (models, Celery tasks, progress reported as the task's state) run a resource
by its dotted path, with the JSON arguments the admin stored (core/admin_spreadsheets.py). What a job adds to
the resource, here: the creator's office scope on exports, the creator's language, all or nothing on imports, the
admin log of what an import wrote, and a result small enough to keep on the job (errors and counts, not every
row). Below the admin's threshold the same resources run in the request, as before, and nothing here applies.
"""

import contextlib

from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import models
from django.dispatch import receiver
from django.utils import translation
from django.utils.translation import gettext_noop
from import_export.results import RowResult
from import_export_extensions.resources import CeleryResourceMixin
from import_export_extensions.signals import import_job_failed

from .privacy import mask_text

# django-import-export-extensions ships no translations: what staff see of it (its models' names, its statuses,
# the status filter) is translated in the portal's catalogue, and listed here so that makemessages keeps it.
LIBRARY_MESSAGES = (
    gettext_noop("Import job"),
    gettext_noop("Import jobs"),
    gettext_noop("Export job"),
    gettext_noop("Export jobs"),
    gettext_noop("Job status"),
    gettext_noop("Created"),
    gettext_noop("Parsing"),
    gettext_noop("Parsed"),
    gettext_noop("Input data error"),
    gettext_noop("Parse error"),
    gettext_noop("Import confirmed"),
    gettext_noop("Importing"),
    gettext_noop("Imported"),
    gettext_noop("Import error"),
    gettext_noop("Cancelled"),
    gettext_noop("Exporting"),
    gettext_noop("Export Error"),
    gettext_noop("Exported"),
)
# Set by the sweep on a job whose worker stopped (portal.sweeps.delete_old_spreadsheet_jobs).
WORKER_LOST = "worker lost"
REPORTED_ERRORS = 200  # per-row errors shown on a job's page; the rest are counted
REPORTED_UNMATCHED = 1000


class ImportRefused(Exception):
    """A confirmed import that did not pass its checks again: rolled back, and the job fails with this result."""

    def __init__(self, result):
        super().__init__("The file did not pass the check: nothing was imported.")
        self.result = result


class BackgroundResource(CeleryResourceMixin):
    """Mixed in front of a ModelResource. A job creates it with `created_by` (an export job passes the user, an
    import job the user's pk), `language` and, for exports, `file_name`; the admin's synchronous pages pass none
    of them."""

    def __init__(self, language=None, file_name=None, **kwargs):
        super().__init__(**kwargs)
        self.language = language
        self.file_name = file_name
        if self._created_by is not None and not isinstance(self._created_by, models.Model):
            self._created_by = get_user_model()._default_manager.get(pk=self._created_by)

    @property
    def user(self):
        return self._created_by

    def in_language(self):
        """The job's language (its creator's, when the job was started); in a request, the request's."""
        return translation.override(self.language) if self.language else contextlib.nullcontext()

    @classmethod
    def get_supported_formats(cls):
        return list(settings.IMPORT_EXPORT_FORMATS)

    def generate_export_filename(self, file_format):
        return self.file_name or super().generate_export_filename(file_format)

    # Export: the worker builds the queryset; the creator's scope is applied before the changelist's rows.

    def export(self, queryset=None, **kwargs):
        if queryset is None:
            queryset = self.get_queryset().for_user(self.user)
        with self.in_language():
            return super().export(queryset=queryset, **kwargs)

    # Import

    def _import_data(self, dataset, dry_run=False, **kwargs):
        if self.user is None:  # in the request: the admin page decides the arguments
            return super()._import_data(dataset, dry_run=dry_run, **kwargs)
        # One bad row and the whole file is rolled back, as on the admin's own import page.
        kwargs.update(raise_errors=False, use_transactions=True, rollback_on_validation_errors=True)
        with self.in_language():
            result = super()._import_data(dataset, dry_run=dry_run, **kwargs)
            failed = result.has_errors() or result.has_validation_errors()
            if not dry_run and not failed:
                log_import(result, self.user, self._meta.model)
            keep_for_the_page(result)
        if failed and not dry_run:
            raise ImportRefused(result)
        return result


LOG_FLAGS = {
    RowResult.IMPORT_TYPE_NEW: ADDITION,
    RowResult.IMPORT_TYPE_UPDATE: CHANGE,
    RowResult.IMPORT_TYPE_DELETE: DELETION,
}


def log_import(result, user, model):
    """The admin log of an import, as import-export's admin writes it after an import in the request."""
    if getattr(settings, "IMPORT_EXPORT_SKIP_ADMIN_LOG", False):
        return
    for import_type, flag in LOG_FLAGS.items():
        instances = [row.instance for row in result.rows if row.import_type == import_type and row.instance]
        if instances:
            LogEntry.objects.log_actions(
                user.pk,
                instances,
                flag,
                change_message=f"{import_type} through import_export",
                single_object=len(instances) == 1,
            )


def keep_for_the_page(result):
    """The job keeps its result (pickled): totals, the file's errors and the rows with errors, as text in the
    job's language. Valid rows, their instances and diffs would weigh megabytes for a list of 20,000 rows."""
    result.rows = [row for row in result.rows if row.errors]
    for error in [*result.base_errors, *(error for row in result.rows for error in row.errors)]:
        error.error = mask_text(str(error.error))
        error.row = None  # the row's cells (full document numbers) and the traceback are never shown
        error.__dict__["traceback"] = ""
    for invalid in result.invalid_rows:
        invalid.error, invalid.values = None, ()
        invalid.error_dict = {
            field: [mask_text(str(message)) for message in messages] for field, messages in invalid.error_dict.items()
        }


@receiver(import_job_failed, dispatch_uid="portal.keep_refused_import")
def keep_refused_import(sender, instance, exception=None, **kwargs):
    """A refused import keeps the result of its second check, so that its page says which rows failed."""
    if isinstance(exception, ImportRefused):
        instance.result = exception.result
        instance.save(update_fields=["result"])


def import_report(result):
    """What a job's page shows of an import's result: counts, errors by line (numbered as the file's data
    rows, like the admin's import page) and the rows that match nothing."""
    errors = [
        {"line": line, "field": "", "message": str(error.error)} for line, row_errors in result.row_errors()
        for error in row_errors
    ]  # fmt: skip
    for invalid in result.invalid_rows:
        for field, messages in invalid.error_dict.items():
            name = "" if field == NON_FIELD_ERRORS else field
            errors += [{"line": invalid.number, "field": name, "message": message} for message in messages]
    errors.sort(key=lambda error: error["line"])
    unmatched = list(getattr(result, "unmatched_rows", []))
    return {
        "totals": {str(name): count for name, count in result.totals.items() if count},
        "file_errors": [str(error.error) for error in result.base_errors],
        "errors": errors[:REPORTED_ERRORS],
        "more_errors": max(0, len(errors) - REPORTED_ERRORS),
        "unmatched": unmatched[:REPORTED_UNMATCHED],
        "more_unmatched": max(0, len(unmatched) - REPORTED_UNMATCHED),
    }
