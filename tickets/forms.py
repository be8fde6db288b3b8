"""The candidate's request forms (one per kind) and the status lookup.

Every form has the identity part of the application form (core.forms.IdentityForm), contact details, the
office, and the kind's own fields. Parsing and validation live here; the ticket is created by
Ticket.open_request, which also enforces the deadline and the one-open-request rule at the moment of
submission.
"""

import datetime

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _

from applications.forms import IDENTITY_FIELDS, IdentityForm
from applications.models import Application, Candidate
from applications.models import Status as ApplicationStatus
from core import id_numbers
from core.forms import (
    CheckedFileField,
    DateInput,
    HoneypotMixin,
    KeptUploadsMixin,
    OfficeChoiceField,
    PersonNameField,
    SubmissionKeyForm,
    phone_validator,
)
from core.references import is_valid_reference, normalize_reference
from core.uploads import JPEG, PNG
from offices.models import REGIONAL_OFFICE_CODE, Office
from offices.workdays import BEIJING

from .models import (
    REFERENCE_PREFIX,
    Exemption,
    InfoChange,
    Kind,
    PasswordReset,
    Refund,
    Ticket,
    TicketClosed,
    deadline_for,
)

REQUIRED = _("This field is required.")
# Kinds that always belong to the current exam session (a registration-scope info change does too).
SESSION_KINDS = {Kind.EXEMPTION, Kind.REFUND}


def deadline_text(deadline):
    """A deadline as candidates read it: an end-of-day deadline (midnight) as its last day."""
    local = timezone.localtime(deadline, BEIJING)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        last_day = (local - datetime.timedelta(days=1)).date()
        return _("the end of %(day)s") % {"day": last_day.isoformat()}
    return local.strftime("%Y-%m-%d %H:%M")


class TicketForm(HoneypotMixin, KeptUploadsMixin, SubmissionKeyForm, IdentityForm):
    """What every request has: identity, contact, office; the subclasses add the kind's fields."""

    kind = None
    legend = None
    kind_fields = ()

    required_css_class = "required"
    error_css_class = "has-error"

    email = forms.EmailField(
        label=_("Email"), max_length=254, help_text=_("The confirmation and every update are sent here.")
    )
    phone = forms.CharField(label=_("Mobile phone"), max_length=30, validators=[phone_validator])
    office = OfficeChoiceField(
        label=_("Office"),
        queryset=Office.objects.none(),
        empty_label=_("Choose an office"),
        help_text=_(
            "The accounting management office of the place your accounting relationship belongs to "
            "(会计关系所在地): you complete the request there in person."
        ),
    )

    def __init__(self, data=None, files=None, *, session, language, **kwargs):
        super().__init__(data, files, **kwargs)
        self.session = session
        self.language = language
        self.duplicate = False
        self.fields["office"].queryset = Office.objects.exclude(code=REGIONAL_OFFICE_CODE).order_by("code")

    # Layout -----------------------------------------------------------------------------------------

    def fieldsets(self):
        return [
            (_("Identity"), IDENTITY_FIELDS),
            (_("Contact"), ("email", "phone")),
            (_("Office"), ("office",)),
            (self.legend, self.kind_fields),
        ]

    def grouped_fields(self):
        return [(legend, [self[name] for name in names if name in self.fields]) for legend, names in self.fieldsets()]

    def field_errors(self):
        return [name for name in self.errors if name != NON_FIELD_ERRORS]

    # Scope of the request ---------------------------------------------------------------------------

    def ticket_session(self):
        """The exam session the request belongs to (None for kinds without one)."""
        return self.session if self.kind in SESSION_KINDS else None

    def ticket_platform(self):
        """Password resets are one open request per platform; other kinds have none."""
        return ""

    def scope_fields(self):
        """The detail fields the deadline depends on (see tickets.models.deadline_for)."""
        return {}

    def closed_problem(self, now=None):
        """Why this request cannot be filed now, or None. Ticket.open_request checks it again on saving."""
        return closed_problem(self.kind, self.ticket_session(), self.scope_fields(), now=now)

    # Validation -------------------------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        self.clean_kind()
        if not self.errors.get("__all__"):
            problem = self.closed_problem()
            if problem:
                self.add_error(None, ValidationError(problem, code="closed"))
        # A refused request keeps no files: nothing is stored for it.
        self.keep_uploads(persist=not self.errors.get("__all__"))
        self.require_uploads()
        return cleaned

    def clean_kind(self):
        """The kind's own rules (after the fields are cleaned)."""

    def needed_uploads(self):
        """{field: message or None} of the uploads the request needs (a kept upload counts)."""
        return {}

    def require_uploads(self):
        for name, message in self.needed_uploads().items():
            if self.kept.get(name) is None and name not in self.errors:
                self.add_error(name, ValidationError(message or REQUIRED, code="required"))

    # For Ticket.open_request ------------------------------------------------------------------------

    def detail_fields(self):
        """The fields of the kind's detail model, without the files."""
        return {name: self.cleaned_data[name] for name in self.kind_fields if name not in self.upload_field_names()}

    def detail_files(self, files):
        """The kept files as detail-model fields (with their original names where the model keeps them)."""
        return {}

    def submit(self):
        """Ticket.open_request with what the form holds; returns (ticket, created). Raises TicketClosed (the
        deadline passed in the meantime, or an open request of this kind exists); the uploads stay kept."""
        files = self.kept_files()
        try:
            ticket, created = Ticket.open_request(
                kind=self.kind,
                office=self.cleaned_data["office"],
                identity=self.identity(),
                contact={
                    "email": self.cleaned_data["email"],
                    "phone": self.cleaned_data["phone"],
                    "language": self.language,
                },
                detail_fields={**self.detail_fields(), **self.detail_files(files)},
                submission_key=self.cleaned_data["submission_key"],
                session=self.ticket_session(),
                platform=self.ticket_platform(),
            )
        except TicketClosed:
            self.duplicate = self.has_open_request()
            raise
        self.discard_kept()
        return ticket, created

    def has_open_request(self):
        return (
            Ticket.objects.open()
            .filter(
                kind=self.kind,
                candidate__document_type=self.cleaned_data["document_type"],
                candidate__document_number=self.cleaned_data["document_number"],
            )
            .exists()
        )

    def previous_submission(self):
        """The ticket this very form already created (a double click or a retried POST), if any."""
        key = self.posted_key()
        return Ticket.objects.filter(submission_key=key).first() if key else None


