"""Whom overdue work is escalated to: the office's managers, else the regional staff (applications and requests
alike), and the history line that says so."""

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Role, User
from .workdays import BEIJING


class EscalationRecipients:
    """Whom an overdue application or request is escalated to: the active managers of its office who have an
    email address, else the regional staff who have one; regional staff alone for what waits on the regional
    office. Loaded once per sweep; it keeps who had no address and what had nobody to tell, for the summary."""

    def __init__(self):
        self.managers = {}
        for manager in User.objects.filter(is_active=True, role=Role.MANAGER).order_by("pk"):
            self.managers.setdefault(manager.office_id, []).append(manager)
        self.regional = list(User.objects.filter(is_active=True, role=Role.REGIONAL).order_by("pk"))
        self.without_email, self.nobody_to_tell = set(), []

    def for_office(self, office_id, reference, *, regional_only=False):
        """The users to email about `reference` of `office_id`; an empty list is recorded as nobody to tell."""
        asked = [] if regional_only else self.managers.get(office_id, [])
        users = [user for user in asked if user.email]
        if not users:
            asked = asked + self.regional
            users = [user for user in self.regional if user.email]
        self.without_email.update(user.get_username() for user in asked if not user.email)
        if not users:
            self.nobody_to_tell.append(reference)
        return users

    def note(self, due_at, users):
        return escalation_note(due_at, users)

    def summary(self, summary):
        if self.without_email:
            summary += f"; skipped, no email address: {', '.join(sorted(self.without_email))}"
        if self.nobody_to_tell:
            summary += f"; not escalated, nobody with an email address to tell: {', '.join(self.nobody_to_tell)}"
        return summary


def escalation_note(due_at, users):
    """The history line of an escalation (the same words for applications and requests)."""
    return _("Overdue since %(due)s: escalated to %(users)s.") % {
        "due": timezone.localtime(due_at, BEIJING).strftime("%Y-%m-%d %H:%M"),
        "users": ", ".join(user.get_username() for user in users),
    }
