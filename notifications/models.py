import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import F
from django.template.loader import get_template, render_to_string
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
        claimed = cls.claim_batch([pk], now=now)
        return claimed[0] if claimed else None

    @classmethod
    def claim_batch(cls, pks, now=None):
        """Take the pending rows among `pks` for sending: pending → sending, one more attempt, claimed now.

        The rows are locked in one SELECT … FOR UPDATE SKIP LOCKED and changed in one UPDATE in the same
        transaction, so a row is claimed by one worker only: a row another worker is claiming is skipped (that
        claim takes it), as is a row that is no longer pending. Returns the claimed rows in primary-key order.
        """
        now = now or timezone.now()
        with transaction.atomic():
            messages = list(
                cls.objects.select_for_update(skip_locked=True)
                .filter(pk__in=list(pks), status=cls.Status.PENDING)
                .order_by("pk")
            )
            cls.objects.filter(pk__in=[message.pk for message in messages]).update(
                status=cls.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
        for message in messages:
            message.status = cls.Status.SENDING
            message.claimed_at = now
            message.attempts += 1
        return messages

    @classmethod
    def release_batch(cls, messages):
        """Hand claimed rows that were not attempted back to pending (their attempt uncounted) and send them
        in a new task. Rows that are no longer in this claim (the sweep took them up) are left alone."""
        pks = [message.pk for message in messages]
        claimed_at = {message.claimed_at for message in messages}
        with transaction.atomic():
            released = list(
                cls.objects.select_for_update()
                .filter(pk__in=pks, status=cls.Status.SENDING, claimed_at__in=claimed_at)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            cls.objects.filter(pk__in=released).update(status=cls.Status.PENDING, attempts=F("attempts") - 1)
            schedule_sends(released)
        for message in messages:
            if message.pk in released:
                message.status = cls.Status.PENDING
                message.attempts -= 1
        return released

    @classmethod
    def mark_sent_batch(cls, messages, now=None):
        """Mark delivered rows sent, in one UPDATE."""
        now = now or timezone.now()
        if messages:
            cls.objects.filter(pk__in=[message.pk for message in messages]).update(
                status=cls.Status.SENT, sent_at=now, last_error=""
            )
        for message in messages:
            message.status, message.sent_at, message.last_error = cls.Status.SENT, now, ""

    def render(self):
        """(subject, body) in the recipient's language."""
        context = {**self.context, "base_url": settings.PORTAL_BASE_URL}
        prefix = f"notifications/email/{self.template}"
        with translation.override(self.language):
            subject = render_to_string(f"{prefix}.subject.{self.language}.txt", context)
            body = render_to_string(f"{prefix}.body.{self.language}.txt", context)
        return " ".join(subject.split()), body

    def email(self):
        """The rendered EmailMessage, to send through a mail connection (raises the template's errors)."""
        subject, body = self.render()
        email = EmailMessage(subject, body, to=[self.recipient], headers={"X-Portal-Key": self.dedup_key})
        # Small text files made with the email (a visit's .ics): [{"filename", "content", "mimetype"}].
        for attachment in self.context.get("attachments", ()):
            email.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
        return email

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
    return render_emails(template_name, language, [context])[0]


def render_emails(template_name, language, contexts):
    """render_email for many contexts in one language: the template is looked up and the language switched
    once, not per email (a sweep renders 50,000)."""
    with translation.override(language):
        template = get_template(f"{template_name}.{language}.txt")
        texts = [template.render(context) for context in contexts]
    return [_subject_and_body(text) for text in texts]


def _subject_and_body(text):
    subject, _newline, body = text.strip().partition("\n")
    return {"subject": subject.strip(), "body": body.strip()}


# Rows per send_emails task: the per-task overhead (broker, claim, mail connection) is shared by this many emails,
# while a worker lost mid-batch leaves no more than this many rows to the stall sweep.
SEND_BATCH = 50


def schedule_send(pk):
    from .tasks import send_email

    # robust: a broker that is down at commit time must not fail the request; the sweep sends it later.
    transaction.on_commit(lambda: send_email.delay(pk), robust=True)


def schedule_sends(pks):
    """Send many rows after commit, SEND_BATCH rows per send_emails task, with one commit hook. Should the
    broker fail midway, the rows left pending are sent by the outbox sweep (requeue_stalled_emails), as for a
    single one."""
    from .tasks import send_emails

    pks = list(pks)
    if not pks:
        return

    def send_all():
        for start in range(0, len(pks), SEND_BATCH):
            send_emails.delay(pks[start : start + SEND_BATCH])

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
    connection = connections[router.db_for_write(OutboxMessage)]
    if connection.vendor == "postgresql":
        queued = _copy_new_rows(connection, list(by_key.values())) if by_key else []
    else:
        queued = _bulk_create_new_rows(by_key)
    schedule_sends(message.pk for message in queued)
    return queued


def _bulk_create_new_rows(by_key):
    """The portable path (SQLite): leave out the keys already there, insert the rest ignoring conflicts, then
    read the new ids back by key. Returns the rows inserted, with their pks."""
    for keys in _batches(list(by_key)):
        for key in OutboxMessage.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True):
            del by_key[key]
    OutboxMessage.objects.bulk_create(by_key.values(), batch_size=BULK_BATCH, ignore_conflicts=True)
    # With ignore_conflicts the database does not hand the new ids back: read them by key.
    for keys in _batches(list(by_key)):
        for key, pk in OutboxMessage.objects.filter(dedup_key__in=keys).values_list("dedup_key", "pk"):
            by_key[key].pk = pk
            by_key[key]._state.adding = False
    return [message for message in by_key.values() if message.pk is not None]


# The temporary table enqueue_emails copies the rows into on PostgreSQL, and its column keeping their order.
_STAGING_TABLE = "notifications_outbox_enqueue"
_STAGING_ORDER = "enqueue_order"


def _copy_new_rows(connection, messages):
    """The PostgreSQL path: COPY the rows (distinct keys) into a temporary table, then one
    INSERT … SELECT … ON CONFLICT (dedup_key) DO NOTHING RETURNING moves those whose key is new into the
    outbox and names them. Returns the rows inserted, with their pks, in the order given.

    COPY dumps the values with psycopg's C dumpers, where bulk_create's UNNEST builds text arrays in Python.
    A key in the outbox already, or committed meanwhile by another transaction (the INSERT waits for one
    still open), is skipped by ON CONFLICT and not returned. It all runs in the caller's transaction (a
    new one in autocommit); the table lives for this call only: dropped at the end, or with the transaction
    should anything fail (ON COMMIT DROP covers a commit in between).
    """
    opts = OutboxMessage._meta
    fields = [field for field in opts.concrete_fields if field is not opts.pk]
    quote = connection.ops.quote_name
    table, order = quote(opts.db_table), quote(_STAGING_ORDER)
    staging = f"pg_temp.{quote(_STAGING_TABLE)}"  # this session's own, whatever else is on the search path
    columns = ", ".join(quote(field.column) for field in fields)
    definitions = ", ".join(f"{quote(field.column)} {field.db_type(connection)}" for field in fields)
    key_column = quote(opts.get_field("dedup_key").column)
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {staging} ({order} integer, {definitions}) ON COMMIT DROP")
        # Django's cursor wrapper has no copy(): the psycopg cursor's, with its errors turned into Django's.
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {staging} ({order}, {columns}) FROM STDIN") as copy,
        ):
            values = [_copy_value(field, connection) for field in fields]
            for position, message in enumerate(messages):
                copy.write_row([position, *(value(message) for value in values)])
        # Only quoted names of the model's own table and columns go into the SQL; the values go through COPY.
        returning = f"{key_column}, {quote(opts.pk.column)}"
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} ORDER BY {order} "  # noqa: S608
            f"ON CONFLICT ({key_column}) DO NOTHING RETURNING {returning}"
        )
        inserted = dict(cursor.fetchall())
        cursor.execute(f"DROP TABLE {staging}")
    queued = []
    for message in messages:
        pk = inserted.get(message.dedup_key)
        if pk is not None:
            message.pk = pk
            message._state.adding = False
            message._state.db = connection.alias
            queued.append(message)
    return queued


