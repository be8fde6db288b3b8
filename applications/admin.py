from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.db import models
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ExportMixin, ImportMixin
from import_export.forms import ConfirmImportForm

from core import audit, id_numbers
from core.admin_filters import DefaultChoiceFilter, DueFilter, WorkFilter
from core.admin_readonly import ReadOnlyAdminMixin
from core.admin_spreadsheets import BackgroundExportMixin, BackgroundImportMixin, FormatFromFileImportForm
from core.admin_widgets import LabelledSplitDateTime
from core.references import is_valid_reference, normalize_reference
from core.templatetags.portal import moment
from offices.admin_scoping import OfficeScopedAdmin

from . import staff_views
from .admin_candidate import CandidateColumnsMixin, MaskedTextInlineMixin
from .models import Application, ApplicationEvent, ExamSession, Payment, Status
from .resources import ApplicationExportResource, PaymentResource


@admin.register(ExamSession)
class ExamSessionAdmin(admin.ModelAdmin):
    list_display = (
        "year",
        "is_current",
        "registration_opens",
        "registration_closes",
        "payment_closes",
        "exam_first_day",
        "payments_final_at",
    )
    readonly_fields = ("is_current", "payments_final_at")
    formfield_overrides = {models.DateTimeField: {"widget": LabelledSplitDateTime}}
    actions = ["make_current", "mark_payments_final", "prepare_next_year"]
    fieldsets = (
        (None, {"fields": ("year", "is_current")}),
        (
            _("Registration and payment"),
            {
                "fields": (
                    "registration_opens",
                    "registration_closes",
                    "payment_closes",
                    "fee_per_subject",
                    "realname_auth_last_day",
                    "payments_final_at",
                )
            },
        ),
        (
            _("In-person deadlines"),
            {"fields": ("exemption_deadline", "info_change_deadline", "duplicate_list_due")},
        ),
        (
            _("Exam"),
            {"fields": ("admit_card_from", "admit_card_to", "admit_card_announced", "exam_first_day", "exam_last_day")},
        ),
        (
            _("Review rules"),
            {
                "fields": (
                    "review_sla_workdays",
                    "young_candidate_cutoff",
                    "ce_total_credits",
                    "ce_professional_credits",
                    "ce_public_credits",
                )
            },
        ),
    )

    @admin.action(description=_("Prepare next year (review the copied dates before saving)"))
    def prepare_next_year(self, request, queryset):
        """Open the add form filled with next_year()'s dates: nothing is saved until staff save it,
        and the new session is not current until *Make current* is run on it."""
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one session."), messages.ERROR)
            return None
        source = queryset.get()
        if type(source).objects.filter(year=source.year + 1).exists():
            self.message_user(
                request, _("The session of %(year)s exists already.") % {"year": source.year + 1}, messages.ERROR
            )
            return None
        self.message_user(
            request,
            _("Dates of %(year)s copied from %(source)s: check them, then save. Make it current separately.")
            % {"year": source.year + 1, "source": source.year},
            messages.WARNING,
        )
        return HttpResponseRedirect(f"{reverse('admin:applications_examsession_add')}?next_year_of={source.pk}")

    def get_changeform_initial_data(self, request):
        source_pk = request.GET.get("next_year_of")
        if not source_pk or not source_pk.isdigit():
            return super().get_changeform_initial_data(request)
        copy = ExamSession.objects.get(pk=source_pk).next_year()
        return {
            field.name: getattr(copy, field.attname)
            for field in copy._meta.concrete_fields
            if field.editable and not field.primary_key
        }

    @admin.action(description=_("Make the selected session the current one"), permissions=["change"])
    def make_current(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one session."), messages.ERROR)
            return
        session = queryset.get()
        previous = {current.pk: str(current) for current in ExamSession.objects.filter(is_current=True)}
        session.make_current()
        # make_current() writes with update(), which auditlog does not see: the entries are written here.
        changes = {pk: {"is_current": (True, False)} for pk in previous if pk != session.pk}
        if session.pk not in previous:
            changes[session.pk] = {"is_current": (False, True)}
        reprs = {**previous, session.pk: str(session)}
        audit.record_bulk_changes(ExamSession, changes, reprs=reprs, request=request)
        self.message_user(request, _("%(session)s is now the current session.") % {"session": session})

    def has_import_payment_permission(self, request):
        return request.user.has_perm("applications.import_payment")

    @admin.action(description=_("Mark the final payment import as done"), permissions=["import_payment"])
    def mark_payments_final(self, request, queryset):
        # Lapse emails wait for this moment; it is set once and never moved, so nobody is told twice.
        now = timezone.now()
        sessions = {session.pk: str(session) for session in queryset.filter(payments_final_at__isnull=True)}
        marked = queryset.filter(pk__in=sessions, payments_final_at__isnull=True).update(payments_final_at=now)
        # update() is not seen by auditlog: the entries are written here.
        changes = {pk: {"payments_final_at": (None, now)} for pk in sessions}
        audit.record_bulk_changes(ExamSession, changes, reprs=sessions, request=request)
        self.message_user(
            request,
            ngettext(
                "Final payment import marked as done for %(count)d session.",
                "Final payment import marked as done for %(count)d sessions.",
                marked,
            )
            % {"count": marked},
        )

    def has_delete_permission(self, request, obj=None):
        # Applications and tickets of a session point to it for years; sessions are never deleted.
        return False


# Applications -------------------------------------------------------------------------------------------

# (field, short text shown in the badge, colour class). FAQ 12: young candidates are shown in red.
FLAG_BADGES = (
    ("flag_young", _("young"), "red"),
    ("flag_work_years", _("work years"), "amber"),
    ("flag_continuing_education", _("credits"), "amber"),
    ("flag_documents", _("uploads"), "amber"),
    ("flag_identity", _("identity"), "amber"),
    ("flag_duplicate", _("second application"), "amber"),
    ("flag_certificate", _("certificate"), "amber"),
)
REVIEWED_STATUSES = (Status.APPROVED, Status.REJECTED, Status.PAID, Status.LAPSED)


class FlagFilter(admin.SimpleListFilter):
    title = _("flag")
    parameter_name = "flag"

    def lookups(self, request, model_admin):
        return [(field, Application._meta.get_field(field).verbose_name) for field, _text, _colour in FLAG_BADGES]

    def queryset(self, request, queryset):
        if self.value() in {field for field, _text, _colour in FLAG_BADGES}:
            return queryset.filter(**{self.value(): True})
        return queryset


class AttentionFilter(admin.SimpleListFilter):
    """The dashboard's attention lists of the current session (ApplicationQuerySet), one link per figure."""

    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [
            ("payment_closing", _("Approved, unpaid, payment closes within 24 hours")),
            ("undecided_before_close", _("Undecided, at risk at payment close")),
            ("undecided_after_close", _("Undecided at payment close: the candidate cannot pay")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "payment_closing":
            return queryset.payment_closing_soon(ExamSession.objects.current())
        if self.value() == "undecided_before_close":
            return queryset.undecided_before_close(ExamSession.objects.current())
        if self.value() == "undecided_after_close":
            return queryset.undecided_after_close(ExamSession.objects.current())
        return queryset


class SessionFilter(DefaultChoiceFilter):
    """The current session by default (last year's lapsed rows are not today's work); any other, or all."""

    title = _("exam session")
    parameter_name = "session"

    def lookups(self, request, model_admin):
        self.sessions = list(ExamSession.objects.order_by("-year").values_list("pk", "year", "is_current"))
        return [*((str(pk), str(year)) for pk, year, _current in self.sessions), ("all", _("All"))]

    def default_value(self):
        return next((str(pk) for pk, _year, current in self.sessions if current), None)

    def queryset(self, request, queryset):
        value = self.value()
        if value and value != "all" and value.isdigit():
            return queryset.filter(session_id=int(value))
        return queryset


class ApplicationEventInline(ReadOnlyAdminMixin, MaskedTextInlineMixin, admin.TabularInline):
    model = ApplicationEvent
    fields = ("at", "by", "actor", "from_status", "to_status", "note")
    readonly_fields = fields
    masked_text_fields = ("note",)
    extra = 0
    can_delete = False
    verbose_name_plural = _("history")

    @admin.display(description=_("note"))
    def masked_note(self, event):
        return self.masked(event.note)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


@admin.register(Application)
class ApplicationAdmin(
    ReadOnlyAdminMixin, CandidateColumnsMixin, BackgroundExportMixin, ExportMixin, OfficeScopedAdmin
):
    """Review of registration applications. The form is read-only (candidates write applications);
    decisions go through their own small forms (staff_views), which call the model's methods."""

    office_column = "office"

    resource_classes = [ApplicationExportResource]
    list_display = ("reference", "masked_document_number", "candidate_name", "qualification", "flags", "status", "due")
    list_filter = (
        SessionFilter,
        WorkFilter,
        "status",
        FlagFilter,
        DueFilter,
        AttentionFilter,
        "qualification",
        "office",
    )
    list_select_related = ("candidate", "office")
    search_fields = ("reference",)  # shows the search box; get_search_results decides how to search
    search_help_text = _("Reference, full document number (exact) or name.")
    show_full_result_count = False
    list_per_page = 100
    actions = ["approve_selected", "reject_selected"]
    inlines = [ApplicationEventInline]

    class Media:
        css = {"all": ["applications/admin.css"]}

    # Permissions: applications come from candidates; nothing here edits or deletes them.

    def has_review_permission(self, request, obj=None):
        return request.user.has_perm("applications.review_application")

    # Changelist ---------------------------------------------------------------------------------------

    def get_search_results(self, request, queryset, search_term):
        """Exact, indexed lookups for a reference or a document number; the name otherwise."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if is_valid_reference(term, prefix="A"):
            return queryset.filter(reference=normalize_reference(term)), False
        if id_numbers.looks_like_document_number(term):
            by_number = Q(candidate__document_number=id_numbers.normalize(term))
            if any(char.isdigit() for char in term):
                return queryset.filter(by_number), False
            # Letters only ("SMITH") fit the passport pattern but are far more often a name.
            return queryset.filter(by_number | Q(candidate__name__icontains=term)), False
        return queryset.filter(candidate__name__icontains=term), False

    @admin.display(description=_("flags"))
    def flags(self, application):
        shown = [
            (colour, Application._meta.get_field(field).verbose_name, text)
            for field, text, colour in FLAG_BADGES
            if getattr(application, field)
        ]
        return format_html_join(" ", '<span class="flag flag-{}" title="{}">{}</span>', shown) or "—"

    @admin.display(description=_("review due"), ordering="due_at")
    def due(self, application):
        if application.due_at is None:
            return "—"
        shown = moment(application.due_at)
        if application.is_overdue:
            return format_html('<span class="overdue">{} ({})</span>', shown, _("overdue"))
        return shown

    # Change view --------------------------------------------------------------------------------------

    def get_readonly_fields(self, request, obj=None):
        return flatten_fieldsets(self.get_fieldsets(request, obj))  # nothing is edited here: all of it

    def get_fieldsets(self, request, obj=None):
        number = "document_number_full" if self.shows_full_number(request) else "masked_document_number"
        return (
            (
                None,
                {
                    "fields": (
                        "reference",
                        "status",
                        "session",
                        "office",
                        "submitted_at",
                        "due",
                        "decided_at",
                        "decided_by",
                        "rejection_reason",
                        "message_to_candidate",
                        "escalated_at",
                        "paid_at",
                        "payment_code",
                    )
                },
            ),
            (_("Checks"), {"fields": ("checks_now",)}),
            (
                _("Candidate"),
                {"fields": ("candidate_name", "document_type", number, "birth_date", "gender", "nationality")},
            ),
            (_("Contact"), {"fields": ("email", "phone", "language")}),
            (
                _("Qualification and work"),
                {
                    "fields": (
                        "qualification",
                        "school",
                        "major",
                        "graduation_date",
                        "work_start_date",
                        "claimed_insured_months",
                        "verified_insured_months",
                        "ce_professional_credits",
                        "ce_public_credits",
                        "subjects",
                    )
                },
            ),
            (_("Uploads"), {"fields": ("uploads",)}),
        )

    @admin.display(description=_("subjects"))
    def subjects(self, application):
        chosen = [
            Application._meta.get_field(field).verbose_name
            for field in ("subject_practice", "subject_management", "subject_law")
            if getattr(application, field)
        ]
        if application.management_exempt:
            chosen.append(Application._meta.get_field("management_exempt").verbose_name)
        return format_html_join(", ", "{}", ((name,) for name in chosen)) or "—"

    @admin.display(description=_("uploaded files"))
    def uploads(self, application):
        rows = []
        for field in staff_views.FILE_FIELDS:
            label = Application._meta.get_field(field).verbose_name
            if getattr(application, field):
                url = reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_file",
                    args=[application.pk, field],
                    current_app=self.admin_site.name,
                )
                link = format_html('<a href="{}">{}</a>', url, staff_views.download_name(application, field))
            else:
                link = _("not uploaded")
            rows.append((label, link))
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", rows))

    @admin.display(description=_("checks (computed now)"))
    def checks_now(self, application):
        rows = [
            ("ok" if check.ok else "failed", _("OK") if check.ok else _("Check"), check.message)
            for check in application.preview_checks()
        ]
        return format_html(
            '<ul class="checks">{}</ul>',
            format_html_join("", '<li class="check-{}"><strong>{}</strong> {}</li>', rows),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if self.has_review_permission(request):
            application = self.get_object(request, unquote(object_id))
            extra_context["decisions"] = [
                (staff_views.decision_url(self, application, decision), decision.label)
                for decision in staff_views.available_decisions(application, request.user)
            ]
        response = super().change_view(request, object_id, form_url, extra_context)
        shown = getattr(response, "context_data", None) or {}
        if response.status_code == 200 and shown.get("original") and self.shows_full_number(request):
            # Each time the page shows a full document number, the audit log says who saw whose, and when.
            application = shown["original"]
            audit.record_full_number_view(application.candidate, application=application.reference)
        return response

    def shows_full_number(self, request):
        return request.user.has_perm("applications.view_full_document_number")

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/decide/<slug:slug>/", view(self.decision_view), name=f"{prefix}_decide"),
            path("<path:object_id>/file/<slug:field>/", view(self.file_view), name=f"{prefix}_file"),
            *super().get_urls(),
        ]

    def decision_view(self, request, object_id, slug):
        return staff_views.decision_view(self, request, object_id, slug)

    def file_view(self, request, object_id, field):
        return staff_views.download_view(self, request, object_id, field)

    # Batch decisions: the changelist's scoped queryset only -------------------------------------------

    @admin.action(
        description=_("Approve the selected applications (verified months recorded, every check green)"),
        permissions=["review"],
    )
    def approve_selected(self, request, queryset):
        staff_views.batch_approve(self, request, queryset)

    @admin.action(description=_("Reject the selected applications…"), permissions=["review"])
    def reject_selected(self, request, queryset):
        return staff_views.batch_reject(self, request, queryset)

    # Export -------------------------------------------------------------------------------------------

    def get_export_queryset(self, request):
        # The changelist's queryset (office scope, filters and search), reviewed applications only.
        queryset = super().get_export_queryset(request)
        return queryset.filter(status__in=REVIEWED_STATUSES).select_related("candidate", "office", "decided_by")

    def get_export_filename(self, request, queryset, file_format):
        scope = "all" if request.user.sees_all_offices else request.user.office_id
        day = timezone.localdate().isoformat()
        return f"applications-{scope}-{day}.{file_format.get_extension()}"


# Payments -----------------------------------------------------------------------------------------------


class PaymentImportForm(FormatFromFileImportForm):
    session = forms.ModelChoiceField(
        queryset=ExamSession.objects.all(),
        label=_("Exam session of this payment list"),
        empty_label=None,
    )


class PaymentConfirmImportForm(ConfirmImportForm):
    session = forms.ModelChoiceField(queryset=ExamSession.objects.all(), widget=forms.HiddenInput)


class MatchFilter(admin.SimpleListFilter):
    title = _("match")
    parameter_name = "match"

    def lookups(self, request, model_admin):
        return [
            ("matched", _("Matched")),
            ("unmatched", _("Unmatched")),
            ("not_applied", _("Not applied (see note)")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "matched":
            return queryset.filter(application__isnull=False)
        if self.value() == "unmatched":
            return queryset.unmatched()
        if self.value() == "not_applied":
            return queryset.exclude(note="")
        return queryset


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, BackgroundImportMixin, ImportMixin, OfficeScopedAdmin):
    """Payment records of the national platform, imported by the regional office; they come from the platform's
    list only (read-only here)."""

    resource_classes = [PaymentResource]
    import_template_name = "admin/applications/payment/import.html"
    import_form_class = PaymentImportForm
    confirm_form_class = PaymentConfirmImportForm
    list_display = (
        "payment_code",
        "session",
        "masked_document_number",
        "name",
        "amount",
        "paid_at",
        "application_link",
        "matched",
        "note",
        "imported_at",
    )
    list_filter = (MatchFilter, "session")
    list_select_related = ("session", "application")
    search_fields = ("=payment_code",)
    search_help_text = _("Payment code or full document number (exact).")
    show_full_result_count = False
    fields = (
        "payment_code",
        "session",
        "masked_document_number",
        "name",
        "amount",
        "paid_at",
        "application_link",
        "note",
        "imported_at",
    )
    readonly_fields = ("masked_document_number", "application_link")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(payment_code=term) | Q(document_number=id_numbers.normalize(term))), False

    @admin.display(description=_("document number"))
    def masked_document_number(self, payment):
        return id_numbers.mask("", payment.document_number)

    @admin.display(description=_("application"))
    def application_link(self, payment):
        if payment.application_id is None:
            return "—"
        url = reverse("admin:applications_application_change", args=[payment.application_id])
        return format_html('<a href="{}">{}</a>', url, payment.application.reference)

    @admin.display(description=_("matched"), boolean=True)
    def matched(self, payment):
        return payment.application_id is not None

    # Import: the session is chosen on the form (the current one by default) and carried to the confirm step.

    def get_import_form_initial(self, request):
        current = ExamSession.objects.current()
        return {**super().get_import_form_initial(request), "session": current.pk if current else None}

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form:
            initial["session"] = import_form.cleaned_data["session"].pk
        return initial

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        session = form.cleaned_data.get("session") if form is not None and hasattr(form, "cleaned_data") else None
        return {**super().get_import_resource_kwargs(request, **kwargs), "session": session}

    def get_import_data_kwargs(self, **kwargs):
        # One bad row and nothing of the file is written (the transaction is rolled back).
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def add_success_message(self, result, request):
        super().add_success_message(result, request)
        outcome = getattr(result, "payment_outcome", None)
        if outcome:
            messages.info(
                request,
                _(
                    "Payments applied: %(paid)d application(s) now paid; %(unmatched)d unmatched; "
                    "%(not_applied)d matched but not applied (see the note)."
                )
                % outcome,
            )
