"""The exam session's change form shows what a date change moves before it is saved (portal/reschedule.py),
then, once confirmed and saved, moves the stored deadlines in the worker (portal.tasks.reschedule_session)."""

from django.contrib import admin
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from applications.admin import ExamSessionAdmin
from applications.models import ExamSession
from offices.admin import CalendarDayAdmin
from offices.models import CalendarDay

from . import reschedule, tasks

for model in (ExamSession, CalendarDay):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(ExamSession)
class RescheduleExamSessionAdmin(ExamSessionAdmin):
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and object_id and not request.POST.get("_reschedule_confirmed"):
            obj = self.get_object(request, object_id)
            if obj is not None and self.has_change_permission(request, obj):
                form = self.get_form(request, obj, change=True)(request.POST, request.FILES, instance=obj)
                if form.is_valid() and form.has_changed():
                    shown = reschedule.preview(form.instance)
                    if shown.moved or shown.reopened or shown.reviews_moved or shown.applications_reopened:
                        posted = [(k, v) for k, v in request.POST.lists() if k not in ("csrfmiddlewaretoken", "_save")]
                        context = {
                            **self.admin_site.each_context(request),
                            "opts": self.opts,
                            "original": ExamSession.objects.get(pk=obj.pk),
                            "preview": shown,
                            "posted": posted,
                            "title": _("Deadlines that move"),
                        }
                        return TemplateResponse(
                            request, "admin/applications/examsession/reschedule_preview.html", context
                        )
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            because = _("the session's dates were changed (%(fields)s)") % {
                "fields": ", ".join(str(form.fields[name].label) for name in form.changed_data)
            }
            transaction.on_commit(lambda: tasks.reschedule_session.delay(obj.pk, because))


@admin.register(CalendarDay)
class RescheduleCalendarDayAdmin(CalendarDayAdmin):
    """A holiday or make-up day entered, changed or deleted moves the current session's due times (no preview
    yet: the counts are those of the worker's summary)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _reschedule_current(_("a calendar day was entered: %(day)s") % {"day": obj})

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _reschedule_current(_("a calendar day was deleted: %(day)s") % {"day": obj})


def _reschedule_current(because):
    session = ExamSession.objects.current()
    if session is not None:
        transaction.on_commit(lambda: tasks.reschedule_session.delay(session.pk, because))
