"""Office scoping: one queryset method that every office-owned model uses, deny by default."""

from django.db import models


class OfficeScopedQuerySet(models.QuerySet):
    def for_user(self, user):
        """What `user` may see: everything for regional staff, their own office's rows for the others."""
        if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
            return self.none()
        if user.sees_all_offices:
            return self
        if not user.office_id:
            return self.none()
        return self.filter(**{self.model.office_lookup: user.office_id})


OfficeScopedManager = models.Manager.from_queryset(OfficeScopedQuerySet)
