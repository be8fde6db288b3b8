from django.contrib import admin
from django.utils.translation import gettext as _

from applications import placeholders

from .models import HelpEntry


@admin.register(HelpEntry)
class HelpEntryAdmin(admin.ModelAdmin):
    list_display = ("number", "question_zh", "question_en", "published")
    list_display_links = ("number", "question_zh")
    list_filter = ("published",)
    search_fields = ("question_zh", "question_en", "answer_zh", "answer_en")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in ("answer_zh", "answer_en"):
            # The dates of the current session, so that an answer never contradicts the home page.
            field.help_text = _("Dates of the current session: %(placeholders)s.") % {
                "placeholders": placeholders.help_text()
            }
        return field
