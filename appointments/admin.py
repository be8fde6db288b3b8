"""The counter's side: each office's hours and closed days (managers), its visits, and today's visits with the
check-in by reference (typed or scanned from the QR code of the printable form), which opens the request."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin_readonly import ReadOnlyAdminMixin
from core.privacy import mask_name
from core.references import normalize_reference
from core.templatetags.portal import moment
from offices.admin_scoping import OfficeScopedAdmin
from tickets.models import Kind

from . import booking as rules
from .models import BEIJING, FOREIGN_REGISTRATION, Booking, ClosedDay, CounterSettings, Status
from .visitors import FOREIGN_REGISTRATION_LABEL, by_reference

CHECK_IN = "appointments.check_in_booking"


def _displaced_message(request, displaced):
    """Staff are told which bookings no longer fit (their candidates were emailed an offer to book again)."""
    if displaced:
        listed = ", ".join(f"{b.visitor.reference} ({moment(b.slot.starts_at)})" for b in displaced)
        messages.warning(
            request,
            _("%(count)s booked visits no longer fit and need a new time; their candidates were emailed: %(list)s")
            % {"count": len(displaced), "list": listed},
        )


class CounterSettingsForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(
        label=_("request kinds that book a visit"),
        choices=[*Kind.choices, (FOREIGN_REGISTRATION, FOREIGN_REGISTRATION_LABEL)],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = CounterSettings
        fields = [
            "office",
            "morning_start",
            "morning_end",
            "afternoon_start",
            "afternoon_end",
            "slot_minutes",
            "counters",
            "change_cutoff_hours",
            "days_ahead",
            "kinds",
            "visitor_note",
        ]


@admin.register(CounterSettings)
class CounterSettingsAdmin(OfficeScopedAdmin):
    form = CounterSettingsForm
    list_display = [
        "office",
        "morning_start",
        "morning_end",
        "afternoon_start",
        "afternoon_end",
        "slot_minutes",
        "counters",
        "visitor_note",
    ]
    list_select_related = ["office"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _displaced_message(request, rules.reconcile_office(obj.office))


@admin.register(ClosedDay)
class ClosedDayAdmin(OfficeScopedAdmin):
    list_display = ["date", "office", "note"]
    list_select_related = ["office"]
    list_filter = ["office"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _displaced_message(request, rules.reconcile_office(obj.office))

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        rules.reconcile_office(obj.office)


class DayFilter(admin.SimpleListFilter):
    title = _("day")
    parameter_name = "day"

    def lookups(self, request, model_admin):
        return [("today", _("Today")), ("tomorrow", _("Tomorrow")), ("upcoming", _("Upcoming"))]

    def queryset(self, request, queryset):
        today = timezone.localtime(timezone.now(), BEIJING).date()
        if self.value() == "today":
            return queryset.on_day(today)
        if self.value() == "tomorrow":
            return queryset.on_day(today + datetime.timedelta(days=1))
        if self.value() == "upcoming":
            return queryset.filter(slot__starts_at__gte=timezone.now())
        return queryset


def change_url(visitor):
    """The admin page of the request or application: where the counter continues."""
    opts = visitor.record._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[visitor.pk])


class CheckInForm(forms.Form):
    reference = forms.CharField(
        label=_("Reference (type it or scan the QR code of the form)"),
        max_length=40,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdminMixin, OfficeScopedAdmin):
    list_display = ["visit_time", "reference", "kind", "masked_name", "status"]
    list_select_related = ["slot", "ticket__candidate", "application__candidate", "office"]
    list_filter = [DayFilter, "status", "office"]
    office_column = "office"
    search_fields = ["ticket__reference", "application__reference"]
    show_full_result_count = False
    fields = [
        "ticket",
        "application",
        "visit_time",
        "status",
        "booked_at",
        "changed_at",
        "checked_in_at",
        "checked_in_by",
        "reminded_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("time"), ordering="slot__starts_at")
    def visit_time(self, obj):
        return moment(obj.slot.starts_at)

    @admin.display(description=_("reference"))
    def reference(self, obj):
        return obj.visitor.reference

    @admin.display(description=_("kind"))
    def kind(self, obj):
        return obj.visitor.get_kind_display()

    @admin.display(description=_("name"))
    def masked_name(self, obj):
        return mask_name(obj.visitor.candidate.name)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("today/", view(self.today_view), name="appointments_booking_today"), *super().get_urls()]

    def today_view(self, request):
        """Today's visits of the user's office, and the check-in: a reference opens its request; a booked visit of
        today is checked in on the way, a request without one is served as a walk-in."""
        if not request.user.has_perm(CHECK_IN):
            raise PermissionDenied
        form = CheckInForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            reference = normalize_reference(form.cleaned_data["reference"])
            ticket = by_reference(request.user, reference)
            if ticket is None:
                messages.error(request, _("No request %(ref)s at your office.") % {"ref": reference})
                return HttpResponseRedirect(request.path)
            visit = rules.todays_booking(ticket)
            if visit is not None and rules.check_in(visit, request.user):
                messages.success(request, _("%(ref)s checked in.") % {"ref": ticket.reference})
            elif visit is None:
                messages.info(
                    request, _("%(ref)s has no visit booked today: served as a walk-in.") % {"ref": ticket.reference}
                )
            return HttpResponseRedirect(change_url(ticket))
        today = timezone.localtime(timezone.now(), BEIJING).date()
        visits = (
            self.get_queryset(request)
            .on_day(today)
            .exclude(status__in=(Status.MOVED, Status.CANCELLED))
            .select_related("slot", "ticket__candidate", "application__candidate", "office")
            .order_by("slot__starts_at", "pk")
        )
        rows = [
            {
                "time": timezone.localtime(v.slot.starts_at, BEIJING).strftime("%H:%M"),
                "reference": v.visitor.reference,
                "link": change_url(v.visitor),
                "kind": v.visitor.get_kind_display(),
                "name": mask_name(v.visitor.candidate.name),
                "status": v.get_status_display(),
                "status_code": v.status,
                "office": v.office_id,
            }
            for v in visits
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Today's visits"),
            "opts": self.opts,
            "form": form,
            "rows": rows,
            "today": today,
        }
        return TemplateResponse(request, "admin/appointments/today.html", context)
