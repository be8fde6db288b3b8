from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin_readonly import ReadOnlyAdminMixin
from offices.admin_scoping import OfficeScopedAdmin

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, OfficeScopedAdmin):
    list_display = ("created_at", "template", "recipient", "language", "office", "status", "attempts", "sent_at")
    list_filter = ("status", "template", "language", "office")
    list_select_related = ("office",)
    search_fields = ("=recipient", "=dedup_key")
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["resend"]
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]

    def has_resend_permission(self, request):
        return request.user.has_perm("notifications.resend_outboxmessage")

    @admin.action(description=_("Send the selected failed emails again"), permissions=["resend"])
    def resend(self, request, queryset):
        requeued = sum(message.requeue() for message in queryset.filter(status=OutboxMessage.Status.FAILED))
        self.message_user(
            request,
            ngettext("%(count)d email queued again.", "%(count)d emails queued again.", requeued) % {"count": requeued},
        )
