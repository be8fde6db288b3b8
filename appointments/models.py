"""Visits at each office's counter: capacity per office, closed days, slots and the candidates' bookings.

A slot is a row (office, start) with its capacity and the number of places booked. A place is taken by one
conditional UPDATE (`booked < capacity`) that PostgreSQL re-checks on the locked row after a competing writer
commits, and a CheckConstraint (`booked <= capacity`) stands behind it: the database never holds an overbooked
slot, whatever the number of concurrent bookings. Slot rows are created on demand from the office's hours
(`Slot.ensure`), so a change of hours or counters needs no batch job: `reconcile_office` aligns the future slots
with the settings and hands back the bookings that no longer fit, which are never dropped silently (staff list
them as "needs a new slot", their candidates are emailed an offer to book again).

Booking, moving, cancelling, the check-in at the counter and the sweeps (reminder the day before, no-shows) are
the functions below; each locks the request's row first (one visit per request at a time), writes a line in the
request's history and queues its email in the same transaction.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.transitions import Refused
from offices import workdays
from offices.scoping import OfficeScopedQuerySet
from tickets.models import Kind, Ticket

BEIJING = workdays.BEIJING
# What books a visit unless the office's manager says otherwise: every in-person request, and a foreign candidate's
# registration in in-person review (appointments/visitors.py names it).
FOREIGN_REGISTRATION = "foreign_registration"
DEFAULT_KINDS = [kind.value for kind in Kind] + [FOREIGN_REGISTRATION]


class BookingRefused(Refused):
    """A booking, move or cancellation that the rules or the slot's capacity do not allow. `alternatives` holds
    free slots to offer instead when the slot was full."""

    def __init__(self, message, code="", alternatives=()):
        super().__init__(message, code=code)
        self.alternatives = list(alternatives)


class CounterSettings(models.Model):
    """How an office receives visits; an office without a row uses the defaults (those of the demo)."""

    office = models.OneToOneField(
        "offices.Office", verbose_name=_("office"), on_delete=models.CASCADE, related_name="counter_settings"
    )
    morning_start = models.TimeField(_("morning opens"), default=datetime.time(10, 0))
    morning_end = models.TimeField(_("morning closes"), default=datetime.time(14, 0))
    afternoon_start = models.TimeField(_("afternoon opens"), default=datetime.time(16, 0))
    afternoon_end = models.TimeField(_("afternoon closes"), default=datetime.time(19, 30))
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=30)
    counters = models.PositiveSmallIntegerField(_("counters per slot"), default=2)
    change_cutoff_hours = models.PositiveSmallIntegerField(
        _("move or cancel until (hours before the visit)"), default=2
    )
    days_ahead = models.PositiveSmallIntegerField(_("bookable days ahead"), default=14)
    kinds = models.JSONField(_("request kinds that book a visit"), default=list, blank=True)
    visitor_note = models.CharField(
        _("note for visitors"), max_length=300, blank=True, help_text=_("Shown on the booking page, e.g. which door.")
    )

    objects = OfficeScopedQuerySet.as_manager()
    office_lookup = "office"

    class Meta:
        verbose_name = _("counter settings")
        verbose_name_plural = _("counter settings")
        constraints = [
            models.CheckConstraint(condition=Q(slot_minutes__gte=5), name="counter_slot_at_least_5_minutes"),
        ]

    def __str__(self):
        return str(self.office)

    @classmethod
    def for_office(cls, office):
        found = cls.objects.filter(office=office).first()
        return found if found is not None else cls(office=office, kinds=list(DEFAULT_KINDS))

    def clean(self):
        if not (self.morning_start <= self.morning_end <= self.afternoon_start <= self.afternoon_end):
            raise ValidationError(_("The opening hours must follow each other: morning, then afternoon."))

    def needs_visit(self, kind):
        return kind in self.kinds

    def starts_on(self, day):
        """The slot starts of a day (Beijing time) by these hours; slots end by the end of their half-day."""
        length = datetime.timedelta(minutes=self.slot_minutes)
        starts = []
        for opens, closes in ((self.morning_start, self.morning_end), (self.afternoon_start, self.afternoon_end)):
            start = datetime.datetime.combine(day, opens, tzinfo=BEIJING)
            end = datetime.datetime.combine(day, closes, tzinfo=BEIJING)
            while start + length <= end:
                starts.append(start)
                start += length
        return starts

    def is_start(self, start):
        """Whether `start` is one of these hours' slot starts."""
        return start in self.starts_on(timezone.localtime(start, BEIJING).date())

    @property
    def change_cutoff(self):
        return datetime.timedelta(hours=self.change_cutoff_hours)

    def can_change(self, booking, now):
        """A booked visit may be moved or cancelled until change_cutoff before it."""
        return now < booking.slot.starts_at - self.change_cutoff


