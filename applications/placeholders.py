"""Placeholders for the current exam session in staff-written text (help entries, the requests' downloadable forms):
staff write {registration_closes} and the reader sees the date the home page shows, in the reader's language, so a
text never contradicts the session's data."""

import re

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# placeholder → (what it is, the session's field or a function of the session)
PLACEHOLDERS = {
    "year": (_("exam year"), lambda session: session.year),
    "ce_year": (_("year of the continuing education required"), lambda session: session.ce_year),
    "registration_opens": (_("registration opens"), lambda session: session.registration_opens),
    "registration_closes": (_("registration closes"), lambda session: session.registration_closes),
    "payment_closes": (_("payment closes"), lambda session: session.payment_closes),
    "exemption_deadline": (_("exemption deadline"), lambda session: session.exemption_deadline),
    "info_change_deadline": (_("information changes until"), lambda session: session.info_change_deadline),
    "exam_first_day": (_("first exam day"), lambda session: session.exam_first_day),
    "exam_last_day": (_("last exam day"), lambda session: session.exam_last_day),
    "admit_card_from": (_("admit-card printing from"), lambda session: session.admit_card_from),
    "admit_card_to": (_("admit-card printing to"), lambda session: session.admit_card_to),
    "young_candidate_cutoff": (_("young candidates: born after"), lambda session: session.young_candidate_cutoff),
    # Not dates of the session, but what its forms name: in the reader's language.
    "subjects": (_("the exam's subjects"), lambda session: SUBJECTS),
    "exempt_subject": (_("the subject MPAcc and DPAcc holders may be exempted from"), lambda session: EXEMPT_SUBJECT),
}
SUBJECTS = _("Intermediate Accounting Practice, Financial Management and Economic Law")
EXEMPT_SUBJECT = _("Financial Management")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Anything in braces, for checking what staff typed: "{ year}" or "{年份}" is a mistake to show, not text to keep.
BRACED = re.compile(r"\{([^{}\n]*)\}")
MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def spoken(value, language):
    """A date or moment as a sentence of the help page says it: 2024年7月2日12:00 / 12:00 on 2 July 2024."""
    english = (language or "").startswith("en")
    if hasattr(value, "hour"):
        moment = timezone.localtime(value)
        day = spoken(moment.date(), language)
        if (moment.hour, moment.minute) == (0, 0):
            return day  # the start of a day is the day
        time = moment.strftime("%H:%M")
        return f"{time} on {day}" if english else f"{day}{time}"
    if hasattr(value, "month"):
        if english:
            return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"
        return f"{value.year}年{value.month}月{value.day}日"
    return "" if value is None else str(value)


def session_values(session, language):
    """{placeholder: text} for `session` (with its derived dates filled in)."""
    if session is None:
        return {}
    session.fill_defaults()
    return {name: spoken(get(session), language) for name, (_what, get) in PLACEHOLDERS.items()}


def fill(text, values):
    """`text` with each known placeholder replaced; anything else in braces is left as written."""
    return PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), text)


def unknown(text, known):
    """The braced names in `text` that are not in `known`, in order, once each."""
    found = [match[1] for match in BRACED.finditer(text or "") if match[1] not in known]
    return list(dict.fromkeys(found))


def help_text():
    return "; ".join(f"{{{name}}}: {what}" for name, (what, _get) in PLACEHOLDERS.items())
