"""Large imports and exports of the admin run as background jobs of django-import-export-extensions.

Mix BackgroundImportMixin / BackgroundExportMixin in front of django-import-export's ImportMixin / ExportMixin:
a file or a changelist of at most PORTAL_BACKGROUND_SPREADSHEET_ROWS rows keeps import-export's pages; a larger
one becomes the library's ImportJob or ExportJob, which the worker runs (core/spreadsheet_jobs.py for what the
resource does there), and the user is sent to the job's page: progress, then the check's report and its
confirmation, or the download. A job's pages answer its creator only, 404 for anyone else (regional staff too).
*Spreadsheet jobs › Import jobs / Export jobs* list a user's own jobs. Why the library's own admin pages are not
used: docs/spreadsheet-jobs.md.
"""

from pathlib import PurePath

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.http import FileResponse, Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.module_loading import import_string
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from import_export.forms import ImportForm, SelectableFieldsExportForm
from import_export_extensions.models import ExportJob, ImportJob

from .admin_readonly import ReadOnlyAdminMixin
from .privacy import mask_text
from .spreadsheet_jobs import WORKER_LOST, import_report

Import, Export = ImportJob.ImportStatus, ExportJob.ExportStatus
ACTIVE = {Import.CREATED, Import.PARSING, Import.CONFIRMED, Import.IMPORTING, Export.CREATED, Export.EXPORTING}
REPORTED = {Import.PARSED, Import.INPUT_ERROR, Import.IMPORTED, Import.IMPORT_ERROR}
# import-export's row outcomes, as a job's page names them.
IMPORT_TOTALS = (
    ("new", _("new")),
    ("update", _("updated")),
    ("delete", _("deleted")),
    ("skip", _("skipped (unchanged)")),
    ("invalid", _("rows with errors")),
    ("error", _("rows that failed")),
)


def background_threshold():
    return settings.PORTAL_BACKGROUND_SPREADSHEET_ROWS


def stored_kwargs(kwargs):
    """Resource arguments as a job stores them (JSON): a model instance by its primary key."""
    stored = {}
    for name, value in kwargs.items():
        if name in ("form", "request"):
            continue  # the page's own objects, which import-export passes along
        if isinstance(value, models.Model):
            value = value.pk
        elif not (value is None or isinstance(value, str | int | float | bool)):
            raise TypeError(f"Resource argument {name!r} cannot be stored with a spreadsheet job.")
        stored[name] = value
    return stored


def kind_of(job):
    return "import" if isinstance(job, ImportJob) else "export"


def status_of(job):
    return job.import_status if isinstance(job, ImportJob) else job.export_status


def status_label(job):
    return job.get_import_status_display() if isinstance(job, ImportJob) else job.get_export_status_display()


def job_url(job, view=""):
    """A job's page (or its confirm/download view) in the admin of the model its resource imports or exports."""
    opts = import_string(job.resource_path)._meta.model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{kind_of(job)}_job{view}", args=[job.pk])


def what(job):
    """The resource's name and the file's, e.g. “Payment records (list.xlsx)”."""
    try:
        name = import_string(job.resource_path).get_display_name()
    except ImportError:
        name = job.resource_path
    return format_html("{} ({})", name, PurePath(job.data_file.name).name) if job.data_file else name


def progress_of(job):
    """(rows done, rows in all) while the worker runs the job: the library reports them as its task's state."""
    if status_of(job) not in ACTIVE:
        return None
    info = (job.progress or {}).get("info")
    if isinstance(info, dict) and info.get("total"):
        return min(info.get("current") or 0, info["total"]), info["total"]
    return None


def progress_html(job):
    progress = progress_of(job)
    if progress is None:
        return "—"
    done, total = progress
    text = _("%(done)s / %(total)s") % {
        "done": number_format(done, force_grouping=True),
        "total": number_format(total, force_grouping=True),
    }
    return format_html(
        '<progress max="{}" value="{}"></progress> <span class="job-progress">{}</span>', total, done, text
    )


