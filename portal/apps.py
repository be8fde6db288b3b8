from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _
from import_export_extensions.apps import CeleryImportExport


class PortalAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "portal.admin_site.PortalAdminSite"


class PortalConfig(AppConfig):
    default = True
    name = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from django.contrib.admin.models import LogEntry as AdminLogEntry
        from django.db.models.signals import pre_save

        from core import privacy

        from . import audit

        audit.register_models()
        pre_save.connect(privacy.mask_admin_log_entry, sender=AdminLogEntry, dispatch_uid="portal.mask_admin_log")


class SpreadsheetJobsConfig(CeleryImportExport):
    """django-import-export-extensions (its models, tasks and migrations), named for staff in the admin index."""

    default = False
    verbose_name = _("Spreadsheet jobs")
