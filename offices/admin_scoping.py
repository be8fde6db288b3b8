"""The admin base class for every office-owned model: one mechanism, deny by default."""

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.http import Http404
from django.utils.html import format_html
from django.utils.translation import gettext as _

from core.pagination import CappedCountPaginator

from .models import Office


class PortalChangeList(ChangeList):
    """Django's changelist, with the filters carried by each row's link (?_changelist_filters=…, so that staff
    come back to the filtered list) added once per page: Django resolves every row's URL again to decide that,
    half a millisecond a row whenever a filter is on."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.row_filters, self.preserved_filters = self.preserved_filters, ""

    def url_for_result(self, result):
        url = super().url_for_result(result)
        return f"{url}?{self.row_filters}" if self.row_filters else url


class OfficeScopedAdmin(admin.ModelAdmin):
    """Changelist, change view, history, delete, actions and exports see only the user's office.

    Foreign-key choices are scoped the same way, and another office's object by URL is a 404.
    Autocomplete goes through the target model's admin, so it is scoped when that admin is.
    Changelists count at most 10,000 rows (core/pagination.py).
    """

    paginator = CappedCountPaginator

    def get_changelist(self, request, **kwargs):
        return PortalChangeList

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def _scoped_choices(self, db_field, request, kwargs):
        queryset = kwargs.get("queryset")
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.all()
        if hasattr(queryset, "for_user"):
            kwargs["queryset"] = queryset.for_user(request.user)
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = self._scoped_choices(db_field, request, kwargs)
        if db_field.remote_field.model is Office and not request.user.sees_all_offices:
            kwargs.setdefault("initial", request.user.office_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs = self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def action_checkbox(self, obj):
        """Django's checkbox column, the same HTML written directly: rendering a CheckboxInput through the form
        templates costs about a millisecond a row, a quarter of a 100-row changelist."""
        label = format_html(_("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )

    #: A column naming the row's office, shown only to staff who see every office.
    office_column = None

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if self.office_column and request.user.sees_all_offices:
            columns.insert(1, self.office_column)
        return columns

    def get_list_select_related(self, request):
        # The office is joined only for those who see its column.
        related = super().get_list_select_related(request)
        if self.office_column and not request.user.sees_all_offices and isinstance(related, list | tuple):
            return [name for name in related if name != self.office_column]
        return related

    def get_list_filter(self, request):
        list_filter = super().get_list_filter(request)
        if request.user.sees_all_offices:
            return list_filter
        return [f for f in list_filter if f != "office"]
