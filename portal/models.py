import logging

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.privacy import mask_text
from core.uploads import upload_path

logger = logging.getLogger(__name__)


class SpreadsheetJobQuerySet(models.QuerySet):
    def for_user(self, user):
        """A job is its creator's; regional staff see every job. Deny by default."""
        if not (user.is_active and user.is_staff):
            return self.none()
        if user.sees_all_offices:
            return self
        return self.filter(created_by=user)


class SpreadsheetJob(models.Model):
    """An import or export of the admin too large for one page load, run by the worker (portal.tasks).

    The job keeps what the admin page knew: the ModelAdmin, the resource, the changelist's query string (so
    the worker rebuilds the same scoped, filtered queryset for the creator) or the uploaded file. An import
    runs first as a dry run; the creator confirms it on the job's page, and the stored file is imported
    (and checked again) in one transaction. The work itself is in portal.spreadsheets.
    """

    class Kind(models.TextChoices):
        IMPORT = "import", _("import")
        EXPORT = "export", _("export")

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting for the worker")
        RUNNING = "running", _("running")
        DRY_RUN_DONE = "dry_run_done", _("checked: waiting for confirmation")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    class Format(models.TextChoices):
        XLSX = "xlsx", "xlsx"
        CSV = "csv", "csv"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.CASCADE, related_name="+"
    )
    # "app_label.model_name" of the ModelAdmin, and the dotted path of its resource class.
    admin_label = models.CharField(_("list"), max_length=100)
    resource = models.CharField(_("resource"), max_length=200)
    file_format = models.CharField(_("file format"), max_length=10, choices=Format.choices)
    language = models.CharField(_("language"), max_length=10, blank=True)
    query = models.TextField(_("changelist query"), blank=True)
    resource_kwargs = models.JSONField(_("resource arguments"), default=dict, blank=True)
    export_fields = models.JSONField(_("exported fields"), default=list, blank=True)
    input_file = models.FileField(_("uploaded file"), upload_to=upload_path, max_length=200, blank=True)
    original_name = models.CharField(_("uploaded file name"), max_length=150, blank=True)
    result_file = models.FileField(_("result file"), upload_to=upload_path, max_length=200, blank=True)
    result_name = models.CharField(_("result file name"), max_length=150, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED)
    dry_run = models.BooleanField(_("dry run"), default=False)
    total_rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    processed_rows = models.PositiveIntegerField(_("rows done"), default=0)
    report = models.JSONField(_("report"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = SpreadsheetJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("spreadsheet job")
        verbose_name_plural = _("my spreadsheet jobs")

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_active(self):
        return self.status in self.ACTIVE

    @property
    def progress_cache_key(self):
        return f"portal:spreadsheet-job:{self.pk}:processed"

    def progress(self):
        """(rows done, rows in all). A running import counts in the cache: its rows are written inside one
        transaction, where a count saved in the database would not be seen until the end."""
        processed = self.processed_rows
        if self.status == self.Status.RUNNING and self.kind == self.Kind.IMPORT:
            processed = cache.get(self.progress_cache_key, processed)
        return processed, self.total_rows

    def get_model_admin(self):
        from django.contrib import admin

        return admin.site.get_model_admin(apps.get_model(self.admin_label))

    def enqueue(self):
        from .tasks import run_spreadsheet_job

        job_id = self.pk
        transaction.on_commit(lambda: run_spreadsheet_job.delay(job_id))

    @classmethod
    def claim(cls, job_id):
        """Move a queued job to running; None when it is not queued (already taken, or confirmed twice)."""
        with transaction.atomic():
            job = cls.objects.select_for_update().filter(pk=job_id, status=cls.Status.QUEUED).first()
            if job is None:
                return None
            job.status, job.started_at, job.finished_at = cls.Status.RUNNING, timezone.now(), None
            job.processed_rows = 0
            job.save(update_fields=["status", "started_at", "finished_at", "processed_rows"])
        return job

    def run(self):
        """Do the claimed job to its end: the export file is written, or the import checked or applied."""
        from . import spreadsheets

        try:
            with translation.override(self.language or settings.LANGUAGE_CODE):
                if self.kind == self.Kind.EXPORT:
                    spreadsheets.run_export(self)
                else:
                    spreadsheets.run_import(self)
        except Exception as exc:
            logger.exception("Spreadsheet job %s failed", self.pk)
            cache.delete(self.progress_cache_key)
            self.finish(self.Status.FAILED, error=mask_text(f"{type(exc).__name__}: {exc}")[:1000])

    def update_progress(self, **fields):
        """Write progress outside of any import transaction, so the job's page sees it at once."""
        type(self).objects.filter(pk=self.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)

    def finish(self, status, **fields):
        for name, value in {"status": status, "finished_at": timezone.now(), **fields}.items():
            setattr(self, name, value)
        self.save()

    def confirm(self, user):
        """The creator confirms a checked import: it runs again on the same file, this time for real.
        Returns False when the job is not waiting for confirmation (a second click changes nothing)."""
        with transaction.atomic():
            job = type(self).objects.select_for_update().get(pk=self.pk)
            if job.status != self.Status.DRY_RUN_DONE or job.created_by_id != user.pk:
                return False
            job.status, job.dry_run, job.processed_rows, job.error = self.Status.QUEUED, False, 0, ""
            job.started_at = job.finished_at = None
            job.save()
            job.enqueue()
        self.refresh_from_db()
        return True

    def may_download(self, user):
        return (
            self.kind == self.Kind.EXPORT
            and self.status == self.Status.DONE
            and bool(self.result_file)
            and (self.created_by_id == user.pk or user.sees_all_offices)
        )

    def delete_files(self):
        for field in (self.input_file, self.result_file):
            if field:
                field.delete(save=False)
