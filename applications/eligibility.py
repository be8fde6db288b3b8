"""Eligibility rules (报名条件) of DOMAIN.md as small functions: they explain, staff decide.

Every check returns a Check with a short explanation staff can read; none rejects anything by itself.
"""

import datetime
import json
from dataclasses import asdict, dataclass

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class Qualification(models.TextChoices):
    ASSOCIATE = "associate", gettext_lazy("Associate degree (大学专科)")
    BACHELOR = "bachelor", gettext_lazy("Bachelor's degree (大学本科 / 学士学位)")
    SECOND_BACHELOR = (
        "second_bachelor",
        gettext_lazy("Second bachelor's degree or postgraduate class (第二学士学位 / 研究生班)"),
    )
    MASTER = "master", gettext_lazy("Master's degree (硕士学位)")
    DOCTOR = "doctor", gettext_lazy("Doctorate (博士学位)")
    OTHER_INTERMEDIATE = (
        "other_intermediate",
        gettext_lazy("Intermediate economics, statistics or audit qualification (经济/统计/审计中级资格)"),
    )


# Work years in accounting that each highest qualification requires, counted to 31 December of the exam year.
REQUIRED_YEARS = {
    Qualification.ASSOCIATE: 5,
    Qualification.BACHELOR: 4,
    Qualification.SECOND_BACHELOR: 2,
    Qualification.MASTER: 1,
    Qualification.DOCTOR: 0,
    Qualification.OTHER_INTERMEDIATE: 0,
}


def form_rules():
    """What the application form's script needs to tell the work-years result as the candidate types."""
    return {
        "required_years": json.dumps({str(key): years for key, years in REQUIRED_YEARS.items()}),
        "certificate_qualification": str(Qualification.OTHER_INTERMEDIATE),
    }


@dataclass(frozen=True)
class Check:
    code: str
    ok: bool
    message: str

    def as_dict(self):
        return {**asdict(self), "message": str(self.message)}


def months_worked(start: datetime.date, exam_year: int) -> int:
    """Whole months from `start` to 31 December of the exam year, both days included.

    2021-01-01 → 2024-12-31 is 48 months; 2021-01-02 → 2024-12-31 is 47 months and 30 days, so 47.
    """
    end = datetime.date(exam_year + 1, 1, 1)  # the day after the last counted day
    if start >= end:
        return 0
    months = (end.year - start.year) * 12 + (end.month - start.month)
    return months - 1 if end.day < start.day else months


def describe_months(months: int) -> str:
    years, rest = divmod(max(months, 0), 12)
    return _("%(years)d years %(months)d months") % {"years": years, "months": rest}


def work_years_check(qualification: str, months: int | None, exam_year: int, *, source: str) -> Check:
    required = REQUIRED_YEARS[qualification]
    label = Qualification(qualification).label
    if months is None:
        return Check("work_years", False, _("No work start date or insured months given."))
    params = {
        "qualification": label,
        "required": required,
        "counted": describe_months(months),
        "end": f"{exam_year}-12-31",
        "source": source,
    }
    ok = months >= required * 12
    if qualification == Qualification.OTHER_INTERMEDIATE:
        # No work years are needed: what staff check is the certificate (certificate_check), not a shortfall.
        return Check("work_years", True, _("%(qualification)s: no work years needed.") % params)
    if ok:
        message = _("%(qualification)s needs %(required)d years; %(counted)s counted to %(end)s (%(source)s).")
    else:
        message = _("%(qualification)s needs %(required)d years; only %(counted)s counted to %(end)s (%(source)s).")
    return Check("work_years", ok, message % params)


def certificate_check(qualification: str) -> Check | None:
    """Holders of an economics, statistics or audit intermediate qualification: their own check, the certificate
    to verify (not the work years, which they do not need). None for every other qualification."""
    if qualification != Qualification.OTHER_INTERMEDIATE:
        return None
    return Check(
        "certificate",
        False,
        _("Certificate to verify: the intermediate economics, statistics or audit qualification certificate."),
    )


def continuing_education_check(professional: int, public: int, session) -> Check:
    total = professional + public
    params = {
        "total": total,
        "professional": professional,
        "public": public,
        "need_total": session.ce_total_credits,
        "need_professional": session.ce_professional_credits,
        "need_public": session.ce_public_credits,
        "year": session.ce_year,
    }
    ok = (
        total >= session.ce_total_credits
        and professional >= session.ce_professional_credits
        and public >= session.ce_public_credits
    )
    message = _(
        "%(year)s continuing education: %(total)d credits (professional %(professional)d, public %(public)d); "
        "needed %(need_total)d (professional %(need_professional)d, public %(need_public)d)."
    )
    return Check("continuing_education", ok, message % params)


def young_candidate_check(birth_date: datetime.date, cutoff: datetime.date) -> Check:
    """FAQ 12: born strictly after the cutoff → shown in red for closer review (never a rejection)."""
    params = {"birth": birth_date.isoformat(), "cutoff": cutoff.isoformat()}
    if birth_date > cutoff:
        return Check("young", False, _("Born %(birth)s, after %(cutoff)s: check the insured years closely.") % params)
    return Check("young", True, _("Born %(birth)s, not after %(cutoff)s.") % params)
