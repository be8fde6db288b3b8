from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class DueFilter(admin.SimpleListFilter):
    """Open work due today or overdue, for any queryset with due_today() and overdue() (applications, tickets)."""

    title = _("due")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("today", _("Due today")), ("overdue", _("Overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "today":
            return queryset.due_today()
        if self.value() == "overdue":
            return queryset.overdue()
        return queryset
