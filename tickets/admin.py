from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Min, Q
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportMixin

from applications.admin_candidate import CandidateColumnsMixin, MaskedTextInlineMixin
from applications.models import Candidate, ExamSession
from core import audit, id_numbers
from core.admin_filters import DueFilter, WorkFilter
from core.admin_readonly import ReadOnlyAdminMixin
from core.admin_spreadsheets import BackgroundImportMixin
from core.references import is_valid_reference, normalize_reference
from core.templatetags.portal import moment
from offices.admin_scoping import OfficeScopedAdmin
from offices.workdays import BEIJING

from . import documents, staff_views
from .models import (
    DETAIL_MODELS,
    REFERENCE_PREFIX,
    CannedReply,
    DuplicatePayment,
    Kind,
    KindSetting,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from .resources import DuplicatePaymentResource

FULL_NUMBERS = "applications.view_full_document_number"
TICKET_PREFIXES = set(REFERENCE_PREFIX.values())


def ticket_reference(term):
    """The normalised reference when `term` is a valid request reference (typed or scanned), else None."""
    ref = normalize_reference(term)
    return ref if ref[:1] in TICKET_PREFIXES and is_valid_reference(ref) else None


# Changelist filters -------------------------------------------------------------------------------------


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assigned to")
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        return [("mine_open", _("Mine, open")), ("mine", _("Mine")), ("unassigned", _("Unassigned"))]

    def queryset(self, request, queryset):
        if self.value() == "mine_open":
            return queryset.assigned_open(request.user)
        if self.value() == "mine":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "unassigned":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


# Change view: read-only rows of the kind's detail ---------------------------------------------------------

DETAIL_FIELDS = {
    Kind.PASSWORD_RESET: ("platform", "self_service_tried", "reset_done_at"),
    Kind.INFO_CHANGE: (
        "scope",
        "application",
        "old_name",
        "new_name",
        "old_gender",
        "new_gender",
        "old_document_number",
        "new_document_number",
        "new_photo",
        "proof",
    ),
    Kind.CERT_DELETION: ("statement", "statement_scan", "deleted_at", "deleted_by"),
    Kind.REFUND: (
        "source",
        "payment_codes",
        "amounts",
        "paid_at",
        "receipt",
        "nontax_checked_at",
        "refund_amount",
        "refund_date",
        "voucher_number",
    ),
    Kind.EXEMPTION: (
        "degree",
        "certificate_number",
        "school",
        "graduation_date",
        "id_card_seen",
        "degree_certificate_seen",
        "chsi_record_seen",
        "application_form_seen",
    ),
}
DOCUMENT_NUMBER_FIELDS = {"old_document_number", "new_document_number"}
GENDERS = dict(Candidate.Gender.choices)


def _detail_value(ticket, name, field, full_numbers):
    detail = ticket.detail
    value = getattr(detail, name)
    if isinstance(field, models.FileField):
        if not value:
            return _("not uploaded")
        return format_html(
            '<a href="{}">{}</a>', staff_views.file_url(ticket, name), staff_views.download_name(ticket, name)
        )
    if value in (None, ""):
        return None if isinstance(field, models.BooleanField) else "—"
    if name in DOCUMENT_NUMBER_FIELDS and not full_numbers:
        return id_numbers.mask(ticket.candidate.document_type, value)
    if name == "application":
        url = reverse("admin:applications_application_change", args=[value.pk])
        return format_html('<a href="{}">{}</a>', url, value.reference)
    if name == "deleted_by":
        return value.get_username()
    if name in ("old_gender", "new_gender"):
        return GENDERS.get(value, value)
    if field.choices:
        return getattr(detail, f"get_{name}_display")()
    return value


def _detail_display(kind, name, full_numbers):
    """A read-only row of the change form showing one field of the kind's detail."""
    field = DETAIL_MODELS[kind]._meta.get_field(name)

    def show(ticket):
        return _detail_value(ticket, name, field, full_numbers)

    show.__name__ = f"{kind}_{name}"
    show.short_description = field.verbose_name
    show.boolean = isinstance(field, models.BooleanField)
    return show


def _missing_materials(ticket):
    missing = ticket.exemption.missing_materials()
    if not missing:
        return _("All required materials seen.")
    return _("Not seen yet: %(missing)s.") % {"missing": ", ".join(missing)}


_missing_materials.short_description = _("materials still needed")

# Built once: the change form matches its rows to the read-only fields by identity.
DETAIL_DISPLAYS = {
    (kind, full): [_detail_display(kind, name, full) for name in names]
    + ([_missing_materials] if kind == Kind.EXEMPTION else [])
    for kind, names in DETAIL_FIELDS.items()
    for full in (False, True)
}


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False


class TicketEventInline(MaskedTextInlineMixin, ReadOnlyInline):
    model = TicketEvent
    fields = ("at", "by", "actor", "from_status", "to_status", "note")
    readonly_fields = fields
    masked_text_fields = ("note",)
    verbose_name_plural = _("history")

    @admin.display(description=_("note"))
    def masked_note(self, event):
        return self.masked(event.note)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class TicketMessageInline(MaskedTextInlineMixin, ReadOnlyInline):
    model = TicketMessage
    fields = ("at", "author", "visible_to_candidate", "body")
    readonly_fields = fields
    masked_text_fields = ("body",)
    verbose_name_plural = _("messages to the candidate and internal notes")

    @admin.display(description=_("message"))
    def masked_body(self, message):
        return self.masked(message.body)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


# The inbox ---------------------------------------------------------------------------------------------


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdminMixin, CandidateColumnsMixin, OfficeScopedAdmin):
    """The inbox of in-person requests. The form is read-only (candidates file requests); every step is a
    button leading to its own small form (staff_views), which calls the model's method."""

    office_column = "office"

    list_display = ("reference", "kind", "masked_document_number", "candidate_name", "status", "due", "assigned_to")
    list_filter = (WorkFilter, "kind", "status", DueFilter, AssigneeFilter, "office")
    list_select_related = ("candidate", "office", "assigned_to")
    search_fields = ("reference",)  # shows the search box; get_search_results decides how to search
    search_help_text = _("Reference (typed or scanned: opens the request), full document number (exact) or name.")
    show_full_result_count = False
    list_per_page = 100
    actions = ["take_selected"]
    inlines = [TicketMessageInline, TicketEventInline]
    change_list_template = "admin/tickets/ticket/change_list.html"

    class Media:
        css = {"all": ["applications/admin.css"]}  # the shared badge and overdue styles

    # Permissions: requests come from candidates; nothing here edits or deletes them directly.

    def has_take_permission(self, request, obj=None):
        return request.user.has_perm("tickets.change_ticket")

    # Changelist ---------------------------------------------------------------------------------------

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if getattr(request, "escalation_queue", False):
            queryset = queryset.escalation_queue()
        return queryset

    def get_ordering(self, request):
        if getattr(request, "escalation_queue", False):
            return ("escalated_at", "pk")
        return super().get_ordering(request)

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if getattr(request, "escalation_queue", False):
            columns.insert(columns.index("due"), "escalated_at")
        return columns

    def get_search_results(self, request, queryset, search_term):
        """Exact, indexed lookups for a reference or a document number; the name otherwise."""
        term = search_term.strip()
        if not term:
            return queryset, False
        reference = ticket_reference(term)
        if reference:
            return queryset.filter(reference=reference), False
        if id_numbers.looks_like_document_number(term):
            by_number = Q(candidate__document_number=id_numbers.normalize(term))
            if any(char.isdigit() for char in term):
                return queryset.filter(by_number), False
            # Letters only ("SMITH") fit the passport pattern but are far more often a name.
            return queryset.filter(by_number | Q(candidate__name__icontains=term)), False
        return queryset.filter(candidate__name__icontains=term), False

    def changelist_view(self, request, extra_context=None):
        # A reference typed or scanned at the counter opens its request at once.
        reference = ticket_reference(request.GET.get("q", "")) if request.method == "GET" else None
        if reference:
            found = list(self.get_queryset(request).filter(reference=reference).values_list("pk", flat=True)[:2])
            if len(found) == 1:
                return HttpResponseRedirect(staff_views.change_url(self, Ticket(pk=found[0])))
        extra_context = {
            "escalation_queue_url": (
                reverse("admin:tickets_ticket_escalations", current_app=self.admin_site.name)
                if request.user.has_perm(staff_views.REGIONAL_STEP)
                else None
            ),
            "exemption_summary_url": (
                reverse("admin:tickets_ticket_exemption_summary", current_app=self.admin_site.name)
                if request.user.has_perm("tickets.export_exemption")
                else None
            ),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("due"), ordering="due_at")
    def due(self, ticket):
        if ticket.due_at is None:
            return "—"
        shown = moment(ticket.due_at)
        if ticket.is_overdue:
            return format_html('<span class="overdue">{} ({})</span>', shown, _("overdue"))
        return shown

    @admin.action(description=_("Take the selected requests (assign to me)"), permissions=["take"])
    def take_selected(self, request, queryset):
        taken = 0
        for ticket in queryset.open().exclude(assigned_to=request.user):
            ticket.assign(request.user, by=request.user)
            self.log_change(request, ticket, str(_("Taken (batch)")))
            taken += 1
        self.message_user(request, _("%(count)d request(s) assigned to you.") % {"count": taken})

    # Change view --------------------------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        number = "document_number_full" if request.user.has_perm(FULL_NUMBERS) else "masked_document_number"
        fieldsets = [
            (
                None,
                {
                    "fields": (
                        "reference",
                        "kind",
                        "status",
                        "office",
                        "session",
                        "submitted_at",
                        "due",
                        "deadline",
                        "assigned_to",
                        "verified_at",
                        "identity_verified_how",
                        "escalated_at",
                        "closed_at",
                    )
                },
            ),
            (
                _("Candidate"),
                {"fields": ("candidate_name", "document_type", number, "birth_date", "gender", "nationality")},
            ),
            (_("Contact given with this request"), {"fields": ("email", "phone", "language")}),
        ]
        if obj is not None:
            fieldsets.append(
                (DETAIL_MODELS[obj.kind]._meta.verbose_name.capitalize(), {"fields": self._detail_rows(request, obj)})
            )
        return fieldsets

    def _detail_rows(self, request, obj):
        return DETAIL_DISPLAYS[(obj.kind, request.user.has_perm(FULL_NUMBERS))]

    def get_readonly_fields(self, request, obj=None):
        return flatten_fieldsets(self.get_fieldsets(request, obj))  # nothing is edited here: all of it

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = self.get_object(request, unquote(object_id))  # another office's: 404
        extra_context = {
            "steps": [
                (staff_views.step_url(self, ticket, step), step.label, step.needs_regional(ticket))
                for step in staff_views.offered_steps(ticket, request.user)
            ],
            **(extra_context or {}),
        }
        if ticket is not None and ticket.has_form_to_sign:
            # The form filled with the request, to print at the counter for a candidate who did not bring it.
            extra_context["filled_form_url"] = reverse("admin:tickets_ticket_form", args=[ticket.pk])
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200 and request.user.has_perm(FULL_NUMBERS):
            # Each time the page shows a full document number, the audit log says who saw whose, and when.
            audit.record_full_number_view(ticket.candidate, ticket=ticket.reference)
        return response

    # Extra views --------------------------------------------------------------------------------------

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("escalations/", view(self.escalations_view), name=f"{prefix}_escalations"),
            path("exemption-summary/", view(self.exemption_summary_view), name=f"{prefix}_exemption_summary"),
            path("<path:object_id>/step/<slug:slug>/", view(self.step_view), name=f"{prefix}_step"),
            path("<path:object_id>/file/<slug:field>/", view(self.file_view), name=f"{prefix}_file"),
            path("<path:object_id>/form/", view(self.filled_form_view), name=f"{prefix}_form"),
            *super().get_urls(),
        ]

    def escalations_view(self, request):
        """The regional office's queue: every escalated request of every office, oldest escalation first."""
        if not request.user.has_perm(staff_views.REGIONAL_STEP):
            raise PermissionDenied
        request.escalation_queue = True
        return self.changelist_view(
            request, {"title": _("Escalation queue: oldest escalation first"), "escalation_queue": True}
        )

    def exemption_summary_view(self, request):
        return staff_views.exemption_summary_view(self, request)

    def step_view(self, request, object_id, slug):
        return staff_views.step_view(self, request, object_id, slug)

    def file_view(self, request, object_id, field):
        return staff_views.download_view(self, request, object_id, field)

    def filled_form_view(self, request, object_id):
        """The request's downloadable form (tickets/documents.py) filled with it, in Chinese; scoped like the page."""
        ticket = self.get_object(request, unquote(object_id))  # another office's: 404
        template = documents.template_for(ticket.kind) if ticket is not None else None
        if template is None:
            raise Http404
        if not self.has_view_permission(request, ticket):
            raise PermissionDenied
        return documents.download(request, template, "zh-hans", session=ticket.session, ticket=ticket)


