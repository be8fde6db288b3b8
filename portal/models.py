import secrets

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
        verbose_name = _("pending upload")
        verbose_name_plural = _("pending uploads")

    def __str__(self):
        return f"{self.field}: {self.original_name}"
