from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from .admin_scoping import OfficeScopedAdmin
from .models import CalendarDay, CalendarYear, Office, User
from .resources import OfficeResource
from .sessions import end_sessions


@admin.register(Office)
class OfficeAdmin(ImportExportModelAdmin, OfficeScopedAdmin):
    resource_classes = [OfficeResource]
    list_display = ("code", "name_zh", "name_en", "phone", "email", "hours_zh")
    search_fields = ("code", "name_zh", "name_en")
    fieldsets = (
        (None, {"fields": ("code", "name_zh", "name_en")}),
        (_("Contact"), {"fields": ("address_zh", "address_en", "phone", "email", "hours_zh", "hours_en")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj else ()

    def has_delete_permission(self, request, obj=None):
        # Offices are reference data that applications and staff point to; they are edited, not deleted.
        return False


@admin.register(User)
class StaffAdmin(UserAdmin, OfficeScopedAdmin):
    list_display = ("username", "last_name", "first_name", "office", "role", "is_active", "last_login")
    list_filter = ("office", "role", "is_active")
    list_select_related = ("office",)
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("office", "username")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("last_name", "first_name", "email")}),
        (_("Office and role"), {"fields": ("office", "role", "is_active", "is_staff")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "office", "role", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined")

    def save_model(self, request, obj, form, change):
        # Every account made here is a staff account; its permissions come from its role.
        obj.is_staff = True
        super().save_model(request, obj, form, change)
        if change and not obj.is_active and "is_active" in form.changed_data:
            end_sessions(obj)  # deactivating an account logs it out everywhere


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "note")
    list_filter = ("kind",)
    date_hierarchy = "date"
    search_fields = ("note",)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    """Regional staff mark a year complete once its holidays and make-up days are entered."""

    list_display = ("year", "complete", "marked_complete_by", "marked_complete_at")
    readonly_fields = ("marked_complete_by", "marked_complete_at")

    def save_model(self, request, obj, form, change):
        if "complete" in form.changed_data:
            obj.marked_complete_by = request.user.get_username() if obj.complete else ""
            obj.marked_complete_at = timezone.now() if obj.complete else None
        super().save_model(request, obj, form, change)
