from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """An app only for what Django finds by app: the `portal` template tags and the pending-upload model."""

    name = "core"
    verbose_name = _("Portal")
