import copy
import datetime
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import id_numbers
from core.bulk_update import add_counts
from core.models import StatusHistory
from core.references import new_reference
from core.transitions import Act, Refused
from core.uploads import upload_path
from offices import workdays
from offices.scoping import OfficeScopedQuerySet

from . import eligibility
from .eligibility import Qualification


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
def _weeks_to_next_year(day: datetime.date) -> datetime.timedelta:
    """Whole weeks from `day` to the same weekday nearest to its date a year later."""
    try:
        same_date = day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        same_date = day.replace(year=day.year + 1, day=28)
    return datetime.timedelta(weeks=round((same_date - day).days / 7))


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
    admit_card_announced = models.BooleanField(
        _("admit card printing dates announced"),
        default=False,
        help_text=_("Until ticked, candidates read the printing dates as expected, to be announced (FAQ 16)."),
    )

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
    fee_per_subject = models.DecimalField(
        _("fee per subject"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "As the registration notice says; the payment import flags amounts that differ. Empty: not checked."
        ),
    )
    payments_final_at = models.DateTimeField(
        _("final payment import done at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Lapse emails wait for this, so that nobody who paid is told otherwise."),
    )

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

    @property
    def ce_year(self):
        """The year whose continuing education the session requires (the year before the exam)."""
        return self.year - 1

    def derived_value(self, name):
        """The value of derived date `name` (DERIVED_FIELDS) from this session's dates (DOMAIN.md): the one rule of
        each, used to fill an empty one and to move one that followed a changed date (follow_sources)."""
        close_day = _local_date(self.registration_closes) if self.registration_closes else None
        if name == "exemption_deadline":
            return self.registration_closes
        if name == "duplicate_list_due":
            return close_day and close_day + datetime.timedelta(days=7)
        if name == "realname_auth_last_day":
            return close_day and workdays.workday_before(close_day, 3)
        if name == "young_candidate_cutoff":
            return close_day and years_before(close_day, 26)
        if name == "info_change_deadline":
            return self.exam_first_day and self.exam_first_day - datetime.timedelta(days=20)
        raise KeyError(name)

    def fill_defaults(self):
        """Derive the dates that were left empty from the ones given (DOMAIN.md)."""
        for name in self.DERIVED_FIELDS:
            if not getattr(self, name):
                setattr(self, name, self.derived_value(name))

    def follow_sources(self, before):
        """A derived date that nobody set by hand (it held the value derived from `before`'s dates and is not
        changed now) follows the changed dates: registration extended by a day moves the exemption deadline, the
        duplicate list and the real-name last day with it; a date set by hand stays."""
        for name in self.DERIVED_FIELDS:
            stored = getattr(before, name)
            if stored and getattr(self, name) == stored and stored == before.derived_value(name):
                setattr(self, name, self.derived_value(name))

    def clean(self):
        super().clean()
        if self.pk:
            before = type(self).objects.filter(pk=self.pk).first()
            if before is not None:
                self.follow_sources(before)
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

    # Fields derived by fill_defaults(): next_year() leaves them empty so that the rules derive them.
    DERIVED_FIELDS = (
        "info_change_deadline",
        "exemption_deadline",
        "duplicate_list_due",
        "realname_auth_last_day",
        "young_candidate_cutoff",
    )
    COPIED_FIELDS = (
        "ce_total_credits",
        "ce_professional_credits",
        "ce_public_credits",
        "review_sla_workdays",
    )

    def next_year(self):
        """An unsaved copy for the next exam year, every date moved by the same rules (never current).

        Registration opens and closes, the exam and the admit-card days move by whole weeks (the same
        weekday, the nearest date a year on); registration closes at noon, payment closes the same day
        at 18:00; the exemption deadline, info-change deadline, duplicate list, real-name last day and
        young-candidate cutoff are derived again by fill_defaults() (DOMAIN.md).
        """
        shift = _weeks_to_next_year(_local_date(self.registration_closes))
        opens = timezone.localtime(self.registration_opens, workdays.BEIJING) + shift
        close_day = _local_date(self.registration_closes) + shift
        session = type(self)(
            year=self.year + 1,
            registration_opens=opens,
            registration_closes=datetime.datetime.combine(close_day, datetime.time(12), tzinfo=workdays.BEIJING),
            payment_closes=datetime.datetime.combine(close_day, datetime.time(18), tzinfo=workdays.BEIJING),
            exam_first_day=self.exam_first_day + shift,
            exam_last_day=self.exam_last_day + shift,
            admit_card_from=self.admit_card_from + shift,
            admit_card_to=self.admit_card_to + shift,
            **{name: getattr(self, name) for name in self.COPIED_FIELDS},
        )
        session.fill_defaults()
        return session

    def make_current(self):
        """Make this the one current session (the one the public forms and the home page use)."""
        with transaction.atomic():
            type(self).objects.select_for_update().filter(is_current=True).exclude(pk=self.pk).update(is_current=False)
            type(self).objects.filter(pk=self.pk).update(is_current=True)
        self.is_current = True

    # What candidates see on the home page -------------------------------------------------------

    def end_of(self, day):
        return workdays.end_of_day(day)

    def admit_card_label(self):
        """The admit-card dates are expected ones until staff mark them announced (FAQ 16: 3 to 5 days before)."""
        if self.admit_card_announced:
            return _("Admit card printing")
        return _("Admit card printing (expected; the exact dates will be announced)")

    def key_dates(self):
        """[(label, start, end)] of the session, in the order a candidate meets them."""
        return [
            (_("Online registration"), self.registration_opens, self.registration_closes),
            (_("Online payment"), self.registration_opens, self.payment_closes),
            (_("Online real-name authentication: last day to apply"), None, self.realname_auth_last_day),
            (_("Subject exemption and foreign candidates: in person until"), None, self.exemption_deadline),
            (_("Personal-information change after payment: in person until"), None, self.info_change_deadline),
            (self.admit_card_label(), self.admit_card_from, self.admit_card_to),
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
                self.admit_card_label(),
                datetime.datetime.combine(self.admit_card_from, datetime.time(), tzinfo=workdays.BEIJING),
                self.end_of(self.admit_card_to),
            ),
        ]
        return [(label, end) for label, start, end in windows if start <= now < end]

    def registration_is_open(self, now=None):
        now = now or timezone.now()
        return self.registration_opens <= now < self.registration_closes

    def payment_is_open(self, now=None):
        """Whether a candidate can still pay (and so whether an approval can still be paid)."""
        now = now or timezone.now()
        return now < self.payment_closes