class JobPagesMixin:
    """The page of a job, shared by imports and exports: it reloads itself while the worker runs (no script:
    the Content-Security-Policy allows none inline)."""

    job_template = "admin/portal/spreadsheet_job.html"

    def render_job_page(self, request, job, **context):
        status = status_of(job)
        error = ""
        if job.error_message == WORKER_LOST:
            error = _("The worker stopped while running this job. Start the import or export again.")
        elif status in {Import.PARSE_ERROR, Import.IMPORT_ERROR, Export.EXPORT_ERROR}:
            error = _("The job stopped with an error: %(error)s") % {"error": mask_text(job.error_message)}
        jobs = reverse(f"admin:{job._meta.app_label}_{job._meta.model_name}_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": what(job),
            "job": job,
            "kind": kind_of(job),
            "status": status_label(job),
            "refresh": status in ACTIVE,
            "progress": progress_html(job),
            "error": error,
            "jobs_url": jobs,
            **context,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.job_template, context)


class FormatFromFileImportForm(ImportForm):
    """The import form whose format is, unless staff choose another, the type of the file they chose (its
    extension): the first choice says so, and nobody has to pick "xlsx" for a .xlsx file."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        field = self.fields["format"]
        field.required = False
        field.choices = [("", _("The file's type")), *[choice for choice in field.choices if choice[0] != ""]]

    def clean(self):
        data = super().clean()
        upload = data.get("import_file")
        if not data.get("format") and upload is not None:
            extension = PurePath(upload.name).suffix.lstrip(".").lower()
            titles = {str(title).lower(): value for value, title in self.fields["format"].choices if value != ""}
            if extension in titles:
                data["format"] = titles[extension]
            else:
                self.add_error("format", _("Choose the format: the file's type is not one of them."))
        return data


class BackgroundImportMixin(JobPagesMixin):
    """Put before ImportMixin. The file is read once here to count its rows; a small one goes on to the usual
    dry-run page unchanged, a large one is stored and checked by the worker, then confirmed on the job's page."""

    import_form_class = FormatFromFileImportForm

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}_import_job"
        view = self.admin_site.admin_view
        return [
            path("import-jobs/<int:job_id>/", view(self.import_job_view), name=prefix),
            path("import-jobs/<int:job_id>/confirm/", view(self.import_job_confirm_view), name=f"{prefix}_confirm"),
            *super().get_urls(),
        ]

    def import_action(self, request, **kwargs):
        confirmable = not self.is_skip_import_confirm_enabled()
        if request.method == "POST" and confirmable and self.has_import_permission(request):
            job, rows = self.create_background_import(request)
            if job is not None:
                messages.info(
                    request,
                    _(
                        "The file has %(rows)s rows: it is checked in the background. When the check is done, its "
                        "result is shown here and you confirm the import."
                    )
                    % {"rows": number_format(rows, force_grouping=True)},
                )
                return HttpResponseRedirect(job_url(job))
        return super().import_action(request, **kwargs)

    def create_background_import(self, request):
        """(the new job, its rows), or (None, None) when the usual page handles the file."""
        form = self.create_import_form(request)
        if not form.is_valid():
            return None, None  # the usual page shows the form's errors
        file_format = self.get_import_formats()[int(form.cleaned_data["format"])]()
        upload = form.cleaned_data["import_file"]
        data = b"".join(upload.chunks())
        upload.seek(0)  # the usual page reads it again
        try:
            if not file_format.is_binary():
                # Stored as UTF-8 without a byte-order mark, which is how the job reads it back.
                data = data.decode(self.from_encoding).encode("utf-8")
            dataset = file_format.create_dataset(data if file_format.is_binary() else data.decode("utf-8"))
        except Exception:  # noqa: BLE001 - an unreadable file is reported by the usual page
            return None, None
        if len(dataset) <= background_threshold():
            return None, None
        resource_class = self.choose_import_resource_class(form, request)
        # The job finds the format by the file's extension: the one of the format chosen on the form.
        name = f"{PurePath(upload.name).stem[:100] or 'upload'}.{file_format.get_extension()}"
        job = ImportJob.objects.create(
            resource_path=resource_class.class_path,
            resource_kwargs={
                **stored_kwargs(self.get_import_resource_kwargs(request, form=form)),
                "created_by": request.user.pk,
                "language": get_language(),
            },
            data_file=ContentFile(data, name=name),
            created_by=request.user,
        )  # the library starts the check when the transaction commits
        return job, len(dataset)

    def get_import_job(self, request, job_id):
        """The user's own import job of this list: anyone else's is not there at all (404)."""
        paths = [resource_class.class_path for resource_class in self.get_import_resource_classes(request)]
        return get_object_or_404(ImportJob, pk=job_id, created_by=request.user, resource_path__in=paths)

    def import_job_view(self, request, job_id):
        job = self.get_import_job(request, job_id)
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        status = job.import_status
        report = import_report(job.result) if status in REPORTED else None
        refused = {}
        if status == Import.IMPORT_ERROR:
            if report["errors"] or report["file_errors"]:
                refused = {"error": ""}  # the second check failed: its errors say what happened
            else:
                report = None  # stopped by an error of its own: the check's report no longer applies
        if status == Import.IMPORTED:
            self.add_success_message(job.result, request)  # what the import page says after an import
        counts = (report or {}).get("totals", {})
        totals = [(label, counts[name]) for name, label in IMPORT_TOTALS if name in counts]
        return self.render_job_page(
            request,
            job,
            report=report,
            checked=status in {Import.PARSED, Import.INPUT_ERROR},
            totals=[(label, number_format(count, force_grouping=True)) for label, count in totals],
            can_confirm=status == Import.PARSED and self.has_import_permission(request),
            confirm_url=job_url(job, "_confirm"),
            **refused,
        )

    def import_job_confirm_view(self, request, job_id):
        job = self.get_import_job(request, job_id)  # someone else's job: 404 before anything else
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_import_permission(request):
            raise PermissionDenied
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=job.pk)
            confirmable = job.import_status == Import.PARSED
            if confirmable:
                job.confirm_import()  # the import task starts when this transaction commits
        if confirmable:
            messages.info(request, _("The import runs in the background; this page shows its progress."))
        else:
            messages.warning(request, _("This import is not waiting for confirmation."))
        return HttpResponseRedirect(job_url(job))