def _copy_value(field, connection):
    """message → what COPY writes for `field`: the value bulk_create would send (pre_save, get_db_prep_save).
    Those calls cost more than the COPY itself for 2,000 rows, so the usual values, where they give the value
    back unchanged, skip them: a str or int, an aware datetime, a JSON dict or list (psycopg's Jsonb)."""
    attname = field.attname

    def prepared(message):
        return field.get_db_prep_save(field.pre_save(message, True), connection)

    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return prepared
    if type(field) is models.JSONField:
        encoder = field.encoder

        def json_value(message):
            value = getattr(message, attname)
            if type(value) in (dict, list):
                return connection.ops.adapt_json_value(value, encoder)
            return prepared(message)

        return json_value
    if type(field) is models.DateTimeField:

        def datetime_value(message):
            value = getattr(message, attname)
            if type(value) is datetime.datetime and value.tzinfo is not None:
                return connection.ops.adapt_datetimefield_value(value)
            return prepared(message)

        return datetime_value
    target = field.target_field if field.is_relation else field
    plain = _PLAIN_TYPES.get(type(target))
    if plain is None:
        return prepared

    def plain_value(message):
        value = getattr(message, attname)
        if (type(value) is plain if plain is int else isinstance(value, plain)) or (value is None and field.null):
            return value
        return prepared(message)

    return plain_value


# Field classes whose get_db_prep_save gives a value of this type back unchanged: any str (the choices' enums
# included) for the text fields, an int but not a bool for the integer ones.
_PLAIN_TYPES = {
    models.CharField: str,
    models.EmailField: str,
    models.TextField: str,
    models.AutoField: int,
    models.BigAutoField: int,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
}


def _batches(items):
    return [items[start : start + BULK_BATCH] for start in range(0, len(items), BULK_BATCH)]
