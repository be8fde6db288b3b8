"""Staff views of the application admin: decision forms, batch decisions and the file download.

Every view gets its application through the ModelAdmin's scoped `get_object` (another office's
application is a 404) and calls the model's own method, which locks the row, writes the history and
queues the email; the views only translate the outcome into admin messages.
"""

import os
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.uploads import CONTENT_TYPES

from . import bulk
from .models import EDITABLE_BY_CANDIDATE, TRANSITIONS, Application, InvalidTransition, RejectionReason, Status

# Upload field → the field holding the name the candidate gave the file.
FILE_FIELDS = {
    "insurance_pdf": "insurance_pdf_name",
    "degree_certificate": "degree_certificate_name",
    "passport_copy": "passport_copy_name",
}
MAX_INSURED_MONTHS = 12 * 60


# Forms ------------------------------------------------------------------------------------------------


class VerifiedMonthsForm(forms.Form):
    months = forms.IntegerField(
        label=_("Social-insurance months the PDF shows"),
        min_value=0,
        max_value=MAX_INSURED_MONTHS,
        help_text=_("The checks use this number from now on instead of the months the candidate claimed."),
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note (kept in the history)"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class RejectForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=[("", "---------"), *RejectionReason.choices])
    note = forms.CharField(
        label=_("Explanation for the candidate"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("Sent to the candidate with the reason. Required when the reason is “Other”."),
    )

    def clean(self):
        data = super().clean()
        if data.get("reason") == RejectionReason.OTHER and not data.get("note", "").strip():
            self.add_error("note", _("Say why the application is rejected."))
        return data


class ReturnForm(forms.Form):
    note = forms.CharField(
        label=_("What the candidate must correct"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sent to the candidate by email and shown on their status page."),
    )

    def clean_note(self):
        note = self.cleaned_data["note"].strip()
        if not note:
            raise ValidationError(_("Say what the candidate must correct."))
        return note


# Single decisions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    slug: str
    label: Any
    form_class: type[forms.Form]
    target: str | None  # the status it leads to (None: the status does not change)
    done: Any
    run: Any  # (application, user, cleaned_data) -> None; raises InvalidTransition or ValidationError

    def available(self, application):
        if self.target is None:
            return application.status in (*EDITABLE_BY_CANDIDATE, Status.APPROVED)
        if self.slug == "in-person-done":
            # "submitted" also follows "returned" (the candidate resubmits): staff may not take that path.
            return application.status == Status.IN_PERSON_REVIEW
        return self.target in TRANSITIONS[application.status]

    def unavailable_message(self, application):
        if self.target is None:
            return _("%(ref)s is “%(status)s”: verified months can no longer be recorded.") % {
                "ref": application.reference,
                "status": application.get_status_display(),
            }
        return application.refusal(self.target)


DECISIONS = {
    decision.slug: decision
    for decision in (
        Decision(
            "verified-months",
            _("Record verified months"),
            VerifiedMonthsForm,
            None,
            _("Verified social-insurance months recorded for %(ref)s."),
            lambda application, user, data: application.record_verified_months(user, data["months"]),
        ),
        Decision(
            "approve",
            _("Approve"),
            NoteForm,
            Status.APPROVED,
            _("%(ref)s approved; the candidate is told by email."),
            lambda application, user, data: application.approve(user, note=data["note"]),
        ),
        Decision(
            "reject",
            _("Reject"),
            RejectForm,
            Status.REJECTED,
            _("%(ref)s rejected; the candidate is told by email."),
            lambda application, user, data: application.reject(user, data["reason"], note=data["note"].strip()),
        ),
        Decision(
            "return",
            _("Return for correction"),
            ReturnForm,
            Status.RETURNED,
            _("%(ref)s returned for correction; the candidate is told by email."),
            lambda application, user, data: application.return_for_correction(user, data["note"]),
        ),
        Decision(
            "in-person-done",
            _("In-person review done"),
            NoteForm,
            Status.SUBMITTED,
            _("In-person review of %(ref)s recorded; the application is now in the normal review."),
            lambda application, user, data: application.finish_in_person_review(user, note=data["note"]),
        ),
    )
}


def available_decisions(application):
    return [decision for decision in DECISIONS.values() if decision.available(application)]


def change_url(model_admin, application):
    opts = model_admin.opts
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_change",
        args=[application.pk],
        current_app=model_admin.admin_site.name,
    )


def decision_url(model_admin, application, decision):
    opts = model_admin.opts
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_decide",
        args=[application.pk, decision.slug],
        current_app=model_admin.admin_site.name,
    )


def decision_view(model_admin, request, object_id, slug):
    decision = DECISIONS.get(slug)
    if decision is None:
        raise Http404
    application = model_admin.get_object(request, unquote(object_id))  # another office's: 404
    if not model_admin.has_review_permission(request):
        raise PermissionDenied
    back = HttpResponseRedirect(change_url(model_admin, application))
    if not decision.available(application):
        messages.error(request, decision.unavailable_message(application))
        return back

    form = decision.form_class(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            decision.run(application, request.user, form.cleaned_data)
        except InvalidTransition as exc:
            # Someone else decided first (the model locks the row): their decision stands, nothing was written.
            messages.error(request, str(exc))
            return back
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            model_admin.log_change(request, application, str(decision.label))
            messages.success(request, decision.done % {"ref": application.reference})
            return back

    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{decision.label}: {application.reference}",
        "subtitle": None,
        "opts": model_admin.opts,
        "original": application,
        "decision": decision,
        "form": form,
        "checks": application.preview_checks(),
        "change_url": change_url(model_admin, application),
        "media": model_admin.media + form.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/applications/application/decision.html", context)


# Batch decisions --------------------------------------------------------------------------------------


def _report(request, done_message, skipped):
    if done_message:
        messages.success(request, done_message)
    if skipped:
        messages.warning(
            request,
            format_html(
                "{}<ul>{}</ul>",
                ngettext("%(count)d application skipped:", "%(count)d applications skipped:", len(skipped))
                % {"count": len(skipped)},
                format_html_join("", "<li>{}: {}</li>", skipped),
            ),
        )


def batch_approve(model_admin, request, queryset):
    """Approve what may be approved in bulk (applications/bulk.py) and say why the others were left alone."""
    approved, skipped = bulk.approve_batch(queryset, request.user, now=timezone.now(), request=request)
    LogEntry.objects.log_actions(
        request.user.pk,
        Application.objects.filter(pk__in=approved).only("pk", "reference"),
        CHANGE,
        str(_("Approved (batch)")),
    )
    done = ngettext("%(count)d application approved.", "%(count)d applications approved.", len(approved)) % {
        "count": len(approved)
    }
    _report(request, done if approved else "", skipped)


def batch_reject(model_admin, request, queryset):
    """First a confirmation page asking for the reason (as Django's delete does), then the rejections."""
    form = RejectForm(request.POST if request.POST.get("post") else None)
    if form.is_bound and form.is_valid():
        rejected, skipped = 0, []
        for application in queryset:
            try:
                application.reject(request.user, form.cleaned_data["reason"], note=form.cleaned_data["note"].strip())
            except (InvalidTransition, ValidationError) as exc:
                skipped.append((application.reference, " ".join(getattr(exc, "messages", [str(exc)]))))
            else:
                model_admin.log_change(request, application, str(_("Rejected (batch)")))
                rejected += 1
        done = ngettext("%(count)d application rejected.", "%(count)d applications rejected.", rejected) % {
            "count": rejected
        }
        _report(request, done if rejected else "", skipped)
        return None  # back to the changelist

    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Reject the selected applications"),
        "subtitle": None,
        "opts": model_admin.opts,
        "queryset": queryset.select_related("candidate"),
        "form": form,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action_name": "reject_selected",
        "media": model_admin.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/applications/application/reject_selected_confirmation.html", context)


# Files ------------------------------------------------------------------------------------------------


def download_name(application, field):
    """The candidate's file name with the extension of what was actually stored (checked by content)."""
    stored = getattr(application, field).name
    extension = os.path.splitext(stored)[1].lower()
    given = os.path.splitext(os.path.basename(getattr(application, FILE_FIELDS[field]) or ""))[0].strip()
    return f"{given or application.reference + '-' + field}{extension}"


def download_view(model_admin, request, object_id, field):
    """An uploaded file, only for staff who may see the application; never through a public URL."""
    if field not in FILE_FIELDS:
        raise Http404
    application = model_admin.get_object(request, unquote(object_id))  # another office's: 404
    if not model_admin.has_view_permission(request, application):
        raise PermissionDenied
    stored = getattr(application, field)
    if not stored:
        raise Http404
    try:
        handle = stored.storage.open(stored.name, "rb")
    except (FileNotFoundError, SuspiciousFileOperation):
        raise Http404 from None
    content_type = CONTENT_TYPES.get(os.path.splitext(stored.name)[1].lower(), "application/octet-stream")
    response = FileResponse(
        handle, as_attachment=True, filename=download_name(application, field), content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
