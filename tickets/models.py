"""In-person requests: one Ticket (the staff inbox) plus one detail model per kind.

A candidate files the request online, gets a reference and a printable form, and finishes it at the
counter of the local office. Certification deletions and refunds need a regional step: local staff verify
and escalate, only regional staff complete them.
"""

import datetime
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Application, Candidate, ExamSession
from applications.models import Status as ApplicationStatus
from core import id_numbers
from core.models import StatusHistory
from core.privacy import mask_text
from core.references import new_reference
from core.transitions import Act, Refused
from core.uploads import upload_path
from offices import workdays
from offices.scoping import OfficeScopedQuerySet


class Kind(models.TextChoices):
    PASSWORD_RESET = "password_reset", _("Password reset")
    INFO_CHANGE = "info_change", _("Personal-information change")
    CERT_DELETION = "cert_deletion", _("Certification deletion")
    REFUND = "refund", _("Duplicate-payment refund")
    EXEMPTION = "exemption", _("Subject exemption")


# The kinds with a form for the candidate to fill in and sign (tickets/documents.py makes it).
DOCUMENT_KINDS = (Kind.EXEMPTION, Kind.CERT_DELETION)

REFERENCE_PREFIX = {
    Kind.PASSWORD_RESET: "P",
    Kind.INFO_CHANGE: "C",
    Kind.CERT_DELETION: "D",
    Kind.REFUND: "R",
    Kind.EXEMPTION: "E",
}
# Kinds that need the regional office: local staff verify and escalate, regional staff complete.
ESCALATING_KINDS = {Kind.CERT_DELETION, Kind.REFUND}
DEFAULT_SLA_WORKDAYS = {
    Kind.PASSWORD_RESET: 2,
    Kind.INFO_CHANGE: 5,
    Kind.CERT_DELETION: 5,
    Kind.REFUND: 10,
    Kind.EXEMPTION: 2,
}


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted: come to the office in person")
    VERIFIED = "verified", _("Identity verified in person")
    IN_PROGRESS = "in_progress", _("In progress")
    ESCALATED = "escalated", _("With the regional office")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired (not verified in person by the deadline)")


TRANSITIONS = {
    Status.SUBMITTED: {Status.VERIFIED, Status.REJECTED, Status.EXPIRED},
    Status.VERIFIED: {Status.IN_PROGRESS, Status.ESCALATED, Status.COMPLETED, Status.REJECTED},
    Status.IN_PROGRESS: {Status.ESCALATED, Status.COMPLETED, Status.REJECTED},
    Status.ESCALATED: {Status.COMPLETED, Status.REJECTED},
    Status.COMPLETED: set(),
    Status.REJECTED: set(),
    Status.EXPIRED: {Status.SUBMITTED},  # reopened by a reschedule only (tickets.workflow "reopen")
}
OPEN_STATUSES = (Status.SUBMITTED, Status.VERIFIED, Status.IN_PROGRESS, Status.ESCALATED)
# Statuses in which the office works on a request (after the identity was checked at the counter).
WORKING_STATUSES = (Status.VERIFIED, Status.IN_PROGRESS)


# A change the ticket's status, kind, deadline or the user's role does not allow (shown as is). `code` says why for
# callers that react differently: "deadline", "not_open", "duplicate", "status".
TicketClosed = Refused


class KindSetting(models.Model):
    """Per-kind settings that regional staff edit: the working days a ticket may take."""

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, unique=True)
    sla_workdays = models.PositiveSmallIntegerField(_("working days to finish"))

    class Meta:
        verbose_name = _("request kind setting")
        verbose_name_plural = _("request kind settings")

    def __str__(self):
        return self.get_kind_display()

    @classmethod
    def sla_for(cls, kind):
        row = cls.objects.filter(kind=kind).values_list("sla_workdays", flat=True).first()
        return row if row is not None else DEFAULT_SLA_WORKDAYS[kind]


# The rows of each work list as one condition: the querysets below filter by them (the changelist's filters), and
# the dashboard (portal/dashboard.py) counts them all in one aggregate query.


def due_today_condition(now):
    start, end = workdays.day_bounds(now)
    return models.Q(status__in=OPEN_STATUSES, due_at__gte=start, due_at__lt=end)


def overdue_condition(now):
    return models.Q(status__in=OPEN_STATUSES, due_at__lt=now)


