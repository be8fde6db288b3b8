from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .scoping import OfficeScopedManager, OfficeScopedQuerySet

REGIONAL_OFFICE_CODE = "650000"


class Office(models.Model):
    """An exam office, keyed by its GB/T 2260 division code (650000 is the regional office)."""

    code = models.CharField(_("division code"), max_length=6, primary_key=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=150)
    address_zh = models.CharField(_("address (Chinese)"), max_length=200, blank=True)
    address_en = models.CharField(_("address (English)"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.EmailField(_("email"), blank=True)
    hours_zh = models.CharField(_("office hours (Chinese)"), max_length=200, blank=True)
    hours_en = models.CharField(_("office hours (English)"), max_length=200, blank=True)

    objects = OfficeScopedManager()
    office_lookup = "pk"

    class Meta:
        ordering = ["code"]
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        permissions = [
            ("import_office", _("Can import offices from a spreadsheet")),
            ("export_office", _("Can export offices to a spreadsheet")),
        ]

    def __str__(self):
        return f"{self.code} {self.name_zh}"

    @property
    def is_regional(self):
        return self.code == REGIONAL_OFFICE_CODE

    def _localized(self, field):
        zh, en = getattr(self, f"{field}_zh"), getattr(self, f"{field}_en")
        if (get_language() or "").startswith("en"):
            return en or zh
        return zh or en

    @property
    def name(self):
        return self._localized("name")

    @property
    def address(self):
        return self._localized("address")

    @property
    def hours(self):
        return self._localized("hours")

    def missing_contact_data(self):
        """What candidates need and the office's row lacks: phone, street address, office hours (labels)."""
        wanted = (("phone", _("phone")), ("address_zh", _("street address")), ("hours_zh", _("office hours")))
        return [label for field, label in wanted if not getattr(self, field).strip()]


class Role(models.TextChoices):
    REVIEWER = "reviewer", _("Reviewer")
    MANAGER = "manager", _("Manager")
    REGIONAL = "regional", _("Regional office staff")


class StaffManager(UserManager.from_queryset(OfficeScopedQuerySet)):
    def create_staff(self, username, *, office, role, password=None, **extra):
        """Create a staff account of `office` with `role`; the role's group grants the permissions."""
        user = self.model(username=username, office=office, role=role, is_staff=True, **extra)
        user.full_clean(exclude=["password"])
        user.set_password(password)
        user.save()
        return user


class User(AbstractUser):
    """A staff account: it belongs to exactly one office and has one role there."""

    office = models.ForeignKey(
        Office, verbose_name=_("office"), on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)

    objects = StaffManager()
    office_lookup = "office"

    class Meta(AbstractUser.Meta):
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")

    def clean(self):
        super().clean()
        if self.is_staff and not self.is_superuser and (self.office_id is None or not self.role):
            raise ValidationError(_("A staff member needs an office and a role."))
        if self.role == Role.REGIONAL and self.office_id and self.office_id != REGIONAL_OFFICE_CODE:
            raise ValidationError({"role": _("Only staff of the regional office (650000) can have the regional role.")})
        if self.role in (Role.REVIEWER, Role.MANAGER) and self.office_id == REGIONAL_OFFICE_CODE:
            raise ValidationError({"role": _("Staff of the regional office have the regional role.")})

    @property
    def sees_all_offices(self):
        return self.is_active and (self.is_superuser or self.role == Role.REGIONAL)


class CalendarDay(models.Model):
    """A day whose working status staff entered by hand: it overrides chinese-calendar."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday (no work)")
        WORKDAY = "workday", _("Make-up working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"


class CalendarYear(models.Model):
    """A year whose working days regional staff entered under *Calendar days* and then marked complete.

    Until a year is known (from chinese-calendar or marked complete here), working days fall back to
    Monday to Friday without the statutory holidays that can be computed (`offices.workdays`), and the
    admin index warns. Entering a single day of a year does not make the year known.
    """

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    complete = models.BooleanField(
        _("all holidays and make-up working days entered"),
        default=False,
        help_text=_("Tick once every holiday and make-up working day of the year is entered under Calendar days."),
    )
    marked_complete_by = models.CharField(_("marked complete by"), max_length=150, blank=True, editable=False)
    marked_complete_at = models.DateTimeField(_("marked complete at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")

    def __str__(self):
        return str(self.year)
