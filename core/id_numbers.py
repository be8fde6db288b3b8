"""Identity documents of candidates: validation, parsing and masking of their numbers.

The resident ID follows GB 11643-1999 (see DOMAIN.md); the residence permit for Hong Kong, Macao and
Taiwan residents and the new foreign permanent residence ID card use the same layout and check digit.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DocumentType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident ID card")
    HMT_PERMIT = "hmt_permit", _("Residence permit for Hong Kong, Macao and Taiwan residents")
    PASSPORT = "passport", _("Foreign passport")
    PERMANENT_RESIDENCE = "foreign_prc", _("Foreign permanent residence ID card")


FOREIGN_DOCUMENTS = {DocumentType.PASSPORT, DocumentType.PERMANENT_RESIDENCE}

PERMIT_PREFIXES = ("810000", "820000", "830000")
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# [0-9] rather than \d: \d would accept other scripts' digits, which have no place in a stored number.
EIGHTEEN_CHARACTERS = re.compile(r"[0-9]{17}[0-9X]")
NEW_PERMANENT_RESIDENCE = re.compile(r"9[0-9]{16}[0-9X]")
OLD_PERMANENT_RESIDENCE = re.compile(r"[A-Z]{3}[0-9]{12}")
PASSPORT = re.compile(r"[A-Z0-9]{5,17}")

CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"

FORMAT_MESSAGES = {
    DocumentType.RESIDENT_ID: _("A resident ID number has 18 characters: 17 digits and a last digit or X."),
    DocumentType.HMT_PERMIT: _("A residence permit number has 18 characters: 17 digits and a last digit or X."),
    DocumentType.PASSPORT: _("A passport number has 5 to 17 letters and digits."),
    DocumentType.PERMANENT_RESIDENCE: _(
        "A permanent residence ID card number has either 18 characters starting with 9 (17 digits and a last "
        "digit or X) or, on the old card, 3 letters followed by 12 digits."
    ),
}


@dataclass(frozen=True)
class ParsedDocument:
    number: str  # normalised: spaces removed, upper-case
    birth_date: date | None  # from the number where it carries one
    gender: str | None  # "M" / "F" where the number carries it, else None


def normalize(number: str) -> str:
    """Upper-case without any spaces; NFKC first, since Chinese input methods often type full-width digits."""
    return "".join(unicodedata.normalize("NFKC", number).split()).upper()


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of an 18-character number."""
    if not re.fullmatch(r"[0-9]{17}", first17):
        raise ValueError(f"expected 17 digits, got {len(first17)} characters")
    total = sum(int(digit) * weight for digit, weight in zip(first17, CHECK_WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def parse_document(document_type: str, number: str, *, today: date | None = None) -> ParsedDocument:
    """Validate `number` as a document of `document_type`; raise ValidationError saying what is wrong."""
    if document_type not in DocumentType.values:
        raise ValidationError(
            _("Unknown identity document type: %(type)s."),
            code="unknown_document_type",
            params={"type": document_type},
        )
    value = normalize(number or "")
    if not value:
        raise ValidationError(_("Enter the number of the identity document."), code="required")

    if document_type == DocumentType.PASSPORT:
        _require_format(PASSPORT, value, document_type)
        return ParsedDocument(number=value, birth_date=None, gender=None)

    if document_type == DocumentType.PERMANENT_RESIDENCE:
        if OLD_PERMANENT_RESIDENCE.fullmatch(value):
            return ParsedDocument(number=value, birth_date=None, gender=None)
        _require_format(NEW_PERMANENT_RESIDENCE, value, document_type)
        return _parse_eighteen(value, today)

    _require_format(EIGHTEEN_CHARACTERS, value, document_type)
    is_permit_number = value.startswith(PERMIT_PREFIXES)
    if document_type == DocumentType.RESIDENT_ID and is_permit_number:
        raise ValidationError(
            _(
                "This is the number of a residence permit for Hong Kong, Macao and Taiwan residents: "
                "please choose that document type."
            ),
            code="residence_permit_number",
        )
    if document_type == DocumentType.HMT_PERMIT and not is_permit_number:
        raise ValidationError(
            _(
                "A residence permit number for Hong Kong, Macao and Taiwan residents starts with 810000, "
                "820000 or 830000: for a mainland resident ID card, please choose that document type."
            ),
            code="not_residence_permit_number",
        )
    return _parse_eighteen(value, today)


def _require_format(pattern: re.Pattern, value: str, document_type: str) -> None:
    if not pattern.fullmatch(value):
        raise ValidationError(FORMAT_MESSAGES[document_type], code="invalid_format")


def _parse_eighteen(value: str, today: date | None) -> ParsedDocument:
    """Birth date, gender and check digit of an 18-character number already known to have the right shape."""
    birth_date = _birth_date(value[6:14], today or timezone.localdate())
    if check_digit(value[:17]) != value[17]:
        raise ValidationError(
            _("The check digit of this ID number is wrong: please check every digit."),
            code="invalid_check_digit",
        )
    gender = "M" if int(value[16]) % 2 else "F"
    return ParsedDocument(number=value, birth_date=birth_date, gender=gender)


def _birth_date(digits: str, today: date) -> date:
    # Checked before the check digit: a mistyped birth date gets the more precise message.
    shown = f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    try:
        birth_date = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise ValidationError(
            _("The birth date in this ID number (%(date)s) is not a real date."),
            code="invalid_birth_date",
            params={"date": shown},
        ) from None
    if birth_date > today:
        raise ValidationError(_("The birth date in this ID number is in the future."), code="future_birth_date")
    if birth_date < EARLIEST_BIRTH_DATE:
        raise ValidationError(
            _("The birth date in this ID number (%(date)s) is before 1900."),
            code="birth_date_too_early",
            params={"date": shown},
        )
    return birth_date


def mask(document_type: str, number: str) -> str:
    """The number for lists, exports, emails, audit entries and logs; never raises, whatever it is given."""
    value = normalize("" if number is None else str(number))
    if len(value) < 5:
        return "*" * len(value)
    # Only a number of the 18-character layout keeps 10 characters; anything else keeps 4.
    if document_type != DocumentType.PASSPORT and len(value) == 18:
        return f"{value[:6]}{'*' * 8}{value[-4:]}"
    return f"{value[:2]}{'*' * (len(value) - 4)}{value[-2:]}"


def looks_like_document_number(text: str) -> bool:
    """Whether `text` has the shape of some document number (no checksum), for an exact admin lookup."""
    value = normalize(text or "")
    return any(
        pattern.fullmatch(value)
        for pattern in (EIGHTEEN_CHARACTERS, NEW_PERMANENT_RESIDENCE, OLD_PERMANENT_RESIDENCE, PASSPORT)
    )