# Candidates and applications ----------------------------------------------------------------------


class CandidateQuerySet(models.QuerySet):
    def by_document(self, document_type, number):
        return self.filter(document_type=document_type, document_number=id_numbers.normalize(number)).first()


class Candidate(models.Model):
    """Identity only. Contact details belong to each application: a new form never rewrites an old one."""

    class Gender(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    document_type = models.CharField(_("document type"), max_length=20, choices=id_numbers.DocumentType.choices)
    document_number = models.CharField(_("document number"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    birth_date = models.DateField(_("birth date"))
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    nationality = models.CharField(_("nationality"), max_length=64, default="中国")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = CandidateQuerySet.as_manager()

    class Meta:
        verbose_name = _("candidate")
        verbose_name_plural = _("candidates")
        constraints = [
            models.UniqueConstraint(fields=["document_type", "document_number"], name="candidate_unique_document")
        ]
        indexes = [models.Index(fields=["document_number"], name="candidate_document_number")]
        permissions = [("view_full_document_number", _("Can see full document numbers"))]

    def __str__(self):
        return f"{self.name} {self.masked_document_number}"

    @property
    def masked_document_number(self):
        return id_numbers.mask(self.document_type, self.document_number)

    @property
    def is_foreign(self):
        return self.document_type in id_numbers.FOREIGN_DOCUMENTS


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted, waiting for review")
    RETURNED = "returned", _("Returned for correction")
    IN_PERSON_REVIEW = "in_person_review", _("Waiting for in-person review")
    APPROVED = "approved", _("Approved, waiting for payment")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    PAID = "paid", _("Paid")
    LAPSED = "lapsed", _("Lapsed (not paid in time)")
    CLOSED = "closed", _("Closed at registration close")


# Which status may follow which (DESIGN.md). Paid is terminal: nothing changes after payment (FAQ 14).
TRANSITIONS = {
    Status.SUBMITTED: {Status.RETURNED, Status.APPROVED, Status.REJECTED, Status.WITHDRAWN},
    Status.RETURNED: {Status.SUBMITTED, Status.WITHDRAWN, Status.CLOSED},
    Status.IN_PERSON_REVIEW: {Status.SUBMITTED, Status.REJECTED, Status.WITHDRAWN, Status.CLOSED},
    Status.APPROVED: {Status.PAID, Status.LAPSED},
    Status.LAPSED: {Status.PAID, Status.APPROVED},  # back to approved: payment close extended (reschedule)
    Status.REJECTED: set(),
    Status.WITHDRAWN: set(),
    Status.PAID: set(),
    Status.CLOSED: {Status.RETURNED, Status.IN_PERSON_REVIEW},  # reopened: registration extended (reschedule)
}
OPEN_STATUSES = (Status.SUBMITTED, Status.IN_PERSON_REVIEW)
# Applications that no longer count: not duplicates of another, and no payment belongs to them.
DEAD_STATUSES = (Status.WITHDRAWN, Status.REJECTED, Status.CLOSED)
EDITABLE_BY_CANDIDATE = (Status.SUBMITTED, Status.RETURNED, Status.IN_PERSON_REVIEW)


class RejectionReason(models.TextChoices):
    WORK_YEARS = "work_years", _("Not enough work years in accounting")
    CONTINUING_EDUCATION = "continuing_education", _("Continuing education not completed")
    QUALIFICATION = "qualification", _("Qualification not recognised")
    DOCUMENTS = "documents", _("Proof missing or not valid")
    DUPLICATE = "duplicate", _("Duplicate application")
    OTHER = "other", _("Other")


# A decision that the application's status or a precondition does not allow (shown to the user as is).
InvalidTransition = Refused


# An empty set of rows as a condition: filtering by it returns no rows without asking the database.
NO_ROWS = models.Q(pk__in=[])
# Approved-unpaid applications are "closing" when payment closes within this window (dashboard, issue 11).
PAYMENT_CLOSING_WINDOW = datetime.timedelta(hours=24)
# An open application is at risk when its review is due later than this before payment closes.
UNDECIDED_MARGIN = datetime.timedelta(days=3)


# The rows of each work list as one condition: the querysets below filter by them (the changelist's filters), and
# the dashboard (portal/dashboard.py) counts them all in one aggregate query; one rule, two uses.


def due_today_condition(now):
    start, end = workdays.day_bounds(now)
    return models.Q(status__in=OPEN_STATUSES, due_at__gte=start, due_at__lt=end)


def overdue_condition(now):
    return models.Q(status__in=OPEN_STATUSES, due_at__lt=now)


def payment_closing_condition(session, now):
    """Approved and unpaid while the session's payment closes within PAYMENT_CLOSING_WINDOW."""
    if session is None or not (now <= session.payment_closes <= now + PAYMENT_CLOSING_WINDOW):
        return NO_ROWS
    return models.Q(session=session, status=Status.APPROVED)


def undecided_before_close_condition(session, now):
    """Still waiting for a decision in the current session although their review deadline leaves the candidate
    less than UNDECIDED_MARGIN to pay before payment closes: without a decision they lose the session."""
    if session is None or not session.payment_is_open(now):
        return NO_ROWS
    return models.Q(status__in=OPEN_STATUSES, session=session) & (
        models.Q(due_at__isnull=True) | models.Q(due_at__gte=session.payment_closes - UNDECIDED_MARGIN)
    )


def undecided_after_close_condition(session, now):
    """Still waiting for a decision after the session's payment closed: the candidate can no longer pay
    (sweeps.tell_undecided_at_payment_close tells them); listed for the office and the region."""
    if session is None or session.payment_is_open(now):
        return NO_ROWS
    return models.Q(status__in=OPEN_STATUSES, session=session)


class ApplicationQuerySet(OfficeScopedQuerySet):
    def open_for_review(self):
        return self.filter(status__in=OPEN_STATUSES)

    def open_work(self):
        """What the office still acts on: reviews, and approved applications waiting for their payment."""
        return self.filter(status__in=(*OPEN_STATUSES, Status.RETURNED, Status.APPROVED))

    def due_today(self, now=None):
        return self.filter(due_today_condition(now or timezone.now()))

    def overdue(self, now=None):
        return self.filter(overdue_condition(now or timezone.now()))

    # The dashboard's attention lists (the ?attention= filter lists them).

    def payment_closing_soon(self, session, now=None):
        return self.filter(payment_closing_condition(session, now or timezone.now()))

    def undecided_before_close(self, session, now=None):
        return self.filter(undecided_before_close_condition(session, now or timezone.now()))

    def undecided_after_close(self, session, now=None):
        return self.filter(undecided_after_close_condition(session, now or timezone.now()))


class Application(models.Model):
    """A registration application of one candidate for one session, reviewed by the exam office."""

    reference = models.CharField(_("reference"), max_length=12, unique=True, editable=False)
    status_token = models.CharField(max_length=64, unique=True, editable=False)
    submission_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    session = models.ForeignKey(ExamSession, verbose_name=_("exam session"), on_delete=models.PROTECT)
    office = models.ForeignKey(
        "offices.Office", verbose_name=_("exam office"), on_delete=models.PROTECT, related_name="applications"
    )
    candidate = models.ForeignKey(
        Candidate, verbose_name=_("candidate"), on_delete=models.PROTECT, related_name="applications"
    )
    # Contact details given with this application.
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=30)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")

    qualification = models.CharField(_("highest qualification"), max_length=30, choices=Qualification.choices)
    school = models.CharField(_("school"), max_length=150)
    major = models.CharField(_("major"), max_length=100)
    graduation_date = models.DateField(_("graduation date"))
    work_start_date = models.DateField(_("started accounting work on"))
    claimed_insured_months = models.PositiveSmallIntegerField(_("social-insurance months claimed"))
    verified_insured_months = models.PositiveSmallIntegerField(
        _("social-insurance months verified"),
        null=True,
        blank=True,
        help_text=_("What the social-insurance PDF actually shows; the checks use it once recorded."),
    )
    ce_professional_credits = models.PositiveSmallIntegerField(_("continuing education: professional credits"))
    ce_public_credits = models.PositiveSmallIntegerField(_("continuing education: public credits"))
    subject_practice = models.BooleanField(_("Intermediate Accounting Practice (中级会计实务)"), default=True)
    subject_management = models.BooleanField(_("Financial Management (财务管理)"), default=True)
    subject_law = models.BooleanField(_("Economic Law (经济法)"), default=True)
    management_exempt = models.BooleanField(_("Financial Management exempt"), default=False)

    insurance_pdf = models.FileField(_("social-insurance record (PDF)"), upload_to=upload_path, max_length=200)
    insurance_pdf_name = models.CharField(max_length=150, blank=True)
    degree_certificate = models.FileField(_("degree certificate"), upload_to=upload_path, max_length=200, blank=True)
    degree_certificate_name = models.CharField(max_length=150, blank=True)
    passport_copy = models.FileField(_("passport copy"), upload_to=upload_path, max_length=200, blank=True)
    passport_copy_name = models.CharField(max_length=150, blank=True)

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    due_at = models.DateTimeField(_("review due"), null=True, blank=True)
    # The moment the review's time started (submission, resubmission, back from in-person review): due_at is
    # due_from(review_started_at), recomputed when the session or the calendar changes (portal/reschedule.py).
    review_started_at = models.DateTimeField(_("review started at"), null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    rejection_reason = models.CharField(
        _("rejection reason"), max_length=30, choices=RejectionReason.choices, blank=True
    )
    message_to_candidate = models.TextField(_("message to the candidate"), blank=True)
    escalated_at = models.DateTimeField(_("escalated to managers at"), null=True, blank=True)
    # The due time the office was last warned about, and when (sweeps.warn_applications_due_soon): a moved due
    # time is warned about again.
    due_warned_for = models.DateTimeField(_("warned before the due time"), null=True, blank=True, editable=False)
    due_warned_at = models.DateTimeField(_("due warning sent at"), null=True, blank=True, editable=False)

    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    payment_code = models.CharField(_("payment code"), max_length=40, blank=True)

    # Results of the automatic checks, stored so that staff can filter on them.
    checks = models.JSONField(_("checks"), default=list, blank=True)
    flag_young = models.BooleanField(_("young candidate"), default=False)
    flag_work_years = models.BooleanField(_("work years short"), default=False)
    flag_continuing_education = models.BooleanField(_("continuing education short"), default=False)
    flag_documents = models.BooleanField(_("upload missing or unreadable"), default=False)
    flag_identity = models.BooleanField(_("identity mismatch"), default=False)
    flag_duplicate = models.BooleanField(_("second application"), default=False)
    flag_certificate = models.BooleanField(_("certificate to verify"), default=False)

    objects = ApplicationQuerySet.as_manager()
    office_lookup = "office"

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        permissions = [
            ("review_application", _("Can review applications")),
            ("import_payment", _("Can import payment records")),
            ("export_application", _("Can export applications")),
        ]
        indexes = [
            # The reviewer's queue: open work of an office by due time (a partial index stays small). It carries the
            # status and session too, for counts of an office's open work by index-only scans (the dashboard counted
            # here before its counters, WorkHour; it still counts live only the open work due within the hour).
            models.Index(
                fields=["office", "due_at"],
                include=["status", "session"],
                name="application_open_due_cover",
                condition=models.Q(status__in=OPEN_STATUSES),
            ),
            models.Index(fields=["office", "status", "due_at"], name="application_office_status"),
            # The changelists' default order (due_at, pk), for one office and for all: the first page of 100 is
            # read from the index instead of sorting every row of the office or of the region (make bench).
            models.Index(fields=["office", "due_at", "id"], name="application_office_due"),
            models.Index(fields=["due_at", "id"], name="application_due"),
            # Open work of all offices by due time (regional staff's overdue and due-today filters).
            models.Index(
                fields=["due_at", "id"], name="application_open_due_all", condition=models.Q(status__in=OPEN_STATUSES)
            ),
            # A session's applications in one status, in pk order: the sweeps' locked chunks (the reminders over the
            # approved, unpaid ones; lapse and close) read their next chunk from here at any volume.
            models.Index(fields=["session", "status", "id"], name="application_session_status_id"),
            models.Index(fields=["candidate", "session"], name="application_candidate"),
        ]

    def __str__(self):
        return self.reference

    # Checks -----------------------------------------------------------------------------------------

    def insured_months(self):
        """The months a reviewer recorded from the PDF once recorded; the claimed ones before."""
        if self.verified_insured_months is not None:
            return self.verified_insured_months, _("verified social-insurance months")
        return self.claimed_insured_months, _("claimed social-insurance months")

    @property
    def subjects_paid_for(self):
        """The subjects the fee is paid for: those chosen, Financial Management not when it is exempt."""
        management = self.subject_management and not self.management_exempt
        return sum((self.subject_practice, management, self.subject_law))

    def expected_fee(self, session):
        """The fee of this application, or None when the session names no fee per subject."""
        if session.fee_per_subject is None:
            return None
        return session.fee_per_subject * self.subjects_paid_for

    def run_checks(self, other_references=None):
        """Compute every automatic check and the flags staff filter on (no saving). `other_references`: the
        references of the candidate's other live applications of the session, when the caller has them
        (Application.other_references_of); they are read here otherwise."""
        session, candidate = self.session, self.candidate
        months, source = self.insured_months()
        results = [
            eligibility.work_years_check(
                self.qualification,
                eligibility.months_worked(self.work_start_date, session.year),
                session.year,
                source=_("from the work start date"),
            ),
            eligibility.work_years_check(self.qualification, months, session.year, source=source),
            eligibility.continuing_education_check(self.ce_professional_credits, self.ce_public_credits, session),
            eligibility.young_candidate_check(candidate.birth_date, session.young_candidate_cutoff),
            self._documents_check(),
            self._identity_check(),
            self._duplicate_check(other_references),
        ]
        results[1] = eligibility.Check("insured_months", results[1].ok, results[1].message)
        certificate = eligibility.certificate_check(self.qualification)
        if certificate is not None:
            results.append(certificate)
        self.checks = [check.as_dict() for check in results]
        failed = {check.code for check in results if not check.ok}
        self.flag_young = "young" in failed
        self.flag_work_years = bool({"work_years", "insured_months"} & failed)
        self.flag_continuing_education = "continuing_education" in failed
        self.flag_documents = "documents" in failed
        self.flag_identity = "identity" in failed
        self.flag_duplicate = "duplicate" in failed
        self.flag_certificate = "certificate" in failed
        return results

    def _documents_check(self):
        missing = []
        if not self.insurance_pdf:
            missing.append(str(_("social-insurance record")))
        if self.candidate.is_foreign and not self.passport_copy:
            missing.append(str(_("passport copy")))
        if missing:
            return eligibility.Check("documents", False, _("Missing: %(files)s.") % {"files": ", ".join(missing)})
        return eligibility.Check("documents", True, _("Required uploads present and readable."))

    def _identity_check(self):
        try:
            parsed = id_numbers.parse_document(self.candidate.document_type, self.candidate.document_number)
        except ValidationError as exc:
            return eligibility.Check("identity", False, " ".join(exc.messages))
        if parsed.birth_date and parsed.birth_date != self.candidate.birth_date:
            return eligibility.Check(
                "identity",
                False,
                _("The birth date %(typed)s differs from the one in the document number (%(parsed)s).")
                % {"typed": self.candidate.birth_date, "parsed": parsed.birth_date},
            )
        return eligibility.Check("identity", True, _("Document number, birth date and gender agree."))

    def preview_checks(self, other_references=None):
        """The checks computed now, in the current language, on a copy: nothing is saved or changed."""
        return copy.copy(self).run_checks(other_references)

    @classmethod
    def other_references_of(cls, applications):
        """{pk: [references of the candidate's other live applications of the same session]} for many
        applications in one query (the duplicate check of each)."""
        pairs = {(application.candidate_id, application.session_id) for application in applications}
        others = {}
        rows = (
            cls.objects.filter(candidate_id__in={c for c, _s in pairs}, session_id__in={s for _c, s in pairs})
            .exclude(status__in=DEAD_STATUSES)
            .order_by("pk")
            .values_list("pk", "candidate_id", "session_id", "reference")
        )
        for pk, candidate_id, session_id, reference in rows:
            others.setdefault((candidate_id, session_id), []).append((pk, reference))
        return {
            application.pk: [
                reference
                for pk, reference in others.get((application.candidate_id, application.session_id), [])
                if pk != application.pk
            ]
            for application in applications
        }

    def _duplicate_check(self, others=None):
        if others is None:
            others = list(
                Application.objects.filter(candidate_id=self.candidate_id, session_id=self.session_id)
                .exclude(pk=self.pk)
                .exclude(status__in=DEAD_STATUSES)
                .values_list("reference", flat=True)
            )
        if others:
            return eligibility.Check(
                "duplicate", False, _("Another application in this session: %(refs)s.") % {"refs": ", ".join(others)}
            )
        return eligibility.Check("duplicate", True, _("No other application in this session."))

    @property
    def checks_green(self):
        return bool(self.checks) and all(check["ok"] for check in self.checks)

    @property
    def is_overdue(self):
        return self.status in OPEN_STATUSES and self.due_at is not None and self.due_at < timezone.now()

    @property
    def undecided_after_payment_close(self):
        """Still waiting for a decision though payment has closed: the candidate can no longer pay."""
        return self.status in OPEN_STATUSES and not self.session.payment_is_open()

    # Candidate side ---------------------------------------------------------------------------------

    @classmethod
    def submit(cls, *, session, office, identity, details, files, submission_key, now=None):
        """Create the application a candidate's form describes; returns (application, created).

        The form's one-time submission key makes a double click or a retried POST create one application.
        The registration window is checked here, at the moment of submission, to the second.
        """
        now = now or timezone.now()
        if not session.registration_is_open(now):
            raise InvalidTransition(_("Registration for %(session)s is closed.") % {"session": session})
        existing = cls.objects.filter(submission_key=submission_key).first()
        if existing:
            return existing, False
        try:
            with transaction.atomic():
                candidate, new_candidate = Candidate.objects.get_or_create(
                    document_type=identity["document_type"],
                    document_number=id_numbers.normalize(identity["document_number"]),
                    defaults={k: v for k, v in identity.items() if k not in ("document_type", "document_number")},
                )
                application = cls(
                    reference=new_reference("A"),
                    status_token=secrets.token_urlsafe(32),
                    submission_key=submission_key,
                    session=session,
                    office=office,
                    candidate=candidate,
                    submitted_at=now,
                    review_started_at=now,
                    status=Status.IN_PERSON_REVIEW if candidate.is_foreign else Status.SUBMITTED,
                    **details,
                )
                application.attach_files(files)
                application.due_at = application.due_from(now)
                # A candidate created just now has no other application to be a duplicate of.
                others = [] if new_candidate else None
                application.run_checks(other_references=others)
                application.save()
                ApplicationEvent.objects.create(
                    application=application, at=now, actor="candidate", to_status=application.status
                )
                if not new_candidate:
                    application.refresh_duplicates()
                application.email_candidate("applications/email/received", key="received")
                # Last: the counters other writers add to are locked for the shortest time, after the rows.
                record_counter_changes([(None, counter_values(application))])
        except IntegrityError:
            existing = cls.objects.filter(submission_key=submission_key).first()
            if existing is None:
                raise
            return existing, False
        return application, True

    def attach_files(self, files):
        for field, upload in files.items():
            if upload:
                setattr(self, field, upload)
                setattr(self, f"{field}_name", getattr(upload, "original_name", "") or "")

    def update_by_candidate(self, details, files, now=None):
        """The candidate edits before a decision, or corrects a returned application (which resubmits it)."""
        now = now or timezone.now()
        with transaction.atomic():
            locked = type(self).objects.select_for_update().select_related("session", "candidate").get(pk=self.pk)
            if locked.status not in EDITABLE_BY_CANDIDATE:
                raise InvalidTransition(locked.refusal(Status.SUBMITTED))
            if not locked.session.registration_is_open(now):
                raise InvalidTransition(_("Registration is closed: the application can no longer be changed online."))
            before = counter_values(locked)
            for field, value in details.items():
                setattr(locked, field, value)
            locked.attach_files(files)
            if locked.status == Status.RETURNED:
                locked.save()
                edited = counter_values(locked)  # the resubmission counts its own change from here
                event = locked.resubmit(now)
            else:
                locked.run_checks()
                locked.save()
                edited = counter_values(locked)
                event = ApplicationEvent.objects.create(
                    application=locked,
                    at=now,
                    actor="candidate",
                    from_status=locked.status,
                    to_status=locked.status,
                    note=_("Edited by the candidate"),
                )
            # The candidate may have chosen another office: its counters move with the application.
            record_counter_changes([(before, edited)])
        self.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})
        return event

    def refresh_duplicates(self):
        """A new application makes the candidate's other open ones duplicates too: re-run their checks."""
        others = Application.objects.filter(candidate_id=self.candidate_id, session_id=self.session_id).exclude(
            pk=self.pk
        )
        for other in others.filter(status__in=EDITABLE_BY_CANDIDATE + (Status.APPROVED,)).select_related(
            "session", "candidate"
        ):
            other.run_checks()
            other.save(update_fields=["checks", *FLAG_FIELDS])

    # State changes: each is a transition of applications/workflow.py, run by the engine (core/transitions.py),
    # which locks the row, checks the status table and the preconditions, writes history and queues the email.

    def _transition(self, name, **act):
        from .workflow import APPLICATIONS

        return APPLICATIONS.run_one(name, self, Act(**act))

    def refusal(self, to):
        """Why the application cannot move to `to` now, in words for the person who tried."""
        params = {"ref": self.reference, "status": self.get_status_display(), "to": Status(to).label}
        if self.status == Status.PAID:
            return _("%(ref)s is paid: nothing can change after payment (FAQ 14).") % params
        last = self.events.exclude(by=None).order_by("-at", "-pk").first()
        if last and last.to_status == self.status:
            params.update(by=last.by.get_username(), at=timezone.localtime(last.at).strftime("%Y-%m-%d %H:%M"))
            return _("%(ref)s is already “%(status)s” (%(by)s, %(at)s); it cannot become “%(to)s”.") % params
        return _("%(ref)s is “%(status)s”; it cannot become “%(to)s”.") % params

    def approve(self, by, note="", now=None, override=""):
        """`override`: the reviewer's reason for approving although the months are not verified or a check is
        not green (kept in the history); without it such an application is refused."""
        return self._transition("approve", by=by, note=note, now=now, override=override)

    def reject(self, by, reason, note="", now=None):
        return self._transition("reject", by=by, note=note, now=now, data={"reason": reason})

    def return_for_correction(self, by, note, now=None):
        return self._transition("return", by=by, note=note.strip(), now=now)

    def finish_in_person_review(self, by, note="", now=None):
        """The foreign candidate came with the originals: the application joins the normal review."""
        return self._transition("in-person-done", by=by, note=note, now=now)

    def withdraw(self, now=None):
        return self._transition("withdraw", actor="candidate", now=now)

    def resubmit(self, now=None):
        """The candidate corrected a returned application: it is reviewed again with a new due time."""
        return self._transition("resubmit", actor="candidate", now=now)

    def mark_paid(self, paid_at, payment_code, now=None):
        payment = Payment(paid_at=paid_at, payment_code=payment_code)
        return self._transition("pay", actor="system", now=now, data={"payments": {self.pk: payment}})

    def record_verified_months(self, by, months, now=None):
        """Record what the social-insurance PDF shows; the checks use it from now on (no status change)."""
        now = now or timezone.now()
        with transaction.atomic():
            locked = type(self).objects.select_for_update().select_related("session", "candidate").get(pk=self.pk)
            if locked.status not in EDITABLE_BY_CANDIDATE + (Status.APPROVED,):
                raise InvalidTransition(locked.refusal(locked.status))
            locked.verified_insured_months = months
            locked.run_checks()
            locked.save()
            ApplicationEvent.objects.create(
                application=locked,
                at=now,
                by=by,
                from_status=locked.status,
                to_status=locked.status,
                note=_("Verified social-insurance months: %(months)d") % {"months": months},
            )
        self.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})

    def due_from(self, moment):
        """SLA working days after `moment`, capped at payment close (or the candidate cannot pay)."""
        due = workdays.add_workdays(moment, self.session.review_sla_workdays)
        return min(due, self.session.payment_closes)

    # Emails -----------------------------------------------------------------------------------------

    def notify_status(self, event):
        """Tell the candidate about a status change, in their language, once per history entry."""
        self.email_candidate("applications/email/status_change", key=f"event:{event.pk}", event=event)

    def email_candidate(self, template_name, *, key, **context):
        from notifications.models import enqueue_email, render_email

        enqueue_email(
            key=f"application:{self.pk}:{key}",
            recipient=self.email,
            language=self.language,
            template="message",
            context=render_email(template_name, self.language, {"application": self, **context}),
            office=self.office,
        )

    @property
    def status_url(self):
        return f"{settings.PORTAL_BASE_URL}/{self.language}/applications/status/{self.status_token}/"


