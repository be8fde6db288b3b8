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
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin_actions import action_page
from core.transitions import Act
from core.uploads import attachment

from .models import EDITABLE_BY_CANDIDATE, RejectionReason, Status
from .workflow import APPLICATIONS, REVIEW

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


class ApproveForm(NoteForm):
    """The note, and when the approval's preconditions fail, the reviewer's reason for overriding them: an
    explicit, recorded decision (kept in the history), never a silent click."""

    override = forms.CharField(
        label=_("Reason for approving despite the failing checks"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Kept in the history. A batch approval never overrides a failing check."),
    )

    def __init__(self, *args, problems=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.problems = list(problems)
        if not self.problems:
            del self.fields["override"]

    def clean_override(self):
        override = self.cleaned_data.get("override", "").strip()
        if self.problems and not override:
            raise ValidationError(_("Give the reason for approving although the checks above fail."))
        return override


# Single decisions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A button of the change page. A decision with a transition is offered exactly when the workflow
    (applications/workflow.py) allows it for this user; the engine checks it again on the locked row."""

    slug: str
    label: Any
    form_class: type[forms.Form]
    done: Any
    run: Any  # (application, user, cleaned_data) -> None; raises Refused
    transition: str | None = None

    def available(self, application, user):
        if self.transition is None:
            return application.status in (*EDITABLE_BY_CANDIDATE, Status.APPROVED) and user.has_perm(REVIEW)
        return APPLICATIONS.offers(self.transition, application, user)

    def unavailable_message(self, application):
        if self.transition is None:
            return _("%(ref)s is “%(status)s”: verified months can no longer be recorded.") % {
                "ref": application.reference,
                "status": application.get_status_display(),
            }
        return application.refusal(APPLICATIONS.transitions[self.transition].target)

    def problems(self, application, user):
        """The approval's failing preconditions (overridable with a reason), computed now."""
        if self.transition != "approve":
            return []
        act = Act(by=user)
        return [
            message
            for guard in APPLICATIONS.transitions["approve"].guards
            if (message := guard.check(application, act)) is not None
        ]


def _decide(name, extra=lambda data: {}):
    """A decision's run: the transition `name` with the form's note and `extra(data)` (reason, override)."""

    def run(application, user, data):
        note = data.get("note", "").strip()
        APPLICATIONS.run_one(name, application, Act(by=user, note=note, **extra(data)))

    return run


DECISIONS = {
    decision.slug: decision
    for decision in (
        Decision(
            "verified-months",
            _("Record verified months"),
            VerifiedMonthsForm,
            _("Verified social-insurance months recorded for %(ref)s."),
            lambda application, user, data: application.record_verified_months(user, data["months"]),
        ),
        Decision(
            "approve",
            _("Approve"),
            ApproveForm,
            _("%(ref)s approved; the candidate is told by email."),
            _decide("approve", lambda data: {"override": data.get("override", "")}),
            transition="approve",
        ),
        Decision(
            "reject",
            _("Reject"),
            RejectForm,
            _("%(ref)s rejected; the candidate is told by email."),
            _decide("reject", lambda data: {"data": {"reason": data["reason"]}}),
            transition="reject",
        ),
        Decision(
            "return",
            _("Return for correction"),
            ReturnForm,
            _("%(ref)s returned for correction; the candidate is told by email."),
            _decide("return"),
            transition="return",
        ),
        Decision(
            "in-person-done",
            _("In-person review done"),
            NoteForm,
            _("In-person review of %(ref)s recorded; the application is now in the normal review."),
            _decide("in-person-done"),
            transition="in-person-done",
        ),
    )
}


def available_decisions(application, user):
    return [decision for decision in DECISIONS.values() if decision.available(application, user)]


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
    if not decision.available(application, request.user):
        messages.error(request, decision.unavailable_message(application))
        return back

    problems = decision.problems(application, request.user)
    extra = {"problems": problems} if decision.form_class is ApproveForm else {}
    form = decision.form_class(request.POST if request.method == "POST" else None, **extra)
    context = {
        "decision": decision,
        "checks": application.preview_checks(),
        "problems": problems,
        "change_url": change_url(model_admin, application),
    }
    return action_page(
        model_admin,
        request,
        application,
        decision,
        form,
        run=lambda data: decision.run(application, request.user, data),
        back=back,
        template="admin/applications/application/decision.html",
        context=context,
    )


# Batch decisions --------------------------------------------------------------------------------------


def _skipped(outcome):
    """Why the engine refused each application, each line naming its reference."""
    return [
        str(message) if str(message).startswith(record.reference) else f"{record.reference}: {message}"
        for record, message in outcome.refused
    ]


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
                format_html_join("", "<li>{}</li>", ((line,) for line in skipped)),
            ),
        )


def batch_approve(model_admin, request, queryset):
    """Approve, in locked chunks, what the workflow lets through without an override (a batch never overrides
    a failing check), and say why the others were left alone."""
    outcome = APPLICATIONS.run("approve", queryset, Act(by=request.user, batch=True, request=request))
    approved = len(outcome.done)
    done = ngettext("%(count)d application approved.", "%(count)d applications approved.", approved) % {
        "count": approved
    }
    _report(request, done if approved else "", _skipped(outcome))


def batch_reject(model_admin, request, queryset):
    """First a confirmation page asking for the reason (as Django's delete does), then the rejections."""
    form = RejectForm(request.POST if request.POST.get("post") else None)
    if form.is_bound and form.is_valid():
        act = Act(
            by=request.user,
            batch=True,
            request=request,
            note=form.cleaned_data["note"].strip(),
            data={"reason": form.cleaned_data["reason"]},
        )
        outcome = APPLICATIONS.run("reject", queryset, act)
        rejected = len(outcome.done)
        done = ngettext("%(count)d application rejected.", "%(count)d applications rejected.", rejected) % {
            "count": rejected
        }
        _report(request, done if rejected else "", _skipped(outcome))
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
    return attachment(stored, download_name(application, field))
