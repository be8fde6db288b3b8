"""Large imports and exports of the admin run as background jobs (portal.SpreadsheetJob).

Mix BackgroundImportMixin / BackgroundExportMixin in front of django-import-export's ImportMixin / ExportMixin:
a file or a changelist of at most PORTAL_BACKGROUND_SPREADSHEET_ROWS rows keeps the usual pages; a larger one
becomes a job, and the user is sent to the job's page (progress, report, confirmation, download).
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.module_loading import import_string
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import spreadsheets
from .models import SpreadsheetJob

# import-export's row outcomes, as the job's page names them.
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


def job_url(job, name="change"):
    return reverse(f"admin:portal_spreadsheetjob_{name}", args=[job.pk])


def admin_label(model_admin):
    return f"{model_admin.opts.app_label}.{model_admin.opts.model_name}"


class BackgroundImportMixin:
    """Put before ImportMixin. The file is read once here to count its rows; a small one goes on to the usual
    dry-run page unchanged, a large one is stored and checked by the worker."""

    def import_action(self, request, **kwargs):
        confirmable = not self.is_skip_import_confirm_enabled()
        if request.method == "POST" and confirmable and self.has_import_permission(request):
            job = self.create_background_import(request)
            if job is not None:
                messages.info(
                    request,
                    _(
                        "The file has %(rows)s rows: it is checked in the background. When the check is done, its "
                        "result is shown here and you confirm the import."
                    )
                    % {"rows": number_format(job.total_rows, force_grouping=True)},
                )
                return HttpResponseRedirect(job_url(job))
        return super().import_action(request, **kwargs)

    def create_background_import(self, request):
        form = self.create_import_form(request)
        if not form.is_valid():
            return None  # the usual page shows the form's errors
        file_format = self.get_import_formats()[int(form.cleaned_data["format"])]()
        if spreadsheets.format_name(file_format) is None:
            return None
        upload = form.cleaned_data["import_file"]
        data = b"".join(upload.chunks())
        upload.seek(0)  # the usual page reads it again
        try:
            dataset = file_format.create_dataset(data if file_format.is_binary() else data.decode(self.from_encoding))
        except Exception:  # noqa: BLE001 - an unreadable file is reported by the usual page
            return None
        if len(dataset) <= background_threshold():
            return None
        resource_class = self.choose_import_resource_class(form, request)
        job = SpreadsheetJob(
            kind=SpreadsheetJob.Kind.IMPORT,
            created_by=request.user,
            admin_label=admin_label(self),
            resource=spreadsheets.dotted_path(resource_class),
            file_format=spreadsheets.format_name(file_format),
            language=get_language() or "",
            resource_kwargs=spreadsheets.dump_kwargs(self.get_import_resource_kwargs(request, form=form)),
            original_name=upload.name[-150:],
            dry_run=True,
            total_rows=len(dataset),
        )
        with transaction.atomic():
            job.input_file.save("upload", ContentFile(data), save=False)
            job.save()
            job.enqueue()
        return job


class BackgroundExportMixin:
    """Put before ExportMixin. The export form is checked here; when the changelist's queryset (office scope,
    filters, search) has more rows than the threshold, the worker writes the file."""

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
        file_format = formats[int(form.cleaned_data["format"])]()
        if spreadsheets.format_name(file_format) is None:
            return None
        queryset = self.get_export_queryset(request)
        limit = background_threshold()
        if queryset.order_by()[: limit + 1].count() <= limit:  # counts at most limit + 1 rows
            return None
        job = SpreadsheetJob(
            kind=SpreadsheetJob.Kind.EXPORT,
            created_by=request.user,
            admin_label=admin_label(self),
            resource=spreadsheets.dotted_path(self.choose_export_resource_class(form, request)),
            file_format=spreadsheets.format_name(file_format),
            language=get_language() or "",
            query=request.GET.urlencode(),
            resource_kwargs=spreadsheets.dump_kwargs(self.get_export_resource_kwargs(request)),
            export_fields=self.get_export_resource_fields_from_form(form) or [],
        )
        with transaction.atomic():
            job.save()
            job.enqueue()
        return job


@admin.register(SpreadsheetJob)
class SpreadsheetJobAdmin(admin.ModelAdmin):
    """“My spreadsheet jobs”: read-only; each job is its creator's (regional staff see all)."""

    list_display = ("created_at", "kind", "what", "status", "progress", "download")
    list_display_links = ("created_at", "what")
    list_filter = ("kind", "status")
    list_select_related = ("created_by",)
    fields = ("kind", "what", "status", "progress", "created_by", "created_at", "started_at", "finished_at")
    readonly_fields = fields
    actions = None
    change_list_template = "admin/portal/spreadsheetjob/change_list.html"
    change_form_template = "admin/portal/spreadsheetjob/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    def get_object(self, request, object_id, from_field=None):
        job = super().get_object(request, object_id, from_field)
        if job is None:
            raise Http404  # another user's job is not there at all
        return job

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if request.user.sees_all_offices:
            columns.insert(1, "created_by")
        return columns

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("what"))
    def what(self, job):
        try:
            name = import_string(job.resource).get_display_name()
        except ImportError:
            name = job.admin_label
        file_name = job.original_name if job.kind == SpreadsheetJob.Kind.IMPORT else job.result_name
        if job.kind == SpreadsheetJob.Kind.IMPORT and job.dry_run:
            return format_html("{} ({}) – {}", name, file_name, _("check before import"))
        return format_html("{} ({})", name, file_name) if file_name else name

    @admin.display(description=_("progress"))
    def progress(self, job):
        processed, total = job.progress()
        if total is None:
            return "—"
        text = _("%(done)s / %(total)s") % {
            "done": number_format(processed, force_grouping=True),
            "total": number_format(total, force_grouping=True),
        }
        return format_html(
            '<progress max="{}" value="{}" aria-hidden="true"></progress> <span class="job-progress">{}</span>',
            max(total, 1),
            min(processed, total),
            text,
        )

    @admin.display(description=_("file"))
    def download(self, job):
        if job.kind == SpreadsheetJob.Kind.EXPORT and job.status == SpreadsheetJob.Status.DONE and job.result_file:
            return format_html('<a href="{}">{}</a>', job_url(job, "download"), _("Download"))
        return "—"

    # Pages -------------------------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/download/", view(self.download_view), name="portal_spreadsheetjob_download"),
            path("<path:object_id>/confirm/", view(self.confirm_view), name="portal_spreadsheetjob_confirm"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        running = self.get_queryset(request).filter(status__in=SpreadsheetJob.ACTIVE).exists()
        context = {"title": _("My spreadsheet jobs"), "refresh": running, **(extra_context or {})}
        return super().changelist_view(request, context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, unquote(object_id))
        context = {
            "job": job,
            "refresh": job.is_active,
            "progress": self.progress(job),
            "what": self.what(job),
            "can_confirm": job.status == SpreadsheetJob.Status.DRY_RUN_DONE
            and job.created_by_id == request.user.pk
            and self.target_admin(job).has_import_permission(request),
            "download_url": job_url(job, "download") if self.may_download(request, job) else None,
            "totals": [
                (label, number_format(job.report.get("totals", {}).get(name, 0), force_grouping=True))
                for name, label in IMPORT_TOTALS
                if job.report.get("totals", {}).get(name)
            ],
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def target_admin(self, job):
        try:
            return job.get_model_admin()
        except LookupError as exc:
            raise Http404 from exc

    def may_download(self, request, job):
        return job.may_download(request.user) and self.target_admin(job).has_export_permission(request)

    def download_view(self, request, object_id):
        job = self.get_object(request, unquote(object_id))
        if not (job.kind == SpreadsheetJob.Kind.EXPORT and job.status == SpreadsheetJob.Status.DONE):
            raise Http404
        if not self.may_download(request, job):
            raise PermissionDenied  # the export permission was taken away since
        content_type = spreadsheets.FORMATS[job.file_format]().get_content_type()
        response = FileResponse(
            job.result_file.open("rb"), as_attachment=True, filename=job.result_name, content_type=content_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response

    def confirm_view(self, request, object_id):
        job = self.get_object(request, unquote(object_id))  # someone else's job: 404 before anything else
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if job.created_by_id != request.user.pk or not self.target_admin(job).has_import_permission(request):
            raise PermissionDenied
        if job.confirm(request.user):
            messages.info(request, _("The import runs in the background; this page shows its progress."))
        else:
            messages.warning(request, _("This import is not waiting for confirmation."))
        return HttpResponseRedirect(job_url(job))
