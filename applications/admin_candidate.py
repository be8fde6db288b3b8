"""Columns and read-only fields about the candidate, for every admin whose rows point to a Candidate, and the
masking of document numbers that staff type into notes and messages."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.privacy import mask_text

FULL_NUMBERS = "applications.view_full_document_number"


class CandidateColumnsMixin:
    """Needs `candidate` on the row (and `list_select_related` including it for changelists)."""

    @admin.display(description=_("document number"))
    def masked_document_number(self, obj):
        return obj.candidate.masked_document_number

    @admin.display(description=_("name"), ordering="candidate__name")
    def candidate_name(self, obj):
        return obj.candidate.name

    @admin.display(description=_("document type"))
    def document_type(self, obj):
        return obj.candidate.get_document_type_display()

    @admin.display(description=_("document number"))
    def document_number_full(self, obj):
        return obj.candidate.document_number

    @admin.display(description=_("birth date"))
    def birth_date(self, obj):
        return obj.candidate.birth_date

    @admin.display(description=_("gender"))
    def gender(self, obj):
        return obj.candidate.get_gender_display()

    @admin.display(description=_("nationality"))
    def nationality(self, obj):
        return obj.candidate.nationality


class MaskedTextInlineMixin:
    """A read-only inline whose free-text columns (`masked_text_fields`, e.g. notes) show document numbers masked
    to staff without FULL_NUMBERS: staff type numbers into notes and messages, and only a viewer with the
    permission gets the change view's access entry. Each field `name` needs a display method `masked_<name>`."""

    masked_text_fields = ()

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if request.user.has_perm(FULL_NUMBERS):
            return fields
        return [f"masked_{name}" if name in self.masked_text_fields else name for name in fields]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)  # the inline edits nothing

    @staticmethod
    def masked(text):
        return mask_text(text)