def assigned_open_condition(user):
    return models.Q(status__in=OPEN_STATUSES, assigned_to=user)


def due_for(kind, submitted_at, sla_workdays=None):
    """The request's due time: the kind's working days after submission (KindSetting), by the working-day calendar;
    recomputed when the calendar changes (portal/reschedule.py)."""
    sla = KindSetting.sla_for(kind) if sla_workdays is None else sla_workdays
    return workdays.add_workdays(submitted_at, sla)


class TicketQuerySet(OfficeScopedQuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def open_work(self):
        return self.open()

    def overdue(self, now=None):
        return self.filter(overdue_condition(now or timezone.now()))

    def due_today(self, now=None):
        return self.filter(due_today_condition(now or timezone.now()))

    def assigned_open(self, user):
        return self.filter(assigned_open_condition(user))

    def escalation_queue(self):
        return self.filter(status=Status.ESCALATED).order_by("escalated_at", "pk")


class Ticket(models.Model):
    """What every in-person request has; the kind's own data lives in its detail model."""

    reference = models.CharField(_("reference"), max_length=12, unique=True, editable=False)
    status_token = models.CharField(max_length=64, unique=True, editable=False)
    submission_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    office = models.ForeignKey(
        "offices.Office", verbose_name=_("office"), on_delete=models.PROTECT, related_name="tickets"
    )
    candidate = models.ForeignKey(
        Candidate, verbose_name=_("candidate"), on_delete=models.PROTECT, related_name="tickets"
    )
    session = models.ForeignKey(
        ExamSession, verbose_name=_("exam session"), on_delete=models.PROTECT, null=True, blank=True
    )
    # One open ticket per candidate, kind and scope (the session, and the platform for password resets).
    scope_key = models.CharField(max_length=40, editable=False)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=30)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    deadline = models.DateTimeField(
        _("in-person deadline"), null=True, blank=True, help_text=_("Not verified in person by then: expires.")
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    identity_verified_how = models.CharField(_("identity verified with"), max_length=200, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    sla_escalated_at = models.DateTimeField(_("overdue escalation sent at"), null=True, blank=True)
    # The due time the office was last warned about, and when (sweeps.warn_tickets_due_soon).
    due_warned_for = models.DateTimeField(_("warned before the due time"), null=True, blank=True, editable=False)
    due_warned_at = models.DateTimeField(_("due warning sent at"), null=True, blank=True, editable=False)

    objects = TicketQuerySet.as_manager()
    office_lookup = "office"

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("request")
        verbose_name_plural = _("requests (inbox)")
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "kind", "scope_key"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="one_open_ticket_per_kind",
            )
        ]
        indexes = [
            # Open requests by office and due time, covering the dashboard's figures (status, assignee): its
            # COUNT(office) FILTER (…) per office is an index-only scan of the open requests (portal/dashboard.py).
            models.Index(
                fields=["office", "due_at"],
                include=["status", "assigned_to"],
                name="ticket_open_due_cover",
                condition=models.Q(status__in=OPEN_STATUSES),
            ),
            models.Index(fields=["office", "kind", "status"], name="ticket_office_kind_status"),
            # The inbox's default order (due_at, pk), for one office and for all (make bench).
            models.Index(fields=["office", "due_at", "id"], name="ticket_office_due"),
            models.Index(fields=["due_at", "id"], name="ticket_due"),
            models.Index(
                fields=["due_at", "id"], name="ticket_open_due_all", condition=models.Q(status__in=OPEN_STATUSES)
            ),
            models.Index(fields=["escalated_at"], name="ticket_escalated", condition=models.Q(status="escalated")),
        ]
        permissions = [
            ("process_ticket", _("Can process requests of their office")),
            ("regional_step", _("Can perform the regional step (certification deletion, refund)")),
            ("import_duplicatepayment", _("Can import the duplicate-payment list")),
            ("export_exemption", _("Can export the exemption summary")),
        ]

    def __str__(self):
        return self.reference

    @property
    def has_form_to_sign(self):
        """Whether the candidate downloads a form to fill in and sign for this request (DOCUMENT_KINDS)."""
        return self.kind in DOCUMENT_KINDS

    @property
    def detail(self):
        """The kind's detail row (password reset, info change, ...)."""
        return getattr(self, DETAIL_RELATED_NAME[self.kind])

    @property
    def is_screened_refund(self):
        """A refund the system-screened duplicate-payment list opened: the candidate filed nothing and need not come."""
        return self.kind == Kind.REFUND and self.refund.source == Refund.Source.SCREENED_LIST

    @property
    def awaits_screened_refund(self):
        """A screened duplicate payment's refund, registered and not yet handled: the candidate files nothing."""
        return self.status == Status.SUBMITTED and self.is_screened_refund

    @property
    def is_overdue(self):
        return self.status in OPEN_STATUSES and self.due_at is not None and self.due_at < timezone.now()

    @property
    def last_moment(self):
        """The deadline as people read it: an end-of-day deadline is stored as the next midnight, and is
        shown as 2024-08-18 23:59 rather than 2024-08-19 00:00."""
        if self.deadline is None:
            return None
        at_midnight = timezone.localtime(self.deadline, workdays.BEIJING).time() == datetime.time()
        return self.deadline - datetime.timedelta(minutes=1) if at_midnight else self.deadline

    @property
    def status_url(self):
        return f"{settings.PORTAL_BASE_URL}/{self.language}/requests/status/{self.status_token}/"

    # Opening ----------------------------------------------------------------------------------------

    @classmethod
    def open_request(
        cls, *, kind, office, identity, contact, detail_fields, submission_key, session=None, platform="", now=None
    ):
        """File a request; returns (ticket, created). A double submit (same key) returns the first ticket;
        a second open ticket of the same kind and scope is refused by the database constraint."""
        now = now or timezone.now()
        existing = cls.objects.filter(submission_key=submission_key).first()
        if existing:
            return existing, False
        deadline = deadline_for(kind, session, detail_fields)
        if deadline is not None and now >= deadline:
            raise TicketClosed(
                _("The deadline for this request was %(deadline)s (Beijing time).")
                % {"deadline": timezone.localtime(deadline, workdays.BEIJING).strftime("%Y-%m-%d %H:%M")},
                code="deadline",
            )
        if kind == Kind.EXEMPTION and now < session.registration_opens:
            # FAQ 19: exemptions are accepted within the registration window only.
            raise TicketClosed(
                _("Exemption requests open with registration on %(opens)s (Beijing time).")
                % {
                    "opens": timezone.localtime(session.registration_opens, workdays.BEIJING).strftime("%Y-%m-%d %H:%M")
                },
                code="not_open",
            )
        try:
            with transaction.atomic():
                candidate, _created = Candidate.objects.get_or_create(
                    document_type=identity["document_type"],
                    document_number=id_numbers.normalize(identity["document_number"]),
                    defaults={k: v for k, v in identity.items() if k not in ("document_type", "document_number")},
                )
                ticket = cls.objects.create(
                    reference=new_reference(REFERENCE_PREFIX[kind]),
                    status_token=secrets.token_urlsafe(32),
                    submission_key=submission_key,
                    kind=kind,
                    office=office,
                    candidate=candidate,
                    session=session,
                    scope_key=f"{session.pk if session else '-'}:{platform or '-'}",
                    submitted_at=now,
                    due_at=due_for(kind, now),
                    deadline=deadline,
                    **contact,
                )
                DETAIL_MODELS[kind].objects.create(ticket=ticket, **detail_fields)
                TicketEvent.objects.create(ticket=ticket, at=now, actor="candidate", to_status=ticket.status)
                ticket.email_candidate("tickets/email/received", key="received")
        except IntegrityError:
            existing = cls.objects.filter(submission_key=submission_key).first()
            if existing:
                return existing, False
            raise TicketClosed(
                _("You already have an open request of this kind. Follow it with its reference, or finish it first."),
                code="duplicate",
            ) from None
        return ticket, True

    # State changes ----------------------------------------------------------------------------------

    def _transition(self, name, **act):
        """A transition of tickets/workflow.py, run by the engine (core/transitions.py): it locks the row, checks the
        status table and the preconditions, writes history and queues the email."""
        from .workflow import TICKETS

        return TICKETS.run_one(name, self, Act(**act))

    def lock_for_step(self, statuses):
        """Lock the row for a step inside a status (inside a transaction); TicketClosed if not possible now."""
        locked = type(self).objects.select_for_update().get(pk=self.pk)
        _require_status(locked, statuses)
        return locked

    def note(self, by, text, now=None, actor="staff"):
        """A history line for a step inside a status (no status change)."""
        return TicketEvent.objects.create(
            ticket=self,
            at=now or timezone.now(),
            by=by,
            actor=actor,
            from_status=self.status,
            to_status=self.status,
            note=text,
        )

    def _require_regional(self, user):
        if not user.has_perm("tickets.regional_step"):
            raise PermissionDenied(_("Only the regional office can perform this step."))

    def verify(self, by, how, now=None):
        """Identity checked in person at the counter (before the kind's deadline)."""
        return self._transition("verify", by=by, now=now, data={"how": how})

    def start(self, by, note="", now=None):
        return self._transition("start", by=by, note=note, now=now)

    def escalate(self, by, note, now=None):
        return self._transition("escalate", by=by, note=note.strip(), now=now)

    def complete(self, by, note="", now=None):
        """Finish the request; the kind's own completion step must have been recorded first."""
        return self._transition("complete", by=by, note=note, now=now)

    def reject(self, by, note, now=None):
        return self._transition("reject", by=by, note=note.strip(), now=now)

    def expire(self, now):
        return self._transition("expire", actor="system", now=now)

    def assign(self, user, by, now=None):
        with transaction.atomic():
            type(self).objects.select_for_update().filter(pk=self.pk).update(assigned_to=user)
            TicketEvent.objects.create(
                ticket=self,
                at=now or timezone.now(),
                by=by,
                from_status=self.status,
                to_status=self.status,
                note=_("Assigned to %(user)s") % {"user": user.get_username() if user else "—"},
            )
        self.assigned_to = user

    def post_message(self, body, *, by=None, visible_to_candidate, now=None):
        """A message to the candidate (emailed) or an internal note (staff only)."""
        if not body.strip():
            raise ValidationError({"body": _("The message is empty.")})
        with transaction.atomic():
            message = TicketMessage.objects.create(
                ticket=self, author=by, body=body, visible_to_candidate=visible_to_candidate, at=now or timezone.now()
            )
            if visible_to_candidate:
                self.email_candidate("tickets/email/message", key=f"message:{message.pk}", message=message)
        return message

    def email_candidate(self, template_name, *, key, **context):
        from notifications.models import enqueue_email, render_email

        enqueue_email(
            key=f"ticket:{self.pk}:{key}",
            recipient=self.email,
            language=self.language,
            template="message",
            context=render_email(template_name, self.language, {"ticket": self, **context}),
            office=self.office,
        )