# Reference data that regional staff maintain --------------------------------------------------------------


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ("title", "kind")
    list_filter = ("kind",)
    search_fields = ("title", "body_zh", "body_en")
    fields = ("title", "kind", "body_zh", "body_en")


@admin.register(KindSetting)
class KindSettingAdmin(admin.ModelAdmin):
    list_display = ("kind", "sla_workdays")
    fields = ("kind", "sla_workdays")

    def get_readonly_fields(self, request, obj=None):
        return ("kind",)

    def has_add_permission(self, request):
        return False  # one row per kind, made by the migration

    def has_delete_permission(self, request, obj=None):
        return False


# Duplicate-payment list ---------------------------------------------------------------------------------


class MatchFilter(admin.SimpleListFilter):
    title = _("match")
    parameter_name = "match"

    def lookups(self, request, model_admin):
        return [("matched", _("Matched (request opened)")), ("unmatched", _("Unmatched"))]

    def queryset(self, request, queryset):
        if self.value() == "matched":
            return queryset.filter(ticket__isnull=False)
        if self.value() == "unmatched":
            return queryset.filter(ticket__isnull=True)
        return queryset


def list_arrivals(queryset):
    """[(session, first import, due date, on time?)] of the sessions whose list was imported."""
    firsts = dict(queryset.order_by().values_list("session").annotate(first=Min("imported_at")))
    arrivals = []
    for session in ExamSession.objects.filter(pk__in=firsts).order_by("-year"):
        session.fill_defaults()
        first = timezone.localtime(firsts[session.pk], BEIJING)
        due = session.duplicate_list_due
        arrivals.append((session, first, due, due is None or first.date() <= due))
    return arrivals


