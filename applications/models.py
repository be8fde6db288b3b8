import datetime

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from offices import workdays


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` earlier; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _local_date(value):
    return timezone.localtime(value, workdays.BEIJING).date() if isinstance(value, datetime.datetime) else value


# (earlier field, later field, may they be equal?) — the orderings of DOMAIN.md. Where one side is a
# date and the other a moment, they are compared as Beijing dates.
DATE_ORDERINGS = [
    ("registration_opens", "realname_auth_last_day", False),
    ("realname_auth_last_day", "registration_closes", False),
    ("registration_closes", "payment_closes", True),
    ("payment_closes", "info_change_deadline", False),
    ("info_change_deadline", "admit_card_from", False),
    ("admit_card_from", "admit_card_to", True),
    ("admit_card_to", "exam_first_day", False),
    ("exam_first_day", "exam_last_day", True),
    ("exemption_deadline", "registration_closes", True),
]


class ExamSessionQuerySet(models.QuerySet):
    def current(self):
        return self.filter(is_current=True).first()


class ExamSession(models.Model):
    """One exam year: every date of it is data that regional staff edit, never a constant in code."""

    year = models.PositiveSmallIntegerField(_("exam year"), unique=True)
    is_current = models.BooleanField(_("current session"), default=False, editable=False)

    registration_opens = models.DateTimeField(_("registration opens"))
    registration_closes = models.DateTimeField(_("registration closes"))
    payment_closes = models.DateTimeField(_("payment closes"))
    exam_first_day = models.DateField(_("first exam day"))
    exam_last_day = models.DateField(_("last exam day"))
    admit_card_from = models.DateField(_("admit card printing from"))
    admit_card_to = models.DateField(_("admit card printing to"))

    info_change_deadline = models.DateField(
        _("personal-info change deadline"),
        null=True,
        blank=True,
        help_text=_("Last day for in-person changes after payment. Empty: 20 days before the exam."),
    )
    exemption_deadline = models.DateTimeField(
        _("subject exemption deadline"),
        null=True,
        blank=True,
        help_text=_("In-person exemption and foreign-candidate review. Empty: when registration closes."),
    )
    duplicate_list_due = models.DateField(
        _("duplicate-payment list due"),
        null=True,
        blank=True,
        help_text=_("Empty: 7 days after registration closes."),
    )
    realname_auth_last_day = models.DateField(
        _("last day for online real-name authentication"),
        null=True,
        blank=True,
        help_text=_("Empty: 3 working days before registration closes."),
    )
    young_candidate_cutoff = models.DateField(
        _("young-candidate cutoff"),
        null=True,
        blank=True,
        help_text=_("Candidates born after this day are flagged. Empty: registration close date minus 26 years."),
    )
    ce_total_credits = models.PositiveSmallIntegerField(_("continuing education: total credits"), default=90)
    ce_professional_credits = models.PositiveSmallIntegerField(
        _("continuing education: professional credits"), default=60
    )
    ce_public_credits = models.PositiveSmallIntegerField(_("continuing education: public credits"), default=30)
    review_sla_workdays = models.PositiveSmallIntegerField(_("review time (working days)"), default=2)

    objects = ExamSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-year"]
        verbose_name = _("exam session")
        verbose_name_plural = _("exam sessions")
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=models.Q(is_current=True), name="one_current_exam_session"
            )
        ]

    def __str__(self):
        return _("%(year)s intermediate accounting exam") % {"year": self.year}

    def fill_defaults(self):
        """Derive the dates that were left empty from the ones given (DOMAIN.md)."""
        if self.registration_closes and not self.exemption_deadline:
            self.exemption_deadline = self.registration_closes
        close_day = _local_date(self.registration_closes) if self.registration_closes else None
        if close_day and not self.duplicate_list_due:
            self.duplicate_list_due = close_day + datetime.timedelta(days=7)
        if close_day and not self.realname_auth_last_day:
            self.realname_auth_last_day = workdays.workday_before(close_day, 3)
        if close_day and not self.young_candidate_cutoff:
            self.young_candidate_cutoff = years_before(close_day, 26)
        if self.exam_first_day and not self.info_change_deadline:
            self.info_change_deadline = self.exam_first_day - datetime.timedelta(days=20)

    def clean(self):
        super().clean()
        self.fill_defaults()
        errors = {}
        for earlier, later, equal_ok in DATE_ORDERINGS:
            a, b = getattr(self, earlier), getattr(self, later)
            if a is None or b is None:
                continue
            if not (isinstance(a, datetime.datetime) and isinstance(b, datetime.datetime)):
                a, b = _local_date(a), _local_date(b)
            if a > b or (a == b and not equal_ok):
                field = self._meta.get_field
                message = (
                    _("“%(earlier)s” must be before “%(later)s”.")
                    if not equal_ok
                    else _("“%(earlier)s” must not be after “%(later)s”.")
                )
                params = {"earlier": field(earlier).verbose_name, "later": field(later).verbose_name}
                errors.setdefault(later, []).append(ValidationError(message, params=params))
        if errors:
            raise ValidationError(errors)

    def make_current(self):
        """Make this the one current session (the one the public forms and the home page use)."""
        with transaction.atomic():
            type(self).objects.select_for_update().filter(is_current=True).exclude(pk=self.pk).update(is_current=False)
            type(self).objects.filter(pk=self.pk).update(is_current=True)
        self.is_current = True

    # What candidates see on the home page -------------------------------------------------------

    def end_of(self, day):
        return workdays.end_of_day(day)

    def key_dates(self):
        """[(label, start, end)] of the session, in the order a candidate meets them."""
        return [
            (_("Online registration"), self.registration_opens, self.registration_closes),
            (_("Online payment"), self.registration_opens, self.payment_closes),
            (_("Online real-name authentication: last day to apply"), None, self.realname_auth_last_day),
            (_("Subject exemption and foreign candidates: in person until"), None, self.exemption_deadline),
            (_("Personal-information change after payment: in person until"), None, self.info_change_deadline),
            (_("Admit card printing"), self.admit_card_from, self.admit_card_to),
            (_("Exam"), self.exam_first_day, self.exam_last_day),
        ]

    def open_now(self, now=None):
        """[(what, until)] for what a candidate can do at `now`."""
        now = now or timezone.now()
        windows = [
            (_("Online registration"), self.registration_opens, self.registration_closes),
            (_("Online payment"), self.registration_opens, self.payment_closes),
            (
                _("Online real-name authentication (apply at least 3 working days before registration closes)"),
                self.registration_opens,
                self.end_of(self.realname_auth_last_day),
            ),
            (
                _("Subject exemption and foreign-candidate review, in person"),
                self.registration_opens,
                self.exemption_deadline,
            ),
            (
                _("Personal-information change after payment, in person"),
                self.registration_opens,
                self.end_of(self.info_change_deadline),
            ),
            (
                _("Admit card printing"),
                datetime.datetime.combine(self.admit_card_from, datetime.time(), tzinfo=workdays.BEIJING),
                self.end_of(self.admit_card_to),
            ),
        ]
        return [(label, end) for label, start, end in windows if start <= now < end]

    def registration_is_open(self, now=None):
        now = now or timezone.now()
        return self.registration_opens <= now < self.registration_closes