class ClosedDay(models.Model):
    """A day one office does not receive visitors, beyond the working-day calendar (a move, training, ...)."""

    office = models.ForeignKey("offices.Office", verbose_name=_("office"), on_delete=models.CASCADE)
    date = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = OfficeScopedQuerySet.as_manager()
    office_lookup = "office"

    class Meta:
        ordering = ["date"]
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        constraints = [models.UniqueConstraint(fields=["office", "date"], name="closed_day_once_per_office")]

    def __str__(self):
        return f"{self.office_id} {self.date}"


class Slot(models.Model):
    office = models.ForeignKey("offices.Office", verbose_name=_("office"), on_delete=models.CASCADE)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveSmallIntegerField(_("capacity"))
    booked = models.PositiveSmallIntegerField(_("booked"), default=0)

    objects = OfficeScopedQuerySet.as_manager()
    office_lookup = "office"

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("time slot")
        verbose_name_plural = _("time slots")
        constraints = [
            models.UniqueConstraint(fields=["office", "starts_at"], name="slot_once_per_office_and_start"),
            # The guarantee: never more bookings than places, whatever the application code does.
            models.CheckConstraint(condition=Q(booked__lte=F("capacity")), name="slot_never_overbooked"),
        ]

    def __str__(self):
        return f"{self.office_id} {timezone.localtime(self.starts_at, BEIJING):%Y-%m-%d %H:%M}"

    @property
    def free(self):
        return self.capacity - self.booked

    @classmethod
    def ensure(cls, office, counter_settings, starts):
        """The slot rows of `office` for these starts, created (with the office's counters) where missing."""
        length = datetime.timedelta(minutes=counter_settings.slot_minutes)
        existing = list(cls.objects.filter(office=office, starts_at__in=starts).order_by("starts_at"))
        have = {slot.starts_at for slot in existing}
        missing = [start for start in starts if start not in have]
        if not missing:
            # The common case once a day was shown: one read, no write (no row locks taken on a busy morning).
            return existing
        cls.objects.bulk_create(
            [
                cls(office=office, starts_at=start, ends_at=start + length, capacity=counter_settings.counters)
                for start in missing
            ],
            ignore_conflicts=True,
        )
        return list(cls.objects.filter(office=office, starts_at__in=starts).order_by("starts_at"))


class Status(models.TextChoices):
    BOOKED = "booked", _("Booked")
    MOVED = "moved", _("Moved to another time")
    CANCELLED = "cancelled", _("Cancelled")
    DISPLACED = "displaced", _("Needs a new time (the office changed its hours)")
    CHECKED_IN = "checked_in", _("Checked in")
    NO_SHOW = "no_show", _("Did not come")


class BookingQuerySet(OfficeScopedQuerySet):
    def on_day(self, day):
        start = datetime.datetime.combine(day, datetime.time(), tzinfo=BEIJING)
        return self.filter(slot__starts_at__gte=start, slot__starts_at__lt=start + datetime.timedelta(days=1))

    def live(self):
        """The visits still to happen or happening: booked or checked in."""
        return self.filter(status__in=(Status.BOOKED, Status.CHECKED_IN)).select_related("slot")


class Booking(models.Model):
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("request"), on_delete=models.CASCADE, related_name="bookings", null=True, blank=True
    )
    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="bookings",
        null=True,
        blank=True,
    )
    slot = models.ForeignKey(Slot, verbose_name=_("time slot"), on_delete=models.PROTECT, related_name="bookings")
    office = models.ForeignKey("offices.Office", verbose_name=_("office"), on_delete=models.PROTECT)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.BOOKED)
    booked_at = models.DateTimeField(_("booked at"), default=timezone.now)
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("checked in by"), on_delete=models.PROTECT, null=True, blank=True
    )
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)

    objects = BookingQuerySet.as_manager()
    office_lookup = "office"

    class Meta:
        ordering = ["slot__starts_at", "pk"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            # One upcoming visit per request: a second tab booking at the same moment fails here.
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(status="booked"), name="one_booked_visit_per_request"
            ),
            models.UniqueConstraint(
                fields=["application"], condition=Q(status="booked"), name="one_booked_visit_per_application"
            ),
            # A visit is for a request or for an application, never both or neither.
            models.CheckConstraint(
                condition=Q(ticket__isnull=False, application__isnull=True)
                | Q(ticket__isnull=True, application__isnull=False),
                name="visit_for_a_request_or_an_application",
            ),
        ]
        indexes = [models.Index(fields=["office", "status"], name="booking_office_status")]
        permissions = [("check_in_booking", _("Can check visitors in at the counter"))]

    def __str__(self):
        return f"{self.visitor.reference} {self.slot}"

    @property
    def visitor(self):
        from .visitors import Visitor

        return Visitor(self.ticket if self.ticket_id else self.application)
