"""Helpers shared by the public forms: checked uploads that survive a failed submission, a honeypot, and
the building blocks every candidate form has (identity with its checks, one-time submission key, dates,
phone, office choice).

A file that passed core.uploads.clean_upload is kept as a PendingUpload when the form is shown again
(another field was wrong, or the submission was refused): the page carries only its random token in a
hidden field, so the candidate does not upload it again. A token is accepted only for the field it was kept
for (a PNG kept as a degree certificate never becomes the social-insurance PDF) and only for a day. A form
that goes through hands its new files straight to the record: nothing is written twice, read back and
deleted again for the usual, correct submission.
"""

import datetime
import os
import re
import unicodedata
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import RegexValidator
from django.forms.utils import ErrorDict
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import PendingUpload
from .uploads import EXTENSIONS, JPEG, PDF, PNG, clean_upload

KEPT_SUFFIX = "_kept"
PENDING_UPLOAD_MAX_AGE = datetime.timedelta(days=1)
HONEYPOT_FIELD = "website"
GENERIC_ERROR = _("The form could not be sent. Check your answers and send it again.")


class CheckedFileInput(forms.FileInput):
    """A file input that shows the file already kept (and carries its token) or the one already attached."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.kept = None  # the PendingUpload of this field, set by KeptUploadsMixin
        self.current_name = ""  # the original name of a file the record already has (edit forms)

    def render(self, name, value, attrs=None, renderer=None):
        file_input = super().render(name, None, attrs, renderer)
        if self.kept is not None:
            return format_html(
                '<p class="upload-kept"><strong>{}</strong> {}</p><input type="hidden" name="{}" value="{}">{}',
                _("Kept: %(name)s") % {"name": self.kept.original_name or _("your file")},
                _("Choose another file only if you want to replace it."),
                name + KEPT_SUFFIX,
                self.kept.token,
                file_input,
            )
        if self.current_name:
            return format_html(
                '<p class="upload-kept"><strong>{}</strong> {}</p>{}',
                _("Current file: %(name)s") % {"name": self.current_name},
                _("Choose a file only if you want to replace it."),
                file_input,
            )
        return file_input


class CheckedFileField(forms.FileField):
    """An upload checked by core.uploads.clean_upload; cleans to the safe copy it returns.

    Not required by itself: whether a file is needed is the form's decision, since a kept file counts.
    """

    widget = CheckedFileInput

    def __init__(self, *, allowed=(PDF, JPEG, PNG), **kwargs):
        kwargs.setdefault("required", False)
        # Empty files reach clean_upload, whose message is the portal's.
        kwargs.setdefault("allow_empty_file", True)
        self.allowed = tuple(allowed)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", ",".join(EXTENSIONS[kind] for kind in self.allowed))

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if not upload:
            return None
        return clean_upload(upload, self.allowed)


class KeptUploadsMixin:
    """For a forms.Form with CheckedFileFields: call keep_uploads() in clean(); then kept_files() gives the
    files to attach and discard_kept() removes the kept copies once the record holds them.

    New files are stored (as PendingUploads) only once the form has errors: at the end of full_clean(), or
    when the view adds one afterwards (a refusal at submission). Until then they stay in memory, and a valid
    form's files go to the record without a stored copy."""

    def upload_field_names(self):
        return [name for name, field in self.fields.items() if isinstance(field, CheckedFileField)]

    def keep_uploads(self, *, persist=True):
        """Resolve each upload field to a PendingUpload: the new file (kept for the next attempt unless
        `persist` is false; stored only if the form is shown again) or the one kept earlier, whose token came
        back in the hidden field. A refused new file leaves the earlier kept one in place."""
        self.kept = {}
        for name in self.upload_field_names():
            upload = self.cleaned_data.get(name)
            if upload is not None and persist:
                pending = PendingUpload(field=name, file=upload, original_name=upload.original_name)
                pending.new_upload = upload
            else:
                pending = self._kept_from_token(name)
            self.kept[name] = pending
            self.fields[name].widget.kept = pending
            if name in self.cleaned_data:
                self.cleaned_data[name] = pending
        return self.kept

    def _kept_from_token(self, name):
        token = (self.data.get(name + KEPT_SUFFIX) or "").strip()
        if not token or len(token) > 64:
            return None
        oldest = timezone.now() - PENDING_UPLOAD_MAX_AGE
        return PendingUpload.objects.filter(token=token, field=name, created_at__gte=oldest).first()

    def full_clean(self):
        self._cleaned = False
        super().full_clean()
        self._cleaned = True
        if self._errors:
            self.store_kept()

    def add_error(self, field, error):
        super().add_error(field, error)
        # After cleaning, an error is a refusal at submission: the page shows the form again.
        if getattr(self, "_cleaned", False):
            self.store_kept()

    def store_kept(self):
        """Store the new files, so that the form shown again carries their tokens."""
        for pending in getattr(self, "kept", {}).values():
            if pending is not None and pending.pk is None:
                pending.save()

    def kept_files(self):
        """{field: file} for every field with a new or kept upload, as fresh files with random names."""
        files = {}
        for name, pending in getattr(self, "kept", {}).items():
            if pending is None:
                continue
            if pending.pk is None:
                # Never stored: the checked copy itself, with its random name.
                content = pending.new_upload
                content.seek(0)
            else:
                with pending.file.open("rb") as stored:
                    content = ContentFile(stored.read(), name=os.path.basename(pending.file.name))
                content.original_name = pending.original_name
            files[name] = content
        return files

    def discard_kept(self):
        for pending in getattr(self, "kept", {}).values():
            if pending is not None and pending.pk is not None:
                pending.file.delete(save=False)
                pending.delete()
        self.kept = {}