FLAG_FIELDS = (
    "flag_young",
    "flag_work_years",
    "flag_continuing_education",
    "flag_documents",
    "flag_identity",
    "flag_duplicate",
    "flag_certificate",
)


class ApplicationEvent(StatusHistory):
    """History of an application: who moved it from which status to which, when, and why."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("from"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Status.choices)

    def __str__(self):
        return f"{self.application_id}: {self.get_from_status_display()} → {self.get_to_status_display()}"


# Dashboard counters ---------------------------------------------------------------------------------------------
# The dashboard (portal/dashboard.py) reads these counters instead of counting a session's applications (1,250,000
# at national scale) on every page: the season's chart and SLA record, and today's work. What one application counts
# is one rule, tallies; every write adds the tallies of the rows after it and takes away those before it
# (record_counter_changes: Application.submit after the insert, the transition engine after each write,
# ApplicationWorkflow.written), and rebuild_counters sums them over the applications (the migration that made the
# tables, the bench's bulk-loaded data, a repair: `manage.py rebuild_counters`).

COUNTER_FIELDS = ("session_id", "office_id", "status", "submitted_at", "decided_at", "paid_at", "due_at")
# The statuses of today's work: open for review, and approved (unpaid while payment closes).
WORK_STATUSES = (*OPEN_STATUSES, Status.APPROVED)
# The due hour of a counted application without a due time (or whose due time no longer matters, approved): later
# than any moment, as "no due time" is in the dashboard's conditions (never overdue, never due today, not before a
# boundary).
NO_DUE_HOUR = datetime.datetime(9999, 1, 1, tzinfo=datetime.UTC)


def due_hour(moment):
    """The start of the hour of `moment` (hours are whole in Beijing time too: UTC+8)."""
    return moment.replace(minute=0, second=0, microsecond=0)


class Counter(models.Model):
    """A counter row of one session and office; the dashboard reads an office's with for_user."""

    session = models.ForeignKey(ExamSession, on_delete=models.CASCADE, related_name="+")
    office = models.ForeignKey("offices.Office", on_delete=models.CASCADE, related_name="+")

    objects = OfficeScopedQuerySet.as_manager()
    office_lookup = "office"

    class Meta:
        abstract = True

    def __str__(self):
        return " ".join(str(getattr(self, name)) for name in COUNTERS[type(self)][0])


