import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .uploads import upload_path


class PendingUpload(models.Model):
    """A file that passed its checks on a form that failed elsewhere: kept so the candidate need not
    upload it again. The form carries only the random token; a sweep deletes what was never used."""

    token = models.CharField(max_length=64, unique=True, default=secrets.token_urlsafe)
    field = models.CharField(max_length=50)
    file = models.FileField(upload_to=upload_path, max_length=200)
    original_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        # The table it had when it lived in the portal app (moved without copying a row: core/migrations/0001).
        db_table = "portal_pendingupload"
        verbose_name = _("pending upload")
        verbose_name_plural = _("pending uploads")

    def __str__(self):
        return f"{self.field}: {self.original_name}"


class StatusHistory(models.Model):
    """A history entry of a record with a status table, written by the transition engine (core/transitions.py):
    who (a staff member, or the candidate or the system as `actor`) moved it from which status to which, when and
    why. Subclasses add the record's foreign key and the two status fields with their choices."""

    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.CharField(_("actor"), max_length=20, default="staff")  # staff, candidate, system
    note = models.TextField(_("note"), blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