def closed_problem(kind, session, scope_fields, *, now=None):
    """Why a request of `kind` in `session` (None: a kind without session) cannot be filed at `now`, or None."""
    needs_session = kind in SESSION_KINDS or scope_fields.get("scope") == InfoChange.Scope.REGISTRATION
    if needs_session and session is None:
        return _("The dates of the next exam session have not been published yet: this request cannot be filed.")
    deadline = deadline_for(kind, session, scope_fields)
    if deadline is not None and (now or timezone.now()) >= deadline:
        return closed_message(kind, deadline)
    return None


def closed_message(kind, deadline):
    params = {"deadline": deadline_text(deadline)}
    if kind == Kind.EXEMPTION:
        return (
            _(
                "Subject exemption requests were accepted until %(deadline)s (Beijing time), the end of in-person "
                "registration (FAQ 19). The deadline has passed: this request can no longer be filed."
            )
            % params
        )
    if kind == Kind.INFO_CHANGE:
        return (
            _(
                "Changes of the registration after payment were accepted until %(deadline)s (Beijing time), 20 days "
                "before the exam (FAQ 15). The deadline has passed: this request can no longer be filed."
            )
            % params
        )
    return _("The deadline for this request was %(deadline)s (Beijing time).") % params


# The five kinds -----------------------------------------------------------------------------------------


class PasswordResetForm(TicketForm):
    kind = Kind.PASSWORD_RESET
    legend = _("Password reset")
    kind_fields = ("platform", "self_service_tried")

    platform = forms.ChoiceField(label=_("Platform"), choices=PasswordReset.Platform.choices, widget=forms.RadioSelect)
    self_service_tried = forms.BooleanField(
        label=_("I tried the self-service recovery (registered email, mobile phone or security questions)"),
        required=False,
        help_text=_("Required for the national platform (FAQ 5): the office resets it only when that failed."),
    )

    def clean_kind(self):
        platform = self.cleaned_data.get("platform")
        if not platform:
            return
        try:
            PasswordReset(platform=platform, self_service_tried=self.cleaned_data.get("self_service_tried")).clean()
        except ValidationError as error:
            self.add_error(None, error)

    def ticket_platform(self):
        return self.cleaned_data["platform"]