def deadline_for(kind, session, detail_fields):
    """The in-person deadline of a kind, from the session's data: exemptions until the exemption
    deadline (12:00 on the last registration day), registration-info changes until the end of the
    info-change deadline day (20 days before the exam). Other kinds have none."""
    if session is None:
        return None
    if kind == Kind.EXEMPTION:
        return session.exemption_deadline
    if kind == Kind.INFO_CHANGE and detail_fields.get("scope") == InfoChange.Scope.REGISTRATION:
        next_day = session.info_change_deadline + datetime.timedelta(days=1)
        return datetime.datetime.combine(next_day, datetime.time(), tzinfo=workdays.BEIJING)
    return None


def _require_status(ticket, statuses):
    if ticket.status not in statuses:
        raise TicketClosed(
            _("%(ref)s is “%(status)s”: this step is not possible now.")
            % {"ref": ticket.reference, "status": ticket.get_status_display()}
        )


def _note(ticket, by, text, now):
    """A history line for a step inside a status (no status change)."""
    TicketEvent.objects.create(
        ticket=ticket, at=now, by=by, from_status=ticket.status, to_status=ticket.status, note=text
    )


class TicketEvent(StatusHistory):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("from"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Status.choices)

    def __str__(self):
        return f"{self.ticket_id}: {self.get_from_status_display()} → {self.get_to_status_display()}"


