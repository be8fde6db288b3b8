"""Identity document numbers: GB 11643-1999 resident IDs, residence permits, passports, permanent residence cards."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from core.id_numbers import (
    DocumentType,
    ParsedDocument,
    check_digit,
    looks_like_document_number,
    mask,
    normalize,
    parse_document,
)

TODAY = date(2024, 6, 1)
RESIDENT = DocumentType.RESIDENT_ID
PERMIT = DocumentType.HMT_PERMIT
PASSPORT = DocumentType.PASSPORT
PERMANENT = DocumentType.PERMANENT_RESIDENCE


def valid(first17):
    """A number with a correct check digit, so that each test fails only for the reason it is about."""
    return first17 + check_digit(first17)


def wrong_check(first17):
    right = check_digit(first17)
    return first17 + ("0" if right != "0" else "1")


def first17_with_check(check, gender):
    """The first 17 digits of an Urumqi resident born 1990-01-01 whose check character is `check`."""
    odd = gender == "M"
    return next(
        first17
        for first17 in (f"650102199001010{n:02d}" for n in range(100))
        if check_digit(first17) == check and int(first17[-1]) % 2 == odd
    )


MALE = valid("65010219900101123")  # 17th digit 3: odd
FEMALE = valid("65010219851231002")  # 17th digit 2: even
ENDS_IN_X = valid(first17_with_check("X", gender="M"))
PERMIT_NUMBER = valid("81000019900101123")
NEW_PERMANENT = valid("93184019850615001")


def test_textbook_example_checked_by_hand():
    # 1×7 + 1×9 + 1×5 + 5×4 + 1×2 + 9×1 + 4×6 + 9×3 + 1×7 + 2×9 + 3×10 + 1×5 + 2×2 = 167; 167 mod 11 = 2 → "X"
    assert check_digit("11010519491231002") == "X"
    assert parse_document(RESIDENT, "11010519491231002X", today=TODAY) == ParsedDocument(
        number="11010519491231002X", birth_date=date(1949, 12, 31), gender="F"
    )


def test_check_digit_refuses_anything_but_17_digits():
    for bad in ("1101051949123100", "110105194912310021", "1101051949123100A"):
        with pytest.raises(ValueError):
            check_digit(bad)


@pytest.mark.parametrize(
    ("document_type", "entered", "number", "birth_date", "gender"),
    [
        (RESIDENT, MALE, MALE, date(1990, 1, 1), "M"),
        (RESIDENT, FEMALE, FEMALE, date(1985, 12, 31), "F"),
        (RESIDENT, ENDS_IN_X, ENDS_IN_X, date(1990, 1, 1), "M"),
        (RESIDENT, ENDS_IN_X.lower(), ENDS_IN_X, date(1990, 1, 1), "M"),
        (RESIDENT, f" {MALE[:6]} {MALE[6:14]} {MALE[14:]} ", MALE, date(1990, 1, 1), "M"),
        (RESIDENT, "\u3000" + "".join(chr(ord(c) + 0xFEE0) for c in MALE), MALE, date(1990, 1, 1), "M"),
        # Turpan city's code until 2015 (now 650402): people keep their number, so it stays valid.
        (RESIDENT, valid("65210119700315004"), valid("65210119700315004"), date(1970, 3, 15), "F"),
        (RESIDENT, valid("65010220000229001"), valid("65010220000229001"), date(2000, 2, 29), "M"),
        (RESIDENT, valid("65010219000101001"), valid("65010219000101001"), date(1900, 1, 1), "M"),
        (RESIDENT, valid("65010220240601001"), valid("65010220240601001"), TODAY, "M"),
        (PERMIT, PERMIT_NUMBER, PERMIT_NUMBER, date(1990, 1, 1), "M"),
        (PERMIT, valid("82000019920304002"), valid("82000019920304002"), date(1992, 3, 4), "F"),
        (PERMIT, valid("83000019881111005"), valid("83000019881111005"), date(1988, 11, 11), "M"),
        (PASSPORT, "e1234 5678", "E12345678", None, None),
        (PASSPORT, "G1234", "G1234", None, None),
        (PASSPORT, "A" * 17, "A" * 17, None, None),
        (PERMANENT, NEW_PERMANENT, NEW_PERMANENT, date(1985, 6, 15), "M"),
        (PERMANENT, "usa650185061501", "USA650185061501", None, None),
    ],
    ids=[
        "male",
        "female",
        "check-digit-X",
        "lower-case-x",
        "spaces",
        "full-width",
        "obsolete-area-code",
        "29-feb-leap-year",
        "1900-01-01",
        "born-today",
        "permit-hong-kong",
        "permit-macao",
        "permit-taiwan",
        "passport",
        "passport-5",
        "passport-17",
        "permanent-new",
        "permanent-old",
    ],
)
def test_valid_numbers(document_type, entered, number, birth_date, gender):
    parsed = parse_document(document_type, entered, today=TODAY)
    assert parsed.number == number
    assert parsed.birth_date == birth_date
    assert parsed.gender == gender


@pytest.mark.parametrize(
    ("document_type", "entered", "code"),
    [
        (RESIDENT, wrong_check("65010219900101123"), "invalid_check_digit"),
        (RESIDENT, MALE[:8] + MALE[9] + MALE[8] + MALE[10:], "invalid_check_digit"),  # two digits swapped
        (RESIDENT, MALE[:17], "invalid_format"),
        (RESIDENT, MALE + "1", "invalid_format"),
        (RESIDENT, MALE[:8] + "A" + MALE[9:], "invalid_format"),
        (RESIDENT, MALE[:16] + "X" + MALE[17], "invalid_format"),
        (RESIDENT, "", "required"),
        (RESIDENT, "   ", "required"),
        (RESIDENT, valid("65010220010229001"), "invalid_birth_date"),
        (RESIDENT, valid("65010219000229001"), "invalid_birth_date"),  # 1900 was not a leap year
        (RESIDENT, valid("65010219900431001"), "invalid_birth_date"),
        (RESIDENT, valid("65010219901301001"), "invalid_birth_date"),
        (RESIDENT, valid("65010219900100001"), "invalid_birth_date"),
        (RESIDENT, valid("65010220240602001"), "future_birth_date"),
        (RESIDENT, valid("65010218991231001"), "birth_date_too_early"),
        (RESIDENT, PERMIT_NUMBER, "residence_permit_number"),
        (RESIDENT, valid("83000019881111005"), "residence_permit_number"),
        (PERMIT, MALE, "not_residence_permit_number"),
        (PERMIT, valid("81000119900101123"), "not_residence_permit_number"),
        (PERMIT, wrong_check("81000019900101123"), "invalid_check_digit"),
        (PERMIT, valid("81000020240602001"), "future_birth_date"),
        (PERMIT, PERMIT_NUMBER[:17], "invalid_format"),
        (PASSPORT, "E123", "invalid_format"),
        (PASSPORT, "A" * 18, "invalid_format"),
        (PASSPORT, "E1234-5678", "invalid_format"),
        (PASSPORT, "E.12345678", "invalid_format"),
        (PASSPORT, "E12345678/", "invalid_format"),
        (PERMANENT, MALE, "invalid_format"),
        (PERMANENT, "US650185061501", "invalid_format"),
        (PERMANENT, "USA65018506150", "invalid_format"),
        (PERMANENT, "US1650185061501", "invalid_format"),
        (PERMANENT, wrong_check("93184019850615001"), "invalid_check_digit"),
        (PERMANENT, valid("93184019850230001"), "invalid_birth_date"),
        (PERMANENT, valid("93184020240602001"), "future_birth_date"),
        ("driving_licence", MALE, "unknown_document_type"),
    ],
)
def test_invalid_numbers(document_type, entered, code):
    with pytest.raises(ValidationError) as raised:
        parse_document(document_type, entered, today=TODAY)
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("document_type", "entered", "words"),
    [
        (RESIDENT, MALE[:17], "A resident ID number has 18 characters: 17 digits and a last digit or X."),
        (RESIDENT, wrong_check("65010219900101123"), "The check digit of this ID number is wrong"),
        (RESIDENT, valid("65010219900431001"), "The birth date in this ID number (1990-04-31) is not a real date."),
        (RESIDENT, valid("65010220240602001"), "The birth date in this ID number is in the future."),
        (RESIDENT, PERMIT_NUMBER, "please choose that document type"),
        (PERMIT, MALE, "starts with 810000, 820000 or 830000"),
        (PASSPORT, "E1234-5678", "A passport number has 5 to 17 letters and digits."),
        (PERMANENT, "US650185061501", "3 letters followed by 12 digits"),
    ],
)
def test_messages_say_what_is_wrong(english, document_type, entered, words):
    with pytest.raises(ValidationError) as raised:
        parse_document(document_type, entered, today=TODAY)
    assert words in raised.value.messages[0]


def test_today_defaults_to_the_local_date():
    assert parse_document(RESIDENT, MALE).birth_date == date(1990, 1, 1)
    with pytest.raises(ValidationError) as raised:
        parse_document(RESIDENT, valid("65010230000101001"))
    assert raised.value.code == "future_birth_date"


def test_normalize():
    assert normalize(" 6501 02199001011 23x ") == "65010219900101123X"


@pytest.mark.parametrize(
    ("document_type", "number", "masked"),
    [
        (RESIDENT, "65010219900101123X", "650102********123X"),
        (RESIDENT, "650102 19900101 123x", "650102********123X"),
        (PERMIT, PERMIT_NUMBER, f"810000********{PERMIT_NUMBER[-4:]}"),
        (PERMANENT, NEW_PERMANENT, f"931840********{NEW_PERMANENT[-4:]}"),
        (PERMANENT, "USA650185061501", "US***********01"),
        (PASSPORT, "E12345678", "E1*****78"),
        (PASSPORT, "G1234", "G1*34"),
        # Garbage is masked too, and never shown in full: a short one entirely.
        (RESIDENT, "6501", "****"),
        (PASSPORT, "ab", "**"),
        (RESIDENT, "", ""),
        (RESIDENT, "65010219", "65****19"),
        (PASSPORT, "AB1234567890123456", "AB**************56"),
        ("unknown", "65010219900101123X", "650102********123X"),
    ],
)
def test_mask(document_type, number, masked):
    assert mask(document_type, number) == masked
    assert len(mask(document_type, number)) == len(normalize(number))


def test_mask_never_raises():
    assert mask(RESIDENT, None) == ""
    assert mask(PASSPORT, 123456) == "12**56"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MALE, True),
        (ENDS_IN_X.lower(), True),
        (MALE[:-1] + ("0" if MALE[-1] != "0" else "1"), True),  # wrong check digit: still the shape
        (f" {MALE[:6]} {MALE[6:]}", True),
        (PERMIT_NUMBER, True),
        (NEW_PERMANENT, True),
        ("usa650185061501", True),
        ("E12345678", True),
        ("E123", False),
        ("A" * 18, False),
        ("E1234-5678", False),
        ("张伟", False),
        ("", False),
    ],
)
def test_looks_like_document_number(text, expected):
    assert looks_like_document_number(text) is expected
