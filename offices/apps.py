from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OfficesConfig(AppConfig):
    name = "offices"
    verbose_name = _("Offices and staff")

    def ready(self):
        from .roles import sync_role_groups

        # Permissions are created by post_migrate too, so the groups are synced after every app's
        # migrations (idempotent); a data migration cannot do it on a fresh database.
        post_migrate.connect(sync_role_groups, dispatch_uid="offices.sync_role_groups")

        from django.contrib.auth.signals import user_logged_in

        from .sessions import record_session

        # Each login's session key is recorded under the user, so deactivating the account can end it.
        user_logged_in.connect(record_session, dispatch_uid="offices.record_session")
