from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import ExamSession


@admin.register(ExamSession)
class ExamSessionAdmin(admin.ModelAdmin):
    list_display = (
        "year",
        "is_current",
        "registration_opens",
        "registration_closes",
        "payment_closes",
        "exam_first_day",
    )
    readonly_fields = ("is_current",)
    actions = ["make_current"]
    fieldsets = (
        (None, {"fields": ("year", "is_current")}),
        (
            _("Registration and payment"),
            {"fields": ("registration_opens", "registration_closes", "payment_closes", "realname_auth_last_day")},
        ),
        (
            _("In-person deadlines"),
            {"fields": ("exemption_deadline", "info_change_deadline", "duplicate_list_due")},
        ),
        (_("Exam"), {"fields": ("admit_card_from", "admit_card_to", "exam_first_day", "exam_last_day")}),
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

    @admin.action(description=_("Make the selected session the current one"), permissions=["change"])
    def make_current(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one session."), messages.ERROR)
            return
        session = queryset.get()
        session.make_current()
        self.message_user(request, _("%(session)s is now the current session.") % {"session": session})

    def has_delete_permission(self, request, obj=None):
        # Applications and tickets of a session point to it for years; sessions are never deleted.
        return False
