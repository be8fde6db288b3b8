"""The same pages as a Django project has them out of the box: plain ModelAdmins on their own AdminSite
(no list_select_related, full result count, Django's default search), for naive_ratio. Bench only."""

from django.contrib import admin

from applications.models import Application
from tickets.models import Ticket

site = admin.AdminSite(name="naive")


@admin.register(Application, site=site)
class NaiveApplicationAdmin(admin.ModelAdmin):
    list_display = ("reference", "office", "document_number", "candidate_name", "qualification", "status", "due_at")
    list_filter = ("status", "qualification", "office", "session")
    search_fields = ("reference", "candidate__document_number", "candidate__name")
    list_per_page = 100
    # The portal's storage has no public URL for uploads, which the default file widget needs.
    exclude = ("insurance_pdf", "degree_certificate", "passport_copy")

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    @admin.display(description="document number")
    def document_number(self, application):
        return application.candidate.masked_document_number

    @admin.display(description="name")
    def candidate_name(self, application):
        return application.candidate.name


@admin.register(Ticket, site=site)
class NaiveTicketAdmin(admin.ModelAdmin):
    list_display = ("reference", "office", "kind", "document_number", "candidate_name", "status", "due_at",
                    "assigned_to")  # fmt: skip
    list_filter = ("kind", "status", "office")
    search_fields = ("reference", "candidate__document_number", "candidate__name")
    list_per_page = 100

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    @admin.display(description="document number")
    def document_number(self, ticket):
        return ticket.candidate.masked_document_number

    @admin.display(description="name")
    def candidate_name(self, ticket):
        return ticket.candidate.name
