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


class DefaultChoiceFilter(admin.SimpleListFilter):
    """A filter with a default choice that applies when the URL names none, unless staff search (a reference or a
    number is looked for everywhere) or narrow the list by one of `overridden_by`; on the changelist page only.
    The sidebar shows the default as chosen; every choice, the widest too, is a link of its own."""

    default = None
    overridden_by = ()

    def __init__(self, request, params, model, model_admin):
        self.searching = bool(request.GET.get("q", "").strip())
        self.narrowed = any(name in request.GET for name in self.overridden_by)
        # The list staff look at, not the export built from the same filters; a batch action on rows ticked one by
        # one acts on those rows (a stale page's row that left the default list is refused with its reason), while
        # "select all" acts on the list as shown.
        match = getattr(request, "resolver_match", None)
        self.on_changelist = bool(match and (match.url_name or "").endswith("_changelist"))
        if request.method == "POST" and request.POST.get("select_across") != "1":
            self.on_changelist = False
        super().__init__(request, params, model, model_admin)

    def default_value(self):
        return self.default

    def value(self):
        chosen = super().value()
        if chosen is None and self.on_changelist and not self.searching and not self.narrowed:
            return self.default_value()
        return chosen

    def choices(self, changelist):
        current = self.value()
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current is not None and str(current) == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class WorkFilter(DefaultChoiceFilter):
    """Open work by default (the querysets' `open_work()`), everything on request; a chosen status wins."""

    title = _("work")
    parameter_name = "work"
    default = "open"
    overridden_by = ("status__exact", "due")

    def lookups(self, request, model_admin):
        return [("open", _("Open work")), ("all", _("All"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.open_work()
        return queryset