class ColumnNamesExportForm(SelectableFieldsExportForm):
    """The export form whose field boxes are labelled with the columns' own names, in the admin's language
    (the library writes "Reference (参考号)": the attribute's English name, then the column's)."""

    def _get_field_label(self, resource, field_name):
        field = resource.fields.get(field_name)
        if field is not None and field.column_name and field.column_name != field_name:
            return capfirst(str(field.column_name))
        return super()._get_field_label(resource, field_name)


class BackgroundExportMixin(JobPagesMixin):
    """Put before ExportMixin. The export form is checked here; when the changelist's export queryset (office
    scope, filters, search) has more rows than the threshold, the worker writes the file. The job keeps the
    primary keys of those rows (the library's way of carrying the changelist to the worker); the worker applies
    the creator's office scope again."""

    export_form_class = ColumnNamesExportForm

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}_export_job"
        view = self.admin_site.admin_view
        return [
            path("export-jobs/<int:job_id>/", view(self.export_job_view), name=prefix),
            path("export-jobs/<int:job_id>/download/", view(self.export_job_download_view), name=f"{prefix}_download"),
            *super().get_urls(),
        ]

    def export_action(self, request):
        if request.method == "POST" and self.has_export_permission(request) and "export_items" not in request.POST:
            job = self.create_background_export(request)
            if job is not None:
                messages.info(
                    request,
                    _(
                        "More than %(rows)s rows: the file is written in the background. "
                        "Download it from this page when it is ready."
                    )
                    % {"rows": number_format(background_threshold(), force_grouping=True)},
                )
                return HttpResponseRedirect(job_url(job))
        return super().export_action(request)

    def create_background_export(self, request):
        formats = self.get_export_formats()
        form = self.get_export_form_class()(formats, self.get_export_resource_classes(request), data=request.POST)
        if not form.is_valid():
            return None
        file_format = formats[int(form.cleaned_data["format"])]
        queryset = self.get_export_queryset(request)
        limit = background_threshold()
        if queryset.order_by()[: limit + 1].count() <= limit:  # counts at most limit + 1 rows
            return None
        ordering = [name for name in queryset.query.order_by if isinstance(name, str)] or ["pk"]
        return ExportJob.objects.create(
            resource_path=self.choose_export_resource_class(form, request).class_path,
            file_format_path=f"{file_format.__module__}.{file_format.__qualname__}",
            resource_kwargs={
                **stored_kwargs(self.get_export_resource_kwargs(request)),
                "admin_filters": {"pk__in": list(queryset.order_by().values_list("pk", flat=True))},
                "ordering": ordering,
                "export_fields": self.get_export_resource_fields_from_form(form) or None,
                "language": get_language(),
                "file_name": self.get_export_filename(request, queryset, file_format()),
            },
            created_by=request.user,
        )  # the library starts the export when the transaction commits

    def get_export_job(self, request, job_id):
        """The user's own export job of this list: anyone else's is not there at all (404)."""
        paths = [resource_class.class_path for resource_class in self.get_export_resource_classes(request)]
        return get_object_or_404(ExportJob, pk=job_id, created_by=request.user, resource_path__in=paths)

    def export_job_view(self, request, job_id):
        job = self.get_export_job(request, job_id)
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        ready = job.export_status == Export.EXPORTED and bool(job.data_file)
        download = job_url(job, "_download") if ready and self.has_export_permission(request) else None
        return self.render_job_page(request, job, download_url=download)

    def export_job_download_view(self, request, job_id):
        job = self.get_export_job(request, job_id)
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        if not (job.export_status == Export.EXPORTED and job.data_file):
            raise Http404
        if not self.has_export_permission(request):
            raise PermissionDenied  # the export permission was taken away since
        response = FileResponse(
            job.data_file.open("rb"),
            as_attachment=True,
            filename=PurePath(job.data_file.name).name,
            content_type=job.file_format.get_content_type(),
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


# Spreadsheet jobs › Import jobs / Export jobs: each user's own --------------------------------------------

# The library registers its own admins of the two models: unscoped, for debugging (tracebacks, arguments).
for model in (ImportJob, ExportJob):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class OwnJobsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A user's own jobs, read-only; each row leads to the job's page."""

    list_display = ("created_at", "job", "status", "progress")
    list_display_links = None
    actions = None

    def get_queryset(self, request):
        # The pickled result can weigh a few hundred kilobytes; the list never reads it.
        return super().get_queryset(request).filter(created_by=request.user).defer("result")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        if job is None:
            raise Http404  # another user's job is not there at all
        return HttpResponseRedirect(job_url(job))

    @admin.display(description=_("created"), ordering="created")
    def created_at(self, job):
        return job.created

    @admin.display(description=_("job"))
    def job(self, job):
        return format_html('<a href="{}">{}</a>', job_url(job), what(job))

    @admin.display(description=_("status"))
    def status(self, job):
        return status_label(job)

    @admin.display(description=_("progress"))
    def progress(self, job):
        return progress_html(job)


@admin.register(ImportJob)
class ImportJobAdmin(OwnJobsAdmin):
    list_filter = ("import_status",)


@admin.register(ExportJob)
class ExportJobAdmin(OwnJobsAdmin):
    list_filter = ("export_status",)