class SeasonDay(Counter):
    """One office's submissions, decisions (of them, decided by the due time) and payments of one Beijing day of
    a session."""

    day = models.DateField()
    submitted = models.IntegerField(default=0, db_default=0)
    decided = models.IntegerField(default=0, db_default=0)
    decided_in_time = models.IntegerField(default=0, db_default=0)
    paid = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "office", "day"], name="season_day_unique")]


class DecisionTime(Counter):
    """How many of an office's decisions of a session took `tenths` tenths of an hour from submission (rounded):
    the median time to decision is read from here, to the tenth of an hour the dashboard shows."""

    tenths = models.IntegerField()
    count = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "office", "tenths"], name="decision_time_unique")]


class WorkHour(Counter):
    """How many of an office's applications of a session are in `status` (one of WORK_STATUSES) with their review
    due within the hour from `due_hour` (NO_DUE_HOUR: no due time): today's work is summed from here."""

    status = models.CharField(max_length=20, choices=Status.choices)
    due_hour = models.DateTimeField()
    count = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "office", "status", "due_hour"], name="work_hour_unique")
        ]


def decision_tenths(submitted_at, decided_at):
    """The time from submission to decision in tenths of an hour, rounded (never negative)."""
    return max(0, round((decided_at - submitted_at).total_seconds() / 360))