CHANGEABLE = (
    ("name", _("Name")),
    ("gender", _("Gender")),
    ("document_number", _("Document number")),
    ("photo", _("Photo")),
)


NEW_VALUE_FIELDS = {"name": "new_name", "gender": "new_gender", "document_number": "new_document_number"}


class InfoChangeForm(TicketForm):
    kind = Kind.INFO_CHANGE
    legend = _("Personal-information change")
    kind_fields = ("scope", "changes", "new_name", "new_gender", "new_document_number", "new_photo", "proof")

    scope = forms.ChoiceField(
        label=_("What to change"),
        choices=InfoChange.Scope.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "The registration is changed here only for a paid application of the current exam session; before "
            "payment, change it yourself online (FAQ 13)."
        ),
    )
    changes = forms.MultipleChoiceField(
        label=_("Which information"),
        choices=CHANGEABLE,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one piece of information to change.")},
    )
    new_name = PersonNameField(label=_("New name"), required=False)
    new_gender = forms.ChoiceField(
        label=_("New gender"), choices=[("", "---------"), *Candidate.Gender.choices], required=False
    )
    new_document_number = forms.CharField(
        label=_("New document number"),
        max_length=32,
        required=False,
        help_text=_("Of the same kind of document as the one above."),
    )
    new_photo = CheckedFileField(
        label=_("New photo (JPEG or PNG)"), allowed=(JPEG, PNG), help_text=_("Only when you change the photo.")
    )
    proof = CheckedFileField(
        label=_("Proof of the change (PDF, JPEG or PNG)"),
        help_text=_(
            "For example the household register page or the certificate that shows the new name or number. "
            "Not needed when you change the photo only."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.application = None

    def is_registration(self):
        return self.cleaned_data.get("scope") == InfoChange.Scope.REGISTRATION

    def ticket_session(self):
        return self.session if self.is_registration() else None

    def scope_fields(self):
        return {"scope": self.cleaned_data.get("scope")}

    def chosen(self):
        return self.cleaned_data.get("changes") or []

    def clean_kind(self):
        cleaned, chosen = self.cleaned_data, self.chosen()
        for change, field in NEW_VALUE_FIELDS.items():
            if change in chosen and not (cleaned.get(field) or "").strip():
                self.add_error(field, ValidationError(_("Enter the new value."), code="required"))
        if "document_number" in chosen and cleaned.get("new_document_number") and cleaned.get("document_type"):
            try:
                parsed = id_numbers.parse_document(cleaned["document_type"], cleaned["new_document_number"])
            except ValidationError as error:
                self.add_error("new_document_number", error)
            else:
                cleaned["new_document_number"] = parsed.number
        if self.is_registration() and self.session is not None and "document_number" in cleaned:
            self.application = self.paid_application()
            if self.application is None:
                self.add_error(
                    "scope",
                    ValidationError(
                        _(
                            "This is only for paid applications, and no paid application of the %(session)s has "
                            "this document number. Before payment, change your registration yourself online "
                            "(FAQ 13)."
                        ),
                        code="not_paid",
                        params={"session": self.session},
                    ),
                )

    def paid_application(self):
        return (
            Application.objects.filter(
                session=self.session,
                candidate__document_type=self.cleaned_data["document_type"],
                candidate__document_number=self.cleaned_data["document_number"],
                status=ApplicationStatus.PAID,
            )
            .order_by("-paid_at")
            .first()
        )

    def needed_uploads(self):
        chosen, needed = self.chosen(), {}
        if "photo" in chosen:
            needed["new_photo"] = _("Upload the new photo.")
        if chosen and chosen != ["photo"]:
            needed["proof"] = _("Upload a proof of the change.")
        return needed

    def detail_fields(self):
        cleaned, chosen = self.cleaned_data, self.chosen()
        # The values as the portal knows them; a first request carries the ones typed above.
        current = Candidate.objects.by_document(cleaned["document_type"], cleaned["document_number"])
        old = {name: getattr(current, name) if current else cleaned[name] for name in ("name", "gender")}
        fields = {"scope": cleaned["scope"], "application": self.application if self.is_registration() else None}
        if "name" in chosen:
            fields.update(old_name=old["name"], new_name=cleaned["new_name"].strip())
        if "gender" in chosen:
            fields.update(old_gender=old["gender"], new_gender=cleaned["new_gender"])
        if "document_number" in chosen:
            fields.update(
                old_document_number=cleaned["document_number"], new_document_number=cleaned["new_document_number"]
            )
        return fields

    def detail_files(self, files):
        fields = {}
        if "photo" in self.chosen() and "new_photo" in files:
            fields["new_photo"] = files["new_photo"]
        if "proof" in files:
            fields.update(proof=files["proof"], proof_name=files["proof"].original_name)
        return fields


class CertificationDeletionForm(TicketForm):
    kind = Kind.CERT_DELETION
    legend = _("Certification deletion")
    kind_fields = ("statement", "statement_scan")

    statement = forms.CharField(
        label=_("Written statement"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Explain that you can no longer use the email of your account on the national platform and ask for "
            "your real-name certification to be deleted. You sign it at the office."
        ),
    )
    statement_scan = CheckedFileField(label=_("Signed statement, scanned (PDF, JPEG or PNG)"), help_text=_("Optional."))

    def detail_files(self, files):
        return {"statement_scan": files["statement_scan"]} if "statement_scan" in files else {}


class RefundForm(TicketForm):
    kind = Kind.REFUND
    legend = _("Duplicate-payment refund")
    kind_fields = ("receipt", "payment_codes", "amounts", "paid_at")

    receipt = CheckedFileField(
        label=_("Bank receipt (PDF, JPEG or PNG)"),
        help_text=_("Required: the bank card receipt (银行卡回单) that shows the duplicate payment."),
    )
    payment_codes = forms.CharField(
        label=_("Payment codes"), max_length=200, required=False, help_text=_("As on the receipts, if you have them.")
    )
    amounts = forms.CharField(label=_("Amounts paid"), max_length=200, required=False)
    paid_at = forms.CharField(label=_("Payment dates"), max_length=200, required=False)

    def needed_uploads(self):
        return {"receipt": _("Upload the bank receipt of the duplicate payment.")}

    def detail_fields(self):
        return {**super().detail_fields(), "source": Refund.Source.CANDIDATE_REPORT}

    def detail_files(self, files):
        return {"receipt": files["receipt"], "receipt_name": files["receipt"].original_name}


class ExemptionForm(TicketForm):
    kind = Kind.EXEMPTION
    legend = _("Subject exemption (Financial Management)")
    kind_fields = ("degree", "certificate_number", "school", "graduation_date")

    degree = forms.ChoiceField(label=_("Degree"), choices=Exemption.Degree.choices, widget=forms.RadioSelect)
    certificate_number = forms.CharField(label=_("Degree certificate number"), max_length=50)
    school = forms.CharField(label=_("School"), max_length=150)
    graduation_date = forms.DateField(label=_("Graduation date"), widget=DateInput)

    def clean_graduation_date(self):
        value = self.cleaned_data["graduation_date"]
        if value > timezone.localdate():
            raise ValidationError(_("This date is in the future."), code="future")
        return value


FORMS = {
    Kind.PASSWORD_RESET: PasswordResetForm,
    Kind.INFO_CHANGE: InfoChangeForm,
    Kind.CERT_DELETION: CertificationDeletionForm,
    Kind.REFUND: RefundForm,
    Kind.EXEMPTION: ExemptionForm,
}


# Status lookup ------------------------------------------------------------------------------------------


class TicketLookupForm(forms.Form):
    """Reference + document number; both must match, and a miss says nothing about which one was wrong."""

    reference = forms.CharField(
        label=_("Reference"),
        max_length=20,
        help_text=_("10 characters, as in your confirmation email and on your in-person form."),
    )
    document_number = forms.CharField(label=_("Document number"), max_length=32)

    def clean_reference(self):
        reference = normalize_reference(self.cleaned_data["reference"])
        if not any(is_valid_reference(reference, prefix) for prefix in REFERENCE_PREFIX.values()):
            raise ValidationError(
                _("This is not a valid request reference: check every character (10 characters)."),
                code="invalid_reference",
            )
        return reference

    def clean_document_number(self):
        return id_numbers.normalize(self.cleaned_data["document_number"])

    def find(self):
        """The ticket both values point to, or None."""
        ticket = Ticket.objects.filter(reference=self.cleaned_data["reference"]).select_related("candidate").first()
        stored = ticket.candidate.document_number if ticket else ""
        # Compared even when there is no ticket, so both misses do the same work.
        matches = constant_time_compare(stored, self.cleaned_data["document_number"])
        return ticket if ticket is not None and matches else None
