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


def _preview_page(model_admin, request, original, shown):
    """The counts of what saving would move, and the form posted again with _reschedule_confirmed."""
    posted = [(k, v) for k, v in request.POST.lists() if k not in ("csrfmiddlewaretoken", "_save")]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": original,
        "preview": shown,
        "posted": posted,
        "title": _("Deadlines that move"),
    }
    return TemplateResponse(request, "admin/applications/examsession/reschedule_preview.html", context)


@admin.register(ExamSession)
class RescheduleExamSessionAdmin(ExamSessionAdmin):
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and object_id and not request.POST.get("_reschedule_confirmed"):
            obj = self.get_object(request, object_id)
            if obj is not None and self.has_change_permission(request, obj):
                form = self.get_form(request, obj, change=True)(request.POST, request.FILES, instance=obj)
                if form.is_valid() and form.has_changed():
                    shown = reschedule.preview(form.instance)
                    if shown.anything:
                        return _preview_page(self, request, ExamSession.objects.get(pk=obj.pk), shown)
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
    """A holiday or make-up day entered or changed shows what it moves in the current session first (computed with
    the day saved in a transaction that is rolled back), like a session edit; deleted, it moves them without a
    preview of its own (Django's delete confirmation comes first)."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        session = ExamSession.objects.current()
        if request.method == "POST" and session is not None and not request.POST.get("_reschedule_confirmed"):
            obj = self.get_object(request, object_id) if object_id else None
            allowed = self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
            if allowed and (obj is not None or object_id is None):
                form = self.get_form(request, obj, change=obj is not None)(request.POST, request.FILES, instance=obj)
                if form.is_valid() and (obj is None or form.has_changed()):
                    with transaction.atomic():
                        form.save()
                        shown = reschedule.preview(session)
                        transaction.set_rollback(True)
                    if shown.anything:
                        return _preview_page(self, request, obj, shown)
        return super().changeform_view(request, object_id, form_url, extra_context)

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