def tallies(row):
    """What one application (a dict of COUNTER_FIELDS) counts: [(model, key, counts)] — its submission day, its
    decision day (decided by its due time or not) and decision time, its payment day, and while it is work of
    today's (WORK_STATUSES) its status and due hour."""
    session, office, status = row["session_id"], row["office_id"], row["status"]
    submitted, decided, paid, due = row["submitted_at"], row["decided_at"], row["paid_at"], row["due_at"]
    counted = [(SeasonDay, (session, office, _local_date(submitted)), {"submitted": 1})]
    if decided is not None:
        in_time = int(due is not None and decided <= due)
        counted.append((SeasonDay, (session, office, _local_date(decided)), {"decided": 1, "decided_in_time": in_time}))
        counted.append((DecisionTime, (session, office, decision_tenths(submitted, decided)), {"count": 1}))
    if paid is not None:
        counted.append((SeasonDay, (session, office, _local_date(paid)), {"paid": 1}))
    if status in WORK_STATUSES:
        hour = due_hour(due) if due is not None and status in OPEN_STATUSES else NO_DUE_HOUR
        counted.append((WorkHour, (session, office, status, hour), {"count": 1}))
    return counted


# The counters' keys and counts, by model.
COUNTERS = {
    SeasonDay: (("session_id", "office_id", "day"), ("submitted", "decided", "decided_in_time", "paid")),
    DecisionTime: (("session_id", "office_id", "tenths"), ("count",)),
    WorkHour: (("session_id", "office_id", "status", "due_hour"), ("count",)),
}


