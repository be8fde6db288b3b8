"""The audit log in the admin: read-only for everyone, scoped like every other office-owned list."""

from auditlog.admin import LogEntryAdmin as LibraryLogEntryAdmin
from auditlog.filters import ResourceTypeFilter
from auditlog.models import LogEntry
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core import admin_spreadsheets  # noqa: F401 - registers the lists of spreadsheet jobs
from core.admin_readonly import ReadOnlyAdminMixin
from core.pagination import CappedCountPaginator

from . import admin_reschedule  # noqa: F401 - the session form previews what a date change moves
from .audit import entries_for

# auditlog registers its own admin (unscoped, deletable through cascades); ours replaces it.
if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, LibraryLogEntryAdmin):
    """Read-only, not even deleted through a cascade: an entry outlives its object."""

    list_display = ["created", "resource_url", "action", "msg_short", "details", "user_url", "remote_addr"]
    list_filter = ["action", ResourceTypeFilter]
    # Exact and indexed, never a scan of the changes: the object's id or the actor's username.
    search_fields = ["=object_pk", "=actor__username"]
    search_help_text = _("Object id or staff username (exact).")
    readonly_fields = ["created", "resource_url", "action", "user_url", "remote_addr", "details", "msg"]
    fieldsets = [
        (None, {"fields": ["created", "user_url", "remote_addr", "resource_url"]}),
        (_("Changes"), {"fields": ["action", "details", "msg"]}),
    ]
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 100

    def get_queryset(self, request):
        self.request = request  # auditlog's display methods read it
        return entries_for(request.user, super().get_queryset(request))

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("auditlog.view_logentry")

    @admin.display(description=_("details"))
    def details(self, entry):
        data = entry.additional_data or {}
        if entry.action == LogEntry.Action.ACCESS and data.get("shown"):
            via = data.get("application") or data.get("ticket") or ""
            return _("Full document number shown (%(via)s)") % {"via": via} if via else _("Full document number shown")
        return data.get("reason", "")
