"""Columns and read-only fields about the candidate, for every admin whose rows point to a Candidate."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


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
