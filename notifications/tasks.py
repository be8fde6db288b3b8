import contextlib
import dataclasses
import smtplib
import time
from itertools import groupby

from celery import shared_task
from django.conf import settings
from django.core.mail import get_connection
from django.template import TemplateDoesNotExist, TemplateSyntaxError

from .models import OutboxMessage

# Errors of the mail server or the network are worth another try; a broken template is not.
RETRYABLE = (smtplib.SMTPException, OSError)
NOT_RETRYABLE = (TemplateDoesNotExist, TemplateSyntaxError, KeyError, ValueError)


def connection_lost(error):
    """Whether the mail connection is no use after `error`: the next row opens a new one. An SMTP error is an
    OSError too; after a refused recipient or sender, smtplib has already reset the session for the next email."""
    return isinstance(error, smtplib.SMTPServerDisconnected) or not isinstance(error, smtplib.SMTPException)


@dataclasses.dataclass
class Outcome:
    """What became of the rows of one batch."""

    sent: list = dataclasses.field(default_factory=list)
    failed: list = dataclasses.field(default_factory=list)
    retry: list = dataclasses.field(default_factory=list)  # back to pending: a later attempt is due
    released: list = dataclasses.field(default_factory=list)  # pks handed back unattempted (batch ran too long)
    errors: dict = dataclasses.field(default_factory=dict)  # pk → the exception of its failure
    not_pending: int = 0

    def record_failure(self, message, error, *, retry):
        message.record_failure(error, retry=retry)
        self.errors[message.pk] = error
        (self.retry if message.status == OutboxMessage.Status.PENDING else self.failed).append(message)

    def __str__(self):
        return (
            f"{len(self.sent)} sent, {len(self.failed)} failed, {len(self.retry)} to retry, "
            f"{len(self.released)} handed back, {self.not_pending} not pending"
        )


def send_batch(pks):
    """Claim the pending rows among `pks` and send them through one mail connection.

    Each claimed row ends sent (all of them in one UPDATE at the end), failed (a broken template, or out of
    attempts), or pending with a later attempt time (an error of the mail server). Should the worker die in
    between, the claimed rows stay in `sending` and the stall sweep takes them up. The retries are left to the
    caller (Outcome.retry).
    """
    pks = list(dict.fromkeys(pks))
    messages = OutboxMessage.claim_batch(pks)
    outcome = Outcome(not_pending=len(pks) - len(messages))
    # The stall sweep takes up rows in `sending` after OUTBOX_STALE_AFTER_SECONDS: a batch that is still
    # running by half that time (a very slow mail server) hands its unattempted rows back instead.
    deadline = time.monotonic() + settings.OUTBOX_STALE_AFTER_SECONDS / 2
    connection = None
    try:
        for index, message in enumerate(messages):
            if index and time.monotonic() > deadline:
                outcome.released = OutboxMessage.release_batch(messages[index:])
                break
            try:
                email = message.email()
            except NOT_RETRYABLE as exc:
                outcome.record_failure(message, exc, retry=False)
                continue
            if connection is None:
                try:
                    connection = get_connection()
                    connection.open()
                except RETRYABLE as exc:
                    connection = None
                    # No mail server to talk to: every row left fails as its own attempt would have.
                    for rest in messages[index:]:
                        outcome.record_failure(rest, exc, retry=True)
                    break
            try:
                connection.send_messages([email])
            except RETRYABLE as exc:
                outcome.record_failure(message, exc, retry=True)
                if connection_lost(exc):
                    close(connection)
                    connection = None
            else:
                outcome.sent.append(message)
    finally:
        if connection is not None:
            close(connection)
        # Even when something unexpected stops the batch: the emails that went out must not go out again.
        OutboxMessage.mark_sent_batch(outcome.sent)
    return outcome


def close(connection):
    with contextlib.suppress(*RETRYABLE):
        connection.close()


# acks_late is safe for both tasks: the claim lets only one delivery of a task send each email.
@shared_task(acks_late=True)
def send_emails(message_ids):
    """Send a batch of outbox rows (schedule_sends); rows the mail server refused are tried again later."""
    outcome = send_batch(message_ids)
    retry = sorted(outcome.retry, key=lambda message: message.attempts)
    for _attempts, messages in groupby(retry, key=lambda message: message.attempts):
        messages = list(messages)
        countdown = messages[0].retry_delay().total_seconds()
        send_emails.apply_async(([message.pk for message in messages],), countdown=countdown)
    return str(outcome)


@shared_task(bind=True, acks_late=True, max_retries=None)
def send_email(self, message_id):
    """Send one outbox row (enqueue_email, the staff's resend): a batch of one."""
    outcome = send_batch([message_id])
    if outcome.retry:
        (message,) = outcome.retry
        try:
            raise outcome.errors[message.pk]
        except RETRYABLE as exc:  # the mail server's error becomes the cause of the Retry
            raise self.retry(countdown=message.retry_delay().total_seconds()) from exc
    if outcome.sent:
        return "sent"
    return "failed" if outcome.failed else "not pending"
