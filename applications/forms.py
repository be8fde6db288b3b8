"""The candidate's forms: a new application, an edit of one before a decision, withdrawal and status lookup.

Parsing and validation live here; state changes go through the model methods (Application.submit,
update_by_candidate, withdraw).
"""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _

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
from core.templatetags.portal import moment
from core.uploads import PDF
from offices.models import REGIONAL_OFFICE_CODE, Office

from .eligibility import Qualification
from .models import Application, Candidate

# The candidate's identity: one form part on every public form (applications and requests).


def _gender_choices():
    return Candidate.Gender.choices


IDENTITY_FIELDS = ("name", "document_type", "document_number", "birth_date", "gender", "nationality")


class IdentityForm(forms.Form):
    """Who the candidate is, with the same rules on every public form: the number is checked with
    id_numbers.parse_document and must agree with the birth date and gender typed; a foreign document
    needs the nationality. Use it as a base next to the form's own fields; clean() runs the checks."""

    name = PersonNameField(label=_("Name"), help_text=_("As written on your identity document."))
    document_type = forms.ChoiceField(label=_("Identity document"), choices=id_numbers.DocumentType.choices)
    document_number = forms.CharField(label=_("Document number"), max_length=32)
    # An 18-character number says both: they are taken from it when left empty (and checked against it when given).
    birth_date = forms.DateField(
        label=_("Birth date"),
        widget=DateInput,
        required=False,
        help_text=_("Taken from an 18-character ID number when left empty; required for other documents."),
    )
    gender = forms.ChoiceField(
        label=_("Gender"),
        choices=_gender_choices,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("Taken from an 18-character ID number when left empty; required for other documents."),
    )
    nationality = forms.CharField(
        label=_("Nationality"),
        max_length=64,
        required=False,
        help_text=_("Only for a foreign passport or a foreign permanent residence ID card."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("document_type", id_numbers.DocumentType.RESIDENT_ID)

    def clean(self):
        cleaned = super().clean()
        self.clean_identity()
        return cleaned

    def clean_identity(self):
        cleaned = self.cleaned_data
        document_type, number = cleaned.get("document_type"), cleaned.get("document_number")
        if not (document_type and number):
            self.require_birth_date_and_gender()
            return
        try:
            parsed = id_numbers.parse_document(document_type, number)
        except ValidationError as error:
            self.add_error("document_number", error)
            return
        cleaned["document_number"] = parsed.number
        if parsed.birth_date and not cleaned.get("birth_date") and "birth_date" not in self.errors:
            cleaned["birth_date"] = parsed.birth_date
        if parsed.gender and not cleaned.get("gender"):
            cleaned["gender"] = parsed.gender
        self.require_birth_date_and_gender()
        if parsed.birth_date and cleaned.get("birth_date") and cleaned["birth_date"] != parsed.birth_date:
            self.add_error(
                "birth_date",
                ValidationError(
                    _("This differs from the birth date in your document number (%(date)s)."),
                    code="birth_date_mismatch",
                    params={"date": parsed.birth_date.isoformat()},
                ),
            )
        if parsed.gender and cleaned.get("gender") and cleaned["gender"] != parsed.gender:
            self.add_error(
                "gender",
                ValidationError(
                    _("This differs from the gender in your document number (%(gender)s)."),
                    code="gender_mismatch",
                    params={"gender": dict(_gender_choices())[parsed.gender]},
                ),
            )
        if document_type in id_numbers.FOREIGN_DOCUMENTS and not cleaned.get("nationality", "").strip():
            self.add_error(
                "nationality",
                ValidationError(_("Enter the nationality shown on your document."), code="nationality_required"),
            )

    def require_birth_date_and_gender(self):
        """A document whose number does not say them (passport, old permanent-residence card): they are asked."""
        for name in ("birth_date", "gender"):
            if not self.cleaned_data.get(name) and name not in self.errors:
                self.add_error(name, ValidationError(self.fields[name].error_messages["required"], code="required"))

    def is_foreign(self):
        return self.cleaned_data.get("document_type") in id_numbers.FOREIGN_DOCUMENTS

    def identity(self):
        """The identity as Candidate fields (nationality only for foreign documents: the default otherwise)."""
        data = self.cleaned_data
        identity = {name: data[name] for name in IDENTITY_FIELDS if name != "nationality"}
        if data["document_type"] in id_numbers.FOREIGN_DOCUMENTS:
            identity["nationality"] = data["nationality"].strip()
        return identity


SUBJECT_FIELDS = ("subject_practice", "subject_management", "subject_law")
DETAIL_FIELDS = (
    "email",
    "phone",
    "qualification",
    "school",
    "major",
    "graduation_date",
    "work_start_date",
    "claimed_insured_months",
    "ce_professional_credits",
    "ce_public_credits",
)
UPLOAD_LABELS = {
    "insurance_pdf": _("Social-insurance payment record (PDF)"),
    "degree_certificate": _("Degree certificate"),
    "passport_copy": _("Passport copy"),
}


def subject_choices():
    return [(name, Application._meta.get_field(name).verbose_name) for name in SUBJECT_FIELDS]


class ApplicationDetailsForm(KeptUploadsMixin, forms.Form):
    """What a candidate may give and change: office, contact, education, work, credits, subjects, uploads."""

    required_css_class = "required"
    error_css_class = "has-error"

    office = OfficeChoiceField(
        label=_("Exam office"),
        queryset=Office.objects.none(),
        empty_label=_("Choose an office"),
        help_text=_("The office of the place where you sit the exam; it reviews your application."),
    )
    email = forms.EmailField(
        label=_("Email"), max_length=254, help_text=_("The confirmation and every decision are sent here.")
    )
    phone = forms.CharField(label=_("Mobile phone"), max_length=30, validators=[phone_validator])
    qualification = forms.ChoiceField(
        label=_("Highest qualification"), choices=[("", "---------"), *Qualification.choices]
    )
    school = forms.CharField(label=_("School"), max_length=150)
    major = forms.CharField(label=_("Major"), max_length=100)
    graduation_date = forms.DateField(label=_("Graduation date"), widget=DateInput)
    work_start_date = forms.DateField(
        label=_("Started accounting work on"),
        widget=DateInput,
        help_text=_("Part-time work while you were a full-time student does not count."),
    )
    claimed_insured_months = forms.IntegerField(
        label=_("Months of social insurance paid"),
        min_value=0,
        max_value=600,
        help_text=_("As shown by the social-insurance record you upload below."),
    )
    ce_professional_credits = forms.IntegerField(
        label=_("Continuing education last year: professional credits"), min_value=0, max_value=999
    )
    ce_public_credits = forms.IntegerField(
        label=_("Continuing education last year: public credits"), min_value=0, max_value=999
    )
    subjects = forms.MultipleChoiceField(
        label=_("Subjects"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one subject.")},
        help_text=_("All three subjects must be passed within two consecutive exam years."),
    )
    insurance_pdf = CheckedFileField(
        label=UPLOAD_LABELS["insurance_pdf"],
        allowed=(PDF,),
        help_text=_("Required. Export it as PDF from the 新疆智慧人社 mini-program."),
    )
    degree_certificate = CheckedFileField(label=UPLOAD_LABELS["degree_certificate"], help_text=_("Optional."))
    passport_copy = CheckedFileField(
        label=UPLOAD_LABELS["passport_copy"],
        help_text=_("Foreign candidates only (passport or permanent residence card)."),
    )

    fieldsets = [
        (_("Exam office"), ["office"]),
        (_("Contact"), ["email", "phone"]),
        (_("Education and work"), ["qualification", "school", "major", "graduation_date", "work_start_date"]),
        (
            _("Social insurance and continuing education"),
            ["claimed_insured_months", "ce_professional_credits", "ce_public_credits"],
        ),
        (_("Subjects"), ["subjects"]),
        (_("Documents (PDF, JPEG or PNG)"), ["insurance_pdf", "degree_certificate", "passport_copy"]),
    ]

    def __init__(self, *args, language, **kwargs):
        super().__init__(*args, **kwargs)
        self.language = language
        self.fields["office"].queryset = Office.objects.exclude(code=REGIONAL_OFFICE_CODE).order_by("code")
        self.fields["subjects"].choices = subject_choices()

    def field_errors(self):
        return [name for name in self.errors if name != NON_FIELD_ERRORS]

    def grouped_fields(self):
        return [(legend, [self[name] for name in names if name in self.fields]) for legend, names in self.fieldsets]

    # What the subclasses decide ---------------------------------------------------------------------

    def is_foreign(self):
        raise NotImplementedError

    def has_stored_file(self, name):
        return False

    def accepts_uploads(self):
        return True

    # Validation -------------------------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        for name in ("graduation_date", "work_start_date"):
            if cleaned.get(name) and cleaned[name] > today:
                self.add_error(name, ValidationError(_("This date is in the future."), code="future"))
        self.keep_uploads(persist=self.accepts_uploads())
        self._require_uploads()
        return cleaned

    def _require_uploads(self):
        needed = {"insurance_pdf": None}
        if self.is_foreign():
            needed["passport_copy"] = _("Foreign candidates must upload a copy of their passport.")
        for name, message in needed.items():
            if self.kept.get(name) is None and not self.has_stored_file(name) and name not in self.errors:
                self.add_error(name, ValidationError(message or self.fields[name].error_messages["required"]))

    # For the model methods --------------------------------------------------------------------------

    def details(self):
        data = self.cleaned_data
        values = {name: data[name] for name in DETAIL_FIELDS}
        values.update({name: name in data["subjects"] for name in SUBJECT_FIELDS})
        values["language"] = self.language
        return values


class ApplicationForm(HoneypotMixin, IdentityForm, SubmissionKeyForm, ApplicationDetailsForm):
    """A new application of the current session; identity fields first."""

    fieldsets = [
        (_("Identity"), ["name", "document_type", "document_number", "birth_date", "gender", "nationality"]),
        *ApplicationDetailsForm.fieldsets,
    ]

    def __init__(self, data=None, files=None, *, session, language, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("subjects", list(SUBJECT_FIELDS))
        super().__init__(data, files, language=language, **kwargs)
        self.session = session

    def previous_submission(self):
        """The application this very form already created (a double click or a retried POST), if any."""
        key = self.posted_key()
        # Only what the redirect to its confirmation needs.
        return Application.objects.filter(submission_key=key).only("status_token").first() if key else None

    def accepts_uploads(self):
        return not self.errors.get("__all__")

    def clean(self):
        if not self.session.registration_is_open():
            self.add_error(None, ValidationError(closed_message(self.session), code="closed"))
        return super().clean()

    def submit(self):
        """Application.submit with what the form holds; raises InvalidTransition when registration closed
        in the meantime (then the kept uploads stay kept). Returns (application, created)."""
        application, created = Application.submit(
            session=self.session,
            office=self.cleaned_data["office"],
            identity=self.identity(),
            details=self.details(),
            files=self.kept_files(),
            submission_key=self.cleaned_data["submission_key"],
        )
        self.discard_kept()
        return application, created


def closed_message(session):
    return _(
        "Online registration is open from %(opens)s to %(closes)s (Beijing time): your application could not be sent."
    ) % {"opens": moment(session.registration_opens), "closes": moment(session.registration_closes)}


class EditApplicationForm(ApplicationDetailsForm):
    """The same form, pre-filled, for an application not yet decided (or returned); identity stays as it is
    and uploads are optional: a file already attached is kept unless a new one replaces it."""

    def __init__(self, data=None, files=None, *, application, language, **kwargs):
        self.application = application
        initial = {name: getattr(application, name) for name in DETAIL_FIELDS}
        initial["office"] = application.office_id
        initial["subjects"] = [name for name in SUBJECT_FIELDS if getattr(application, name)]
        kwargs.setdefault("initial", initial)
        super().__init__(data, files, language=language, **kwargs)
        for name in self.upload_field_names():
            self.fields[name].widget.current_name = self.stored_file_name(name)
        if not self.is_foreign():
            del self.fields["passport_copy"]

    def stored_file_name(self, name):
        if not getattr(self.application, name):
            return ""
        return getattr(self.application, f"{name}_name") or str(_("your file"))

    def has_stored_file(self, name):
        return bool(getattr(self.application, name))

    def is_foreign(self):
        return self.application.candidate.is_foreign

    def details(self):
        return {**super().details(), "office": self.cleaned_data["office"]}

    def save(self):
        """Application.update_by_candidate (which resubmits a returned application); returns the event."""
        event = self.application.update_by_candidate(self.details(), self.kept_files())
        self.discard_kept()
        return event


class WithdrawForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, withdraw this application. I understand that this cannot be undone."),
        error_messages={"required": _("Tick the box to confirm that you want to withdraw.")},
    )


class StatusLookupForm(forms.Form):
    """Reference + document number; both must match, and a miss says nothing about which one was wrong."""

    reference = forms.CharField(
        label=_("Reference"),
        max_length=20,
        help_text=_("10 characters starting with A, as in your confirmation email."),
    )
    document_number = forms.CharField(label=_("Document number"), max_length=32)

    def clean_reference(self):
        reference = normalize_reference(self.cleaned_data["reference"])
        if not is_valid_reference(reference, "A"):
            raise ValidationError(
                _("This is not a valid reference: check every character (10 characters starting with A)."),
                code="invalid_reference",
            )
        return reference

    def clean_document_number(self):
        return id_numbers.normalize(self.cleaned_data["document_number"])

    def find(self):
        """The application both values point to, or None."""
        application = (
            Application.objects.filter(reference=self.cleaned_data["reference"])
            # Only what the comparison and the redirect to the status page need.
            .only("status_token", "candidate__document_number")
            .select_related("candidate")
            .first()
        )
        stored = application.candidate.document_number if application else ""
        # Compared even when there is no application, so both misses do the same work.
        matches = constant_time_compare(stored, self.cleaned_data["document_number"])
        return application if application is not None and matches else None