class TicketMessage(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, null=True, blank=True
    )
    body = models.TextField(_("message"))
    visible_to_candidate = models.BooleanField(_("visible to the candidate"), default=False)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("message or note")
        verbose_name_plural = _("messages and notes")

    def __str__(self):
        # Staff type document numbers into messages and notes; __str__ is shown wherever the row is named.
        return mask_text(self.body)[:50]


class CannedReply(models.Model):
    """Replies regional staff prepare for the counters, in both languages."""

    title = models.CharField(_("title"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, blank=True, help_text=_("Empty: all kinds"))
    body_zh = models.TextField(_("text (Chinese)"))
    body_en = models.TextField(_("text (English)"))

    class Meta:
        ordering = ["kind", "title"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def __str__(self):
        return self.title

    def body_for(self, language):
        return self.body_en if language == "en" and self.body_en else self.body_zh


# Detail models ------------------------------------------------------------------------------------


class TicketDetail(models.Model):
    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self._meta.verbose_name} {self.ticket_id}"

    def completion_problem(self):
        """A message when the kind's own step was not recorded yet, else None."""
        return None

    def on_completed(self, by, now):
        """What completing the request changes elsewhere."""


class PasswordReset(TicketDetail):  # noqa: DJ008 - TicketDetail.__str__
    """FAQ 4–5. The portal never stores, shows or emails a password: it records that a reset was done."""

    class Platform(models.TextChoices):
        XINJIANG = "xinjiang", _("Xinjiang Accountant Service Platform (新疆会计人员服务平台)")
        NATIONAL = "national", _("National Accountant Service Platform (全国会计人员统一服务管理平台)")

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="password_reset")
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    self_service_tried = models.BooleanField(_("self-service recovery was tried"), default=False)
    reset_done_at = models.DateTimeField(_("reset done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("password reset")
        verbose_name_plural = _("password resets")

    def clean(self):
        if self.platform == self.Platform.NATIONAL and not self.self_service_tried:
            raise ValidationError(
                {"self_service_tried": _("For the national platform, try the self-service recovery first (FAQ 5).")}
            )

    def completion_problem(self):
        return None if self.reset_done_at else _("Record that the password was reset first.")

    def record_reset(self, by, now=None):
        """The office reset the password on the platform; the candidate changes it at first login."""
        now = now or timezone.now()
        _require_status(self.ticket, (Status.VERIFIED, Status.IN_PROGRESS))
        type(self).objects.filter(pk=self.pk).update(reset_done_at=now)
        self.reset_done_at = now
        _note(self.ticket, by, _("Password reset on the platform."), now)


class InfoChange(TicketDetail):  # noqa: DJ008 - TicketDetail.__str__
    """FAQ 9 (platform identity, no deadline) and FAQ 15 (registration after payment, until the deadline)."""

    class Scope(models.TextChoices):
        PLATFORM_IDENTITY = "platform_identity", _("Platform identity after real-name authentication (FAQ 9)")
        REGISTRATION = "registration", _("Registration information after payment (FAQ 15)")

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="info_change")
    scope = models.CharField(_("what to change"), max_length=20, choices=Scope.choices)
    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, null=True, blank=True
    )
    old_name = models.CharField(_("old name"), max_length=100, blank=True)
    new_name = models.CharField(_("new name"), max_length=100, blank=True)
    old_gender = models.CharField(_("old gender"), max_length=1, blank=True)
    new_gender = models.CharField(_("new gender"), max_length=1, blank=True, choices=Candidate.Gender.choices)
    old_document_number = models.CharField(_("old document number"), max_length=32, blank=True)
    new_document_type = models.CharField(
        _("new document type"), max_length=20, choices=id_numbers.DocumentType.choices, blank=True
    )
    new_document_number = models.CharField(_("new document number"), max_length=32, blank=True)
    new_photo = models.FileField(_("new photo"), upload_to=upload_path, max_length=200, blank=True)
    proof = models.FileField(_("proof"), upload_to=upload_path, max_length=200, blank=True)
    proof_name = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("personal-information change")
        verbose_name_plural = _("personal-information changes")

    def changed_fields(self):
        return [
            field
            for field, new in (
                ("name", self.new_name),
                ("gender", self.new_gender),
                ("document_number", self.new_document_number),
            )
            if new
        ] + (["photo"] if self.new_photo else [])

    def link_application(self, by, application, now=None):
        """The paid application whose registration a FAQ 15 change corrects."""
        now = now or timezone.now()
        with transaction.atomic():
            locked = self.ticket.lock_for_step(WORKING_STATUSES)
            if application.candidate_id != locked.candidate_id or application.status != ApplicationStatus.PAID:
                raise ValidationError(_("Choose a paid application of this candidate."))
            type(self).objects.filter(ticket=locked).update(application=application)
            self.application = application
            locked.note(by, _("Linked to application %(ref)s.") % {"ref": application.reference}, now)

    def completion_problem(self):
        if self.scope == self.Scope.REGISTRATION and self.application_id is None:
            return _("Link the paid application whose registration changes.")
        return None

    def on_completed(self, by, now):
        """A completed change updates the candidate's identity; the old values stay in this row and
        in the identity history."""
        candidate = Candidate.objects.select_for_update().get(pk=self.ticket.candidate_id)
        for field, new in (("name", self.new_name), ("gender", self.new_gender)):
            if new and getattr(candidate, field) != new:
                IdentityChange.objects.create(
                    candidate=candidate,
                    ticket=self.ticket,
                    field=field,
                    old_value=getattr(candidate, field),
                    new_value=new,
                    at=now,
                )
                setattr(candidate, field, new)
        if self.new_document_number:
            number = id_numbers.normalize(self.new_document_number)
            IdentityChange.objects.create(
                candidate=candidate,
                ticket=self.ticket,
                field="document_number",
                old_value=candidate.document_number,
                new_value=number,
                at=now,
            )
            candidate.document_number = number
            if self.new_document_type:
                candidate.document_type = self.new_document_type
        candidate.save()


