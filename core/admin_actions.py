"""The page of one staff action on one record (an application's decision, a request's step): the form, then the
action on the locked row, and the outcome as an admin message. The action's own rules are the workflow's
(core/transitions.py) or the model's; this page only translates their answer."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .transitions import Refused


def refusal_text(exc):
    if isinstance(exc, ValidationError):
        return " ".join(str(message) for message in exc.messages)
    if isinstance(exc, PermissionDenied):
        return str(exc) or gettext("You may not do this.")
    return str(exc)


def action_page(model_admin, request, record, action, form, *, run, back, template, context=None):
    """`action` has label, done ("… %(ref)s …") and transition (None when the engine does not log it: then the
    admin log gets an entry here); `run(cleaned_data)` performs it and raises when it is refused. A refusal or a
    conflict writes nothing and says why; success says what was done. Both go back to the record."""
    if form.is_bound and form.is_valid():
        try:
            with transaction.atomic():
                run(form.cleaned_data)
        except (Refused, ValidationError, PermissionDenied) as exc:
            # Someone else acted first (the row is locked), or a rule refused: nothing was written.
            messages.error(request, refusal_text(exc))
            return back
        except IntegrityError:
            messages.error(request, _("This change conflicts with another candidate's data; nothing was changed."))
            return back
        if action.transition is None:
            model_admin.log_change(request, record, str(action.label))  # the engine logs its transitions
        messages.success(request, action.done % {"ref": record.reference})
        return back
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "title": f"{action.label}: {record.reference}",
            "subtitle": None,
            "opts": model_admin.opts,
            "original": record,
            "form": form,
            "media": model_admin.media + form.media,
            **(context or {}),
        },
    )
