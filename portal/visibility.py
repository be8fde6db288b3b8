"""What spans applications and requests: which candidates an office sees."""

from django.db.models import Q

from applications.models import Application, Candidate
from tickets.models import Ticket


def candidates_for(user):
    """A candidate is visible to an office when one of their applications or requests belongs to it; regional
    staff see every candidate; anybody else none (deny by default, as OfficeScopedQuerySet.for_user)."""
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
        return Candidate.objects.none()
    if user.sees_all_offices:
        return Candidate.objects.all()
    if not user.office_id:
        return Candidate.objects.none()
    return Candidate.objects.filter(
        Q(pk__in=Application.objects.for_user(user).values("candidate_id"))
        | Q(pk__in=Ticket.objects.for_user(user).values("candidate_id"))
    )
