"""The work of a spreadsheet job (portal.models.SpreadsheetJob), done by the worker.

The worker does what the admin page would have done, as the job's creator: a request is rebuilt with the
changelist's query string, so ModelAdmin.get_export_queryset() applies the same office scope, filters and
search; the ModelAdmin's own resource classes, permissions, import arguments, admin log and success messages
are used. Exports are written row by row (openpyxl's write-only workbook, or the csv module) with the
resource's headers and export_field(), so masking and formula neutralising stay as they are.
"""

import csv
import datetime
import decimal
import io
import tempfile

from django.contrib.messages import DEFAULT_TAGS
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.files import File
from django.db import models
from django.test import RequestFactory
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext
from import_export.formats import base_formats
from import_export.signals import post_export, post_import

from core.privacy import mask_text
from core.xlsx import StreamingXLSX

EXPORT_CHUNK_ROWS = 2000  # rows read per query, and how often an export saves its progress
IMPORT_PROGRESS_EVERY = 200  # rows between two progress counts of an import (in the cache)
PROGRESS_CACHE_SECONDS = 24 * 3600
REPORTED_ERRORS = 200  # per-row errors kept in a job's report; the rest are counted
REPORTED_UNMATCHED = 1000
FORMATS = {"xlsx": StreamingXLSX, "csv": base_formats.CSV}


def format_name(file_format):
    """ "xlsx" or "csv" for an import-export format instance; None for formats the jobs do not write."""
    name = file_format.get_extension()
    return name if name in FORMATS else None