def sum_tallies(changes):
    """{model: {key: {count: n}}}: the tallies of the rows after minus those of the rows before, for `changes`
    [(before, after)] (None: no row); counts that do not move are left out."""
    total = {model: {} for model in COUNTERS}
    for before, after in changes:
        for sign, row in ((-1, before), (1, after)):
            for model, key, counts in tallies(row) if row is not None else ():
                into = total[model].setdefault(key, {})
                for name, n in counts.items():
                    into[name] = into.get(name, 0) + sign * n
    return {
        model: {key: moved for key, counts in rows.items() if (moved := {n: v for n, v in counts.items() if v})}
        for model, rows in total.items()
    }


def counter_values(application, before=None):
    """The COUNTER_FIELDS of an application, with the values of `before` ({field: value}) in place of its own."""
    before = before or {}
    return {name: before.get(name, getattr(application, name)) for name in COUNTER_FIELDS}


def record_counter_changes(changes):
    """Bring the counters up to date with rows written in this transaction: `changes` is [(before, after)], each a
    dict of COUNTER_FIELDS or None (a new row has no before)."""
    for model, rows in sum_tallies(changes).items():
        add_counts(model, COUNTERS[model][0], list(rows.items()))


def counted_figures(sessions):
    """The counters as the applications of `sessions` say they should be: {model: {key: {count: n}}}."""
    rows = Application.objects.filter(session__in=sessions).values(*COUNTER_FIELDS).order_by()
    return sum_tallies((None, row) for row in rows.iterator(chunk_size=10_000))


