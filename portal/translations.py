"""Words that django-auditlog and Django's admin index show but have no Chinese catalogue for: marked here so that
`makemessages` keeps their entries in locale/zh_Hans (the admin must show no English in zh-hans, issue 11)."""

from django.utils.translation import gettext_noop

AUDITLOG_WORDS = [
    gettext_noop("Audit log"),
    gettext_noop("log entries"),
    gettext_noop("User"),
    gettext_noop("access"),
    gettext_noop("remote address"),
    gettext_noop("Resource Type"),
    gettext_noop("From"),
    gettext_noop("To"),
]

# The hidden header of the admin index's model list (templates admin/app_list.html of Django 5).
ADMIN_INDEX_WORDS = [gettext_noop("Model name"), gettext_noop("Add link"), gettext_noop("Change or view list link")]