@admin.register(DuplicatePayment)
class DuplicatePaymentAdmin(ReadOnlyAdminMixin, BackgroundImportMixin, ImportMixin, OfficeScopedAdmin):
    """The system-screened duplicate-payment list (FAQ 18), imported by the regional office; its rows come from the
    import only (read-only here). Every matched row opens or updates the candidate's one refund request of the
    session."""

    resource_classes = [DuplicatePaymentResource]
    import_template_name = "admin/tickets/duplicatepayment/import.html"
    import_export_change_list_template = "admin/tickets/duplicatepayment/change_list.html"
    list_display = (
        "session",
        "masked_document_number",
        "name",
        "payment_codes",
        "amounts",
        "paid_at",
        "ticket_link",
        "matched",
        "note",
        "imported_at",
    )
    list_filter = (MatchFilter, "session")
    list_select_related = ("session", "ticket")
    search_fields = ("=document_number",)
    search_help_text = _("Full document number (exact).")
    show_full_result_count = False
    fields = list_display
    readonly_fields = ("masked_document_number", "ticket_link", "matched")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(document_number=id_numbers.normalize(term)), False

    @admin.display(description=_("document number"))
    def masked_document_number(self, row):
        return id_numbers.mask("", row.document_number)

    @admin.display(description=_("request"))
    def ticket_link(self, row):
        if row.ticket_id is None:
            return "—"
        url = reverse("admin:tickets_ticket_change", args=[row.ticket_id])
        return format_html('<a href="{}">{}</a>', url, row.ticket.reference)

    @admin.display(description=_("matched"), boolean=True)
    def matched(self, row):
        return row.ticket_id is not None

    def changelist_view(self, request, extra_context=None):
        extra_context = {"list_arrivals": list_arrivals(self.get_queryset(request)), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    # Import: always the current session (the list of the registration that just ended).

    def get_import_context_data(self, **kwargs):
        session = ExamSession.objects.current()
        if session:
            session.fill_defaults()
        return {**super().get_import_context_data(**kwargs), "session": session}

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "session": ExamSession.objects.current()}

    def get_import_data_kwargs(self, **kwargs):
        # One bad row and nothing of the file is written (the transaction is rolled back).
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def add_success_message(self, result, request):
        super().add_success_message(result, request)
        outcome = getattr(result, "refund_outcome", None)
        if not outcome:
            return
        messages.info(
            request,
            _(
                "Refund requests: %(created)d opened, %(updated)d updated, %(attached)d attached to a request "
                "the candidate filed, %(unchanged)d unchanged; %(unmatched_count)d row(s) unmatched."
            )
            % outcome,
        )
        if outcome["unmatched"]:
            rows = "; ".join(f"{number} {name}" for number, name in outcome["unmatched"])
            messages.warning(
                request,
                _("No application of this session for: %(rows)s. These rows are kept under “Unmatched”.")
                % {"rows": rows},
            )


from . import admin_forms  # noqa: E402, F401 - registers the downloadable forms' admin
