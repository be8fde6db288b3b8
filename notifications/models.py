import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from offices.models import Office
from offices.scoping import OfficeScopedManager


class OutboxMessage(models.Model):
    """One email to send. The unique key makes enqueueing idempotent; the claim makes sending so."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    office = models.ForeignKey(
        Office, verbose_name=_("office"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient = models.EmailField(_("recipient"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    template = models.CharField(_("template"), max_length=100)
    context = models.JSONField(_("context"), default=dict, blank=True)
    dedup_key = models.CharField(_("deduplication key"), max_length=200, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    objects = OfficeScopedManager()
    office_lookup = "office"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outbox email")
        verbose_name_plural = _("outbox")
        permissions = [
            ("resend_outboxmessage", _("Can resend failed emails")),
            ("export_outboxmessage", _("Can export the outbox")),
        ]
        indexes = [
            # The sweep looks only at unfinished rows; the partial index stays small as sent rows pile up.
            models.Index(
                fields=["status", "next_attempt_at"],
                name="outbox_unfinished",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["office", "-created_at"], name="outbox_office_recent"),
        ]

    def __str__(self):
        return f"{self.template} → {self.recipient} ({self.get_status_display()})"

    # Sending ---------------------------------------------------------------------------------

    @classmethod
    def claim(cls, pk, now=None):
        """Take a pending row for sending (pending → sending under a row lock); None if not pending."""
        now = now or timezone.now()
        with transaction.atomic():
            message = cls.objects.select_for_update().filter(pk=pk, status=cls.Status.PENDING).first()
            if message is None:
                return None
            message.status = cls.Status.SENDING
            message.claimed_at = now
            message.attempts += 1
            message.save(update_fields=["status", "claimed_at", "attempts"])
        return message

    def render(self):
        """(subject, body) in the recipient's language."""
        context = {**self.context, "base_url": settings.PORTAL_BASE_URL}
        prefix = f"notifications/email/{self.template}"
        with translation.override(self.language):
            subject = render_to_string(f"{prefix}.subject.{self.language}.txt", context)
            body = render_to_string(f"{prefix}.body.{self.language}.txt", context)
        return " ".join(subject.split()), body

    def deliver(self):
        subject, body = self.render()
        EmailMessage(subject, body, to=[self.recipient], headers={"X-Portal-Key": self.dedup_key}).send()

    def mark_sent(self, now=None):
        self.status = self.Status.SENT
        self.sent_at = now or timezone.now()
        self.last_error = ""
        self.save(update_fields=["status", "sent_at", "last_error"])

    def record_failure(self, error, *, retry: bool, now=None):
        """Back to pending with a later attempt time, or failed when out of attempts (or not retryable)."""
        now = now or timezone.now()
        self.last_error = f"{type(error).__name__}: {error}"[:2000]
        if retry and self.attempts < settings.OUTBOX_MAX_ATTEMPTS:
            self.status = self.Status.PENDING
            self.next_attempt_at = now + self.retry_delay()
        else:
            self.status = self.Status.FAILED
        self.save(update_fields=["status", "last_error", "next_attempt_at"])

    def retry_delay(self):
        return datetime.timedelta(seconds=min(60 * 2 ** (self.attempts - 1), 3600))

    def requeue(self, now=None):
        """Send a failed email again (staff action); the attempts start over."""
        with transaction.atomic():
            updated = (
                type(self)
                .objects.filter(pk=self.pk, status=self.Status.FAILED)
                .update(status=self.Status.PENDING, attempts=0, next_attempt_at=now or timezone.now())
            )
            if updated:
                schedule_send(self.pk)
        return bool(updated)


def render_email(template_name, language, context):
    """Subject (the first line) and body of `<template_name>.<language>.txt`, for the generic template."""
    with translation.override(language):
        text = render_to_string(f"{template_name}.{language}.txt", context)
    subject, _newline, body = text.strip().partition("\n")
    return {"subject": subject.strip(), "body": body.strip()}


def schedule_send(pk):
    from .tasks import send_email

    # robust: a broker that is down at commit time must not fail the request; the sweep sends it later.
    transaction.on_commit(lambda: send_email.delay(pk), robust=True)


def schedule_sends(pks):
    """schedule_send for many rows with one commit hook. Should the broker fail midway, the rows left
    pending are sent by the outbox sweep (requeue_stalled_emails), as for a single one."""
    from .tasks import send_email

    pks = list(pks)
    if not pks:
        return

    def send_all():
        for pk in pks:
            send_email.delay(pk)

    transaction.on_commit(send_all, robust=True)


def enqueue_email(*, key, recipient, language, template, context=None, office=None):
    """Queue one email, once per key: a second call with the same key returns the first row."""
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                dedup_key=key,
                recipient=recipient,
                language=language,
                template=template,
                context=context or {},
                office=office,
            )
    except IntegrityError:
        return OutboxMessage.objects.get(dedup_key=key), False
    schedule_send(message.pk)
    return message, True


# Rows per INSERT and per `dedup_key IN (...)`: well inside every backend's limit on query parameters.
BULK_BATCH = 1000


def enqueue_emails(messages):
    """Queue many emails in a few queries, once per key like enqueue_email; returns the rows queued now.

    `messages` are unsaved OutboxMessage rows. Keys already in the outbox are left out; should a concurrent
    run insert the same key in between, its row stays and ours is dropped (the claim still sends it once).
    Sending is scheduled after commit.
    """
    languages = dict(settings.LANGUAGES)
    by_key = {}
    for message in messages:
        if message.language not in languages:
            message.language = settings.LANGUAGE_CODE
        by_key.setdefault(message.dedup_key, message)
    for keys in _batches(list(by_key)):
        for key in OutboxMessage.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True):
            del by_key[key]
    OutboxMessage.objects.bulk_create(by_key.values(), batch_size=BULK_BATCH, ignore_conflicts=True)
    # With ignore_conflicts the database does not hand the new ids back: read them by key.
    for keys in _batches(list(by_key)):
        for key, pk in OutboxMessage.objects.filter(dedup_key__in=keys).values_list("dedup_key", "pk"):
            by_key[key].pk = pk
            by_key[key]._state.adding = False
    queued = [message for message in by_key.values() if message.pk is not None]
    schedule_sends(message.pk for message in queued)
    return queued


def _batches(items):
    return [items[start : start + BULK_BATCH] for start in range(0, len(items), BULK_BATCH)]