def stored_figures(sessions):
    """The counters as stored for `sessions`, in the shape of counted_figures (zero counts left out)."""
    stored = {}
    for model, (keys, counts) in COUNTERS.items():
        rows = model.objects.filter(session__in=sessions).values_list(*keys, *counts)
        stored[model] = {
            row[: len(keys)]: moved
            for row in rows
            if (moved := {name: n for name, n in zip(counts, row[len(keys) :], strict=True) if n})
        }
    return stored


def rebuild_counters(sessions=None):
    """Count the counters of `sessions` (all by default) again from their applications. The counter tables are
    locked against writes meanwhile (PostgreSQL): a change committed before is counted here, one committed after
    adds its own tallies to the rebuilt counters. Returns the number of counter rows."""
    from django.db import connection

    sessions = ExamSession.objects.all() if sessions is None else sessions
    written = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in COUNTERS)
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
        for model in COUNTERS:
            model.objects.filter(session__in=sessions).delete()
        for model, rows in counted_figures(sessions).items():
            keys = COUNTERS[model][0]
            made = [model(**dict(zip(keys, key, strict=True)), **counts) for key, counts in rows.items()]
            written += len(model.objects.bulk_create(made, batch_size=5000))
    return written


class PaymentQuerySet(OfficeScopedQuerySet):
    def unmatched(self):
        return self.filter(application__isnull=True)


class Payment(models.Model):
    """A payment record of the national platform's list, imported by regional staff."""

    session = models.ForeignKey(ExamSession, verbose_name=_("exam session"), on_delete=models.PROTECT)
    payment_code = models.CharField(_("payment code"), max_length=40, unique=True)
    document_number = models.CharField(_("document number"), max_length=32, db_index=True)
    name = models.CharField(_("name"), max_length=100)
    amount = models.DecimalField(_("amount"), max_digits=9, decimal_places=2)
    paid_at = models.DateTimeField(_("paid at"))
    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)

    objects = PaymentQuerySet.as_manager()
    office_lookup = "application__office"

    class Meta:
        ordering = ["-paid_at"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self):
        return self.payment_code

    def apply(self, now=None):
        """Match the payment to the candidate's application of the session and apply it (payments.py); safe
        to run again for the same row. Returns the matched application, or None."""
        from .payments import apply_payments

        apply_payments(self.session, [self], now=now)
        return self.application