class IdentityChange(models.Model):
    """The history of a candidate's identity: old names and document numbers are kept here."""

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="identity_changes")
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="+")
    field = models.CharField(_("field"), max_length=30)
    old_value = models.CharField(_("old value"), max_length=100)
    new_value = models.CharField(_("new value"), max_length=100)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at"]
        verbose_name = _("identity change")
        verbose_name_plural = _("identity changes")

    def __str__(self):
        if self.field == "document_number":
            # Shown in admin history and audit entries: masked like every other document number.
            return f"{self.field}: {id_numbers.mask('', self.old_value)} → {id_numbers.mask('', self.new_value)}"
        return f"{self.field}: {self.old_value} → {self.new_value}"


class CertificationDeletion(TicketDetail):  # noqa: DJ008 - TicketDetail.__str__
    """FAQ 6: lost email of the national platform; the regional office deletes the certification."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="cert_deletion")
    statement = models.TextField(_("written statement"))
    statement_scan = models.FileField(_("statement scan"), upload_to=upload_path, max_length=200, blank=True)
    statement_scan_name = models.CharField(max_length=150, blank=True)
    deleted_at = models.DateTimeField(_("certification deleted at"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("certification deletion")
        verbose_name_plural = _("certification deletions")

    def completion_problem(self):
        return None if self.deleted_at else _("Record that the certification was deleted first.")

    def mark_deleted(self, by, now=None):
        """The regional office deleted the certification; the candidate registers again."""
        self.ticket._require_regional(by)
        _require_status(self.ticket, (Status.ESCALATED,))
        now = now or timezone.now()
        type(self).objects.filter(pk=self.pk).update(deleted_at=now, deleted_by=by)
        self.deleted_at, self.deleted_by = now, by
        _note(self.ticket, by, _("Certification deleted."), now)


class Refund(TicketDetail):  # noqa: DJ008 - TicketDetail.__str__
    """FAQ 18: from the system-screened list or reported by the candidate with the bank receipt."""

    class Source(models.TextChoices):
        SCREENED_LIST = "screened_list", _("System-screened duplicate-payment list")
        CANDIDATE_REPORT = "candidate_report", _("Reported by the candidate")

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="refund")
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    payment_codes = models.CharField(_("payment codes"), max_length=200, blank=True)
    amounts = models.CharField(_("amounts"), max_length=200, blank=True)
    paid_at = models.CharField(_("paid at"), max_length=200, blank=True)
    receipt = models.FileField(_("bank receipt"), upload_to=upload_path, max_length=200, blank=True)
    receipt_name = models.CharField(max_length=150, blank=True)
    nontax_checked_at = models.DateTimeField(_("checked in the non-tax system at"), null=True, blank=True)
    refund_amount = models.DecimalField(_("refund amount"), max_digits=9, decimal_places=2, null=True, blank=True)
    refund_date = models.DateField(_("refund date"), null=True, blank=True)
    voucher_number = models.CharField(_("voucher number"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("duplicate-payment refund")
        verbose_name_plural = _("duplicate-payment refunds")

    def completion_problem(self):
        if not self.nontax_checked_at:
            return _("Record the check in the non-tax system first.")
        if not (self.refund_amount and self.refund_date and self.voucher_number):
            return _("Record the refund (amount, date, voucher number) first.")
        return None

    def attach_list_data(self, data, now=None):
        """Put the screened list's payment data on this open refund ticket (history line); False when the
        ticket is closed or already holds exactly this data, so a re-import changes nothing."""
        now = now or timezone.now()
        with transaction.atomic():
            locked = Ticket.objects.select_for_update().get(pk=self.ticket_id)
            if locked.status not in OPEN_STATUSES or all(getattr(self, f) == v for f, v in data.items()):
                return False
            type(self).objects.filter(pk=self.pk).update(**data)
            for field, value in data.items():
                setattr(self, field, value)
            locked.note(
                None,
                _("On the system-screened duplicate-payment list: %(codes)s, %(amounts)s, paid %(paid)s.")
                % {"codes": data["payment_codes"], "amounts": data["amounts"], "paid": data["paid_at"]},
                now,
                actor="system",
            )
        return True

    def record_nontax_check(self, by, now=None):
        self.ticket._require_regional(by)
        _require_status(self.ticket, (Status.ESCALATED,))
        now = now or timezone.now()
        type(self).objects.filter(pk=self.pk).update(nontax_checked_at=now)
        self.nontax_checked_at = now
        _note(self.ticket, by, _("Duplicate payment confirmed in the non-tax system."), now)

    def record_refund(self, by, amount, date, voucher_number, now=None):
        self.ticket._require_regional(by)
        _require_status(self.ticket, (Status.ESCALATED,))
        if not (amount and amount > 0 and date and voucher_number.strip()):
            raise ValidationError(_("Give the refund amount, date and voucher number."))
        type(self).objects.filter(pk=self.pk).update(
            refund_amount=amount, refund_date=date, voucher_number=voucher_number
        )
        self.refund_amount, self.refund_date, self.voucher_number = amount, date, voucher_number
        _note(
            self.ticket,
            by,
            _("Refunded %(amount)s on %(date)s, voucher %(voucher)s.")
            % {"amount": amount, "date": date, "voucher": voucher_number},
            now or timezone.now(),
        )


class Exemption(TicketDetail):  # noqa: DJ008 - TicketDetail.__str__
    """FAQ 19: 财务管理 exemption for MPAcc / DPAcc holders, verified in person within registration."""

    class Degree(models.TextChoices):
        MPACC = "mpacc", _("Master of Professional Accounting (MPAcc, 会计硕士)")
        DPACC = "dpacc", _("Doctor of Professional Accounting (DPAcc, 会计博士)")

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="exemption")
    degree = models.CharField(_("degree"), max_length=10, choices=Degree.choices)
    certificate_number = models.CharField(_("degree certificate number"), max_length=50)
    school = models.CharField(_("school"), max_length=150)
    graduation_date = models.DateField(_("graduation date"))
    id_card_seen = models.BooleanField(_("ID card original and copy seen"), default=False)
    degree_certificate_seen = models.BooleanField(_("degree certificate original and copy seen"), default=False)
    chsi_record_seen = models.BooleanField(_("学信网 registration record seen"), default=False)
    application_form_seen = models.BooleanField(_("exemption application form received"), default=False)

    class Meta:
        verbose_name = _("subject exemption")
        verbose_name_plural = _("subject exemptions")

    @property
    def needs_chsi_record(self):
        """The 学信网 record is required only for graduates of 2002 or later."""
        return self.graduation_date.year >= 2002

    def missing_materials(self):
        required = [("id_card_seen", self.id_card_seen), ("degree_certificate_seen", self.degree_certificate_seen)]
        if self.needs_chsi_record:
            required.append(("chsi_record_seen", self.chsi_record_seen))
        required.append(("application_form_seen", self.application_form_seen))
        return [str(self._meta.get_field(name).verbose_name) for name, seen in required if not seen]

    def completion_problem(self):
        missing = self.missing_materials()
        if missing:
            return _("Materials not seen yet: %(missing)s.") % {"missing": ", ".join(missing)}
        return None

    def record_materials(self, by, seen, now=None):
        """Tick the materials seen in original at the counter (a history line lists what is ticked)."""
        now = now or timezone.now()
        with transaction.atomic():
            locked = self.ticket.lock_for_step(WORKING_STATUSES)
            type(self).objects.filter(ticket=locked).update(**seen)
            for name, value in seen.items():
                setattr(self, name, value)
            ticked = [str(self._meta.get_field(name).verbose_name) for name, value in seen.items() if value]
            locked.note(
                by, _("Materials seen in original: %(materials)s.") % {"materials": ", ".join(ticked) or "—"}, now
            )

    def on_completed(self, by, now):
        """An approved exemption marks 财务管理 exempt on the candidate's application of the session."""
        Application.objects.filter(candidate_id=self.ticket.candidate_id, session_id=self.ticket.session_id).exclude(
            status__in=[ApplicationStatus.WITHDRAWN, ApplicationStatus.REJECTED]
        ).update(management_exempt=True)