class HoneypotMixin:
    """A field people never see (hidden with CSS) and bots fill in. A filled one gets the generic error
    and the form stops there: no field is cleaned, nothing is stored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[HONEYPOT_FIELD] = forms.CharField(
            label=_("Leave this field empty"),
            required=False,
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )

    @property
    def honeypot(self):
        return self[HONEYPOT_FIELD]

    def full_clean(self):
        if self.is_bound and self.data.get(HONEYPOT_FIELD):
            self._errors = ErrorDict(renderer=self.renderer)
            self.cleaned_data = {}
            self.add_error(None, ValidationError(GENERIC_ERROR, code="generic"))
            return
        super().full_clean()


def new_form_key():
    return uuid.uuid4().hex


def is_form_key(value):
    """Whether `value` is a key new_form_key() could have made (32 lower-case hex digits)."""
    try:
        return isinstance(value, str) and uuid.UUID(hex=value).hex == value
    except ValueError:
        return False


# Building blocks of the candidate's public forms (applications, in-person requests) -------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 \-]{5,28}$", _("Enter a phone number: digits, optionally with + in front, spaces or dashes.")
)


class OfficeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name  # Chinese or English, by the language of the page


# A person's name, as identity documents and passports print it: Chinese characters (with the extensions of
# rarer ones), Latin letters with their accents, and between them a space, a hyphen, an apostrophe or the
# middle dot of transliterated names (阿依古丽·买买提). Nothing else: the confirmation email, sent to whatever
# address was typed, opens with the name, so digits, punctuation, links or line breaks there would let anyone
# have the portal deliver text of their choosing in its name.
_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
_ACCENTS = "\u0300-\u036f"  # combining accents left over after NFC (a letter with no precomposed form)
_NAME_WORD = f"[{_HAN}{_LATIN}][{_HAN}{_LATIN}{_ACCENTS}]*"
PERSON_NAME = re.compile(f"{_NAME_WORD}(?:[ \\-'\u2019\u02bc\u00b7]{_NAME_WORD})*")
NAME_MIN_LENGTH, NAME_MAX_LENGTH = 2, 60
# Input methods type the middle dot and the hyphen in several ways; the identity card prints these.
_NAME_DOTS = re.compile("[\u2022\u2027\u2219\u30fb\uff65]")
_NAME_HYPHENS = re.compile("[\u2010\u2011]")
# Spaces as typed (no-break, ideographic); a line break or tab is no space in a name and stays to be refused.
_NAME_SPACES = re.compile("[ \u00a0\u3000]+")
_SPACE_AROUND_JOINERS = re.compile(" ?([\u00b7-]) ?")


def normalize_person_name(name: str) -> str:
    """NFC; one space between words; the card's middle dot and hyphen, without spaces around them."""
    name = _NAME_SPACES.sub(" ", unicodedata.normalize("NFC", name)).strip(" ")
    name = _NAME_HYPHENS.sub("-", _NAME_DOTS.sub("\u00b7", name))
    return _SPACE_AROUND_JOINERS.sub(r"\1", name)


def is_person_name(name: str) -> bool:
    """Whether a (normalised) name holds only what a person's name is made of (PERSON_NAME)."""
    return PERSON_NAME.fullmatch(name) is not None


class PersonNameField(forms.CharField):
    """A candidate's name (current or new): normalised, then checked by is_person_name and for its length."""

    default_error_messages = {
        "invalid": _(
            "Enter the name as written on the identity document: Chinese characters or Latin letters, "
            "with only spaces, hyphens (-), apostrophes (') or the middle dot (·) between them."
        )
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", NAME_MAX_LENGTH)
        kwargs.setdefault("min_length", NAME_MIN_LENGTH)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_person_name(value) if value else value

    def validate(self, value):
        super().validate(value)
        if value and not is_person_name(value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")


class SubmissionKeyForm(forms.Form):
    """A hidden one-time key per form shown: posting the same form twice (a double click, a retried POST)
    is recognised by it, so that it creates one record. A POST without a valid key gets a fresh one."""

    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and not is_form_key(data.get("submission_key")):
            data = data.copy()
            data["submission_key"] = new_form_key()
        kwargs.setdefault("initial", {}).setdefault("submission_key", new_form_key())
        super().__init__(data, *args, **kwargs)

    def posted_key(self):
        """The key this form was posted with, if it is one new_form_key() could have made."""
        key = self.data.get("submission_key")
        return key if is_form_key(key) else None