def dotted_path(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def resource_class_of(job, allowed):
    """The job's resource class, found among those the ModelAdmin offers to this user (never imported by name)."""
    for cls in allowed:
        if dotted_path(cls) == job.resource:
            return cls
    raise PermissionDenied(f"{job.resource} is not a resource of {job.admin_label}")


# Resource arguments (e.g. the exam session of a payment list) are kept as JSON; model instances by primary key.


def dump_kwargs(kwargs):
    dumped = {}
    for name, value in kwargs.items():
        if name in ("form", "request"):
            continue  # the page's own objects; the worker has its own request
        if isinstance(value, models.Model):
            dumped[name] = {"__model__": value._meta.label_lower, "pk": value.pk}
        elif value is None or isinstance(value, str | int | float | bool):
            dumped[name] = value
        else:
            raise TypeError(f"Resource argument {name!r} cannot be stored with a spreadsheet job.")
    return dumped


def load_kwargs(dumped):
    from django.apps import apps

    loaded = {}
    for name, value in (dumped or {}).items():
        if isinstance(value, dict) and "__model__" in value:
            value = apps.get_model(value["__model__"])._default_manager.get(pk=value["pk"])
        loaded[name] = value
    return loaded


class CollectedMessages:
    """The messages storage of the worker's request: the ModelAdmin's success messages go into the report."""

    def __init__(self):
        self.collected = []

    def add(self, level, message, extra_tags=""):
        self.collected.append({"level": DEFAULT_TAGS.get(level, "info"), "text": mask_text(str(message))})


def job_request(job, model_admin):
    """A GET of the changelist by the job's creator, with the query string of the page the job came from."""
    opts = model_admin.opts
    path = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist", current_app=model_admin.admin_site.name)
    request = RequestFactory().get(f"{path}?{job.query}" if job.query else path)
    request.user = job.created_by
    request.LANGUAGE_CODE = job.language
    request.current_app = model_admin.admin_site.name
    request._messages = CollectedMessages()
    return request


# Export ----------------------------------------------------------------------------------------------------


def _xlsx_value(value):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        from django.utils import timezone

        return timezone.localtime(value).replace(tzinfo=None)  # Excel has no time zones
    if value is None or isinstance(
        value, bool | int | float | decimal.Decimal | datetime.date | datetime.time | datetime.timedelta
    ):
        return value
    return str(value)


class XlsxWriter:
    binary = True

    def __init__(self, out, title):
        from openpyxl import Workbook

        self.out = out
        self.book = Workbook(write_only=True)
        # Sheet titles are at most 31 characters, without []:*?/\
        self.sheet = self.book.create_sheet(title="".join(c for c in str(title) if c not in "[]:*?/\\")[:31] or "1")

    def header(self, values):
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        cells = []
        for value in values:
            cell = WriteOnlyCell(self.sheet, value=_xlsx_value(value))
            cell.font = Font(bold=True)
            cells.append(cell)
        self.sheet.append(cells)

    def row(self, values):
        self.sheet.append([_xlsx_value(value) for value in values])

    def close(self):
        self.book.save(self.out)


class CsvWriter:
    binary = False

    def __init__(self, out, title):
        self.text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        self.writer = csv.writer(self.text)

    def header(self, values):
        self.row(values)

    def row(self, values):
        self.writer.writerow(["" if value is None else str(value) for value in values])

    def close(self):
        self.text.flush()
        self.text.detach()  # the caller's file stays open


WRITERS = {"xlsx": XlsxWriter, "csv": CsvWriter}


def run_export(job):
    model_admin = job.get_model_admin()
    request = job_request(job, model_admin)
    if not model_admin.has_export_permission(request):
        raise PermissionDenied(gettext("You may no longer export this list."))
    resource_class = resource_class_of(job, model_admin.get_export_resource_classes(request))
    resource = resource_class(**load_kwargs(job.resource_kwargs))
    queryset = model_admin.get_export_queryset(request)
    resource.before_export(queryset)
    queryset = resource.filter_export(queryset)
    job.update_progress(total_rows=queryset.count(), processed_rows=0)

    selected = job.export_fields or None
    file_format = FORMATS[job.file_format]()
    done = 0
    with tempfile.TemporaryFile() as out:
        writer = WRITERS[job.file_format](out, resource.get_display_name())
        writer.header(resource.get_export_headers(selected_fields=selected))
        # iterator(chunk_size) keeps memory flat, prefetch_related included.
        for instance in queryset.iterator(chunk_size=EXPORT_CHUNK_ROWS):
            writer.row(resource.export_resource(instance, selected_fields=selected, force_native_type=writer.binary))
            done += 1
            if done % EXPORT_CHUNK_ROWS == 0:
                job.update_progress(processed_rows=done)
        writer.close()
        out.seek(0)
        name = model_admin.get_export_filename(request, queryset, file_format)
        job.result_file.save(name, File(out), save=False)
    post_export.send(sender=None, model=model_admin.model)
    job.finish(job.Status.DONE, result_name=name[:150], processed_rows=done, total_rows=max(done, job.total_rows or 0))


# Import ----------------------------------------------------------------------------------------------------


class ImportProgress:
    """Mixed into the job's resource class: every IMPORT_PROGRESS_EVERY rows the count goes to the cache."""

    progress_key = None

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        number = kwargs.get("row_number") or 0
        if number % IMPORT_PROGRESS_EVERY == 0:
            cache.set(self.progress_key, number, PROGRESS_CACHE_SECONDS)


def tracked_resource_class(resource_class, progress_key):
    tracked = type(resource_class)(
        f"Tracked{resource_class.__name__}",
        (ImportProgress, resource_class),
        {"progress_key": progress_key, "__module__": resource_class.__module__},
    )
    # The job's page shows counts and errors, not each row's changes (skip_diff would also stop skip_unchanged).
    tracked._meta.skip_html_diff = True
    return tracked


def read_dataset(job, model_admin):
    file_format = FORMATS[job.file_format]()
    with job.input_file.open("rb") as stored:
        data = stored.read()
    if not file_format.is_binary():
        data = data.decode(model_admin.from_encoding)
    return file_format.create_dataset(data)


def import_report(result):
    """What the import page would show, as JSON: counts, errors of the file and of each row (line numbers of
    the file's data rows, as the page numbers them), and the rows that match nothing."""
    errors = [
        {"line": line, "field": "", "message": mask_text(str(error.error))}
        for line, row_errors in result.row_errors()
        for error in row_errors
    ]
    for invalid in result.invalid_rows:
        for field, messages in invalid.error_dict.items():
            for message in messages:
                name = "" if field == NON_FIELD_ERRORS else field
                errors.append({"line": invalid.number, "field": name, "message": mask_text(str(message))})
    errors.sort(key=lambda error: error["line"])
    unmatched = [list(row) for row in getattr(result, "unmatched_rows", [])]
    return {
        "totals": {str(name): count for name, count in result.totals.items()},
        "rows": result.total_rows,
        "file_errors": [mask_text(str(error.error)) for error in result.base_errors],
        "errors": errors[:REPORTED_ERRORS],
        "more_errors": max(0, len(errors) - REPORTED_ERRORS),
        "unmatched": unmatched[:REPORTED_UNMATCHED],
        "more_unmatched": max(0, len(unmatched) - REPORTED_UNMATCHED),
        "messages": [],
    }


def run_import(job):
    model_admin = job.get_model_admin()
    request = job_request(job, model_admin)
    if not model_admin.has_import_permission(request):
        raise PermissionDenied(gettext("You may no longer import into this list."))
    resource_class = resource_class_of(job, model_admin.get_import_resource_classes(request))
    dataset = read_dataset(job, model_admin)
    job.update_progress(total_rows=len(dataset), processed_rows=0)
    cache.set(job.progress_cache_key, 0, PROGRESS_CACHE_SECONDS)

    resource = tracked_resource_class(resource_class, job.progress_cache_key)(**load_kwargs(job.resource_kwargs))
    import_kwargs = {
        **model_admin.get_import_data_kwargs(request=request),
        # All or nothing: one bad row and the whole file is rolled back.
        "rollback_on_validation_errors": True,
        "retain_instance_in_row_result": True,
    }
    result = resource.import_data(
        dataset,
        dry_run=job.dry_run,
        raise_errors=False,
        use_transactions=True,
        file_name=job.original_name,
        user=job.created_by,
        **import_kwargs,
    )
    report = import_report(result)
    failed = result.has_errors() or result.has_validation_errors()
    if not job.dry_run and not failed:
        model_admin.generate_log_entries(result, request)
        model_admin.add_success_message(result, request)
        post_import.send(sender=None, model=model_admin.model)
        report["messages"] = request._messages.collected
    cache.delete(job.progress_cache_key)
    done = job.Status.DRY_RUN_DONE if job.dry_run else job.Status.DONE
    job.finish(job.Status.FAILED if failed else done, report=report, processed_rows=result.total_rows)