DETAIL_MODELS = {
    Kind.PASSWORD_RESET: PasswordReset,
    Kind.INFO_CHANGE: InfoChange,
    Kind.CERT_DELETION: CertificationDeletion,
    Kind.REFUND: Refund,
    Kind.EXEMPTION: Exemption,
}
DETAIL_RELATED_NAME = {
    Kind.PASSWORD_RESET: "password_reset",
    Kind.INFO_CHANGE: "info_change",
    Kind.CERT_DELETION: "cert_deletion",
    Kind.REFUND: "refund",
    Kind.EXEMPTION: "exemption",
}


class DuplicatePayment(models.Model):
    """A row of the system-screened duplicate-payment list that regional staff import (FAQ 18)."""

    session = models.ForeignKey(ExamSession, verbose_name=_("exam session"), on_delete=models.PROTECT)
    document_number = models.CharField(_("document number"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    payment_codes = models.CharField(_("payment codes"), max_length=200)
    amounts = models.CharField(_("amounts"), max_length=200)
    paid_at = models.CharField(_("paid at"), max_length=200)
    ticket = models.ForeignKey(Ticket, verbose_name=_("request"), on_delete=models.PROTECT, null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)

    objects = OfficeScopedQuerySet.as_manager()
    office_lookup = "ticket__office"

    class Meta:
        verbose_name = _("duplicate-payment list row")
        verbose_name_plural = _("duplicate-payment list")
        constraints = [
            models.UniqueConstraint(fields=["session", "document_number"], name="duplicate_payment_once_per_session")
        ]

    def __str__(self):
        return f"{self.session.year} {id_numbers.mask('resident_id', self.document_number)}"


class FormTemplate(models.Model):
    """The text of a request's downloadable form (FAQ 19's 免试科目申请表, FAQ 6's written statement), edited by
    regional staff; tickets/documents.py makes a DOCX of it, its placeholders filled from the current session (and
    from the request, when a candidate downloads it from their request's pages). Chinese is the official form; the
    English texts, when given, make a translation for reference."""

    kind = models.CharField(_("request"), max_length=20, choices=Kind.choices, unique=True, editable=False)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    intro_zh = models.TextField(_("introduction (Chinese)"), blank=True)
    applicant_fields_zh = models.TextField(_("fields for the candidate (Chinese)"))
    materials_zh = models.TextField(_("materials (Chinese)"), blank=True)
    declaration_zh = models.TextField(_("declaration (Chinese)"))
    office_fields_zh = models.TextField(_("fields for the office (Chinese)"), blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    intro_en = models.TextField(_("introduction (English)"), blank=True)
    applicant_fields_en = models.TextField(_("fields for the candidate (English)"), blank=True)
    materials_en = models.TextField(_("materials (English)"), blank=True)
    declaration_en = models.TextField(_("declaration (English)"), blank=True)
    office_fields_en = models.TextField(_("fields for the office (English)"), blank=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    TEXT_FIELDS = ("title", "intro", "applicant_fields", "materials", "declaration", "office_fields")

    class Meta:
        ordering = ["kind"]
        verbose_name = _("downloadable form")
        verbose_name_plural = _("downloadable forms")

    def __str__(self):
        return self.title_zh

    @property
    def has_english(self):
        return bool(self.title_en.strip() and self.applicant_fields_en.strip())

    def in_english(self, language):
        """Whether a download in `language` is the English translation (asked for, and there is one)."""
        return (language or "").startswith("en") and self.has_english

    def texts(self, language):
        """{field: text} in `language` ("zh" or "en")."""
        return {name: getattr(self, f"{name}_{language}") for name in self.TEXT_FIELDS}

    def clean(self):
        from .documents import unknown_placeholders

        errors = {}
        for name in self.TEXT_FIELDS:
            for language in ("zh", "en"):
                problem = unknown_placeholders(getattr(self, f"{name}_{language}"))
                if problem:
                    errors[f"{name}_{language}"] = problem
        if errors:
            raise ValidationError(errors)
