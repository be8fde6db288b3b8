"""Admins and inlines that show rows and never add, edit or delete them."""


class ReadOnlyAdminMixin:
    """Rows that come from candidates, workers, imports or the audit trail: the admin shows them and never adds,
    edits or deletes them, not even through a cascade (state changes go through the model's own methods and
    views). For a ModelAdmin and an inline alike."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
