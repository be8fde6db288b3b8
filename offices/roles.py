"""What each staff role may do: one group per role, synced after every migrate, never set by hand."""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from .models import Role

_REVIEWER = [
    "offices.view_office",
    "applications.view_examsession",
    "notifications.view_outboxmessage",
    "notifications.resend_outboxmessage",
    "public.view_helpentry",
    # Registration review: the admin form itself is read-only; decisions go through their own views,
    # which need review_application.
    "applications.view_application",
    "applications.change_application",
    "applications.review_application",
    "applications.view_candidate",
    "applications.view_applicationevent",
    # In-person requests: the form is read-only; steps go through their own views (process_ticket),
    # taking a request needs change_ticket. The change form lists history, messages and notes.
    "tickets.view_ticket",
    "tickets.change_ticket",
    "tickets.process_ticket",
    "tickets.view_ticketevent",
    "tickets.view_ticketmessage",
    "tickets.view_cannedreply",
    # The requests' downloadable forms: every office downloads them, only the regional office edits their text.
    "tickets.view_formtemplate",
    # The audit log, read-only and scoped: the entries of their office's applications, requests and candidates.
    "auditlog.view_logentry",
    # Counter visits: today's visits and the check-in; the office's hours and closed days, read-only.
    "appointments.view_booking",
    "appointments.check_in_booking",
    "appointments.view_countersettings",
    "appointments.view_closedday",
]
_MANAGER = [
    *_REVIEWER,
    "offices.view_user",
    "notifications.export_outboxmessage",
    "applications.export_application",
    # Managers also assign requests to others (change_ticket plus the manager role, see tickets.staff_views).
    "tickets.export_exemption",
    # Spreadsheet jobs › Export jobs: large exports run in the background (each user sees their own;
    # core/admin_spreadsheets.py).
    "import_export_extensions.view_exportjob",
    # The office's visiting hours, counters and closed days.
    "appointments.add_countersettings",
    "appointments.change_countersettings",
    "appointments.add_closedday",
    "appointments.change_closedday",
    "appointments.delete_closedday",
]
_REGIONAL = [
    *_MANAGER,
    "offices.change_office",
    "offices.import_office",
    "offices.export_office",
    "offices.add_user",
    "offices.change_user",
    "offices.view_calendarday",
    "offices.add_calendarday",
    "offices.change_calendarday",
    "offices.delete_calendarday",
    "offices.view_calendaryear",
    "offices.add_calendaryear",
    "offices.change_calendaryear",
    "applications.add_examsession",
    "applications.change_examsession",
    "applications.view_full_document_number",
    # The national platform's payment list covers the whole exam area: only the regional office imports it.
    "applications.import_payment",
    "applications.view_payment",
    "applications.add_payment",
    "public.add_helpentry",
    "public.change_helpentry",
    "public.delete_helpentry",
    # Certification deletion and refunds are finished by the regional office.
    "tickets.regional_step",
    "tickets.import_duplicatepayment",
    # Spreadsheet jobs › Import jobs: large imports are checked and imported in the background (each user sees
    # their own).
    "import_export_extensions.view_importjob",
    "tickets.view_duplicatepayment",
    "tickets.add_cannedreply",
    "tickets.change_cannedreply",
    "tickets.delete_cannedreply",
    "tickets.view_kindsetting",
    "tickets.change_kindsetting",
    "tickets.change_formtemplate",
]

ROLE_PERMISSIONS = {
    Role.REVIEWER: _REVIEWER,
    Role.MANAGER: _MANAGER,
    Role.REGIONAL: _REGIONAL,
}


def permissions_named(names, using="default"):
    """Permissions for "app_label.codename" strings; names of models not migrated yet are left out."""
    query = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.using(using).filter(query)


def sync_role_groups(using="default", **kwargs):
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set(permissions_named(names, using))
