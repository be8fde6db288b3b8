"""Whom overdue work is escalated to: the office's managers, else the regional staff (applications and requests
alike), and the history line that says so; which open work is due soon enough to warn its office about, and whom.
"""

import datetime

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.templatetags.portal import moment

from .models import Role, User
from .workdays import BEIJING, workday_after


class EscalationRecipients:
    """Whom an overdue application or request is escalated to: the active managers of its office who have an
    email address, else the regional staff who have one; regional staff alone for what waits on the regional
    office. Loaded once per sweep; it keeps who had no address and what had nobody to tell, for the summary."""

    roles = (Role.MANAGER,)  # whom of an office to tell

    def __init__(self):
        self.managers = {}
        for manager in User.objects.filter(is_active=True, role__in=self.roles).order_by("pk"):
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
        "due": moment(due_at),
        "users": ", ".join(user.get_username() for user in users),
    }


# Warnings before the due time ------------------------------------------------------------------------------------


def due_soon_condition(now, open_statuses, cap=None):
    """The open records whose office is to be warned now (Workflow.warn_due_soon), as one Q:

    - from the start of the due time's last working day (settings.PORTAL_DUE_WARNING_WORKDAYS earlier when set), once
      per due time: `due_warned_for` holds the due time warned about, so a moved due time is warned about again;
    - and, for a due time capped at `cap` (an expression: the application's payment close), again
      settings.PORTAL_DUE_WARNING_HOURS_BEFORE_CAP before it.
    Never after the due time: then it is overdue and escalated."""
    today = timezone.localtime(now, BEIJING).date()
    # Due on a day before the (n+1)-th working day after today: its warning day (the last working day on or
    # before the due day, n working days earlier) has begun.
    horizon = datetime.datetime.combine(
        workday_after(today, settings.PORTAL_DUE_WARNING_WORKDAYS + 1), datetime.time(), tzinfo=BEIJING
    )
    not_warned = Q(due_warned_for__isnull=True) | ~Q(due_warned_for=F("due_at"))
    soon = Q(due_at__lt=horizon) & not_warned
    if cap is not None:
        before = datetime.timedelta(hours=settings.PORTAL_DUE_WARNING_HOURS_BEFORE_CAP)
        soon |= Q(due_at=cap, due_at__lte=now + before) & (not_warned | Q(due_warned_at__lt=F("due_at") - before))
    return Q(status__in=open_statuses, due_at__gt=now) & soon


class WarningRecipients(EscalationRecipients):
    """Whom a due-soon warning goes to: the office's active reviewers and managers who have an email address, else
    the regional staff who have one."""

    roles = (Role.REVIEWER, Role.MANAGER)

    def note(self, due_at, users):
        return due_warning_note(due_at, users)


def due_warning_note(due_at, users):
    return _("Due at %(due)s: the office was warned (%(users)s).") % {
        "due": moment(due_at),
        "users": ", ".join(user.get_username() for user in users),
    }
