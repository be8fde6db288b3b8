import smtplib

from celery import shared_task
from django.template import TemplateDoesNotExist, TemplateSyntaxError

from .models import OutboxMessage

# Errors of the mail server or the network are worth another try; a broken template is not.
RETRYABLE = (smtplib.SMTPException, OSError)


# acks_late is safe here: the claim lets only one delivery of the task send the email.
@shared_task(bind=True, acks_late=True, max_retries=None)
def send_email(self, message_id):
    message = OutboxMessage.claim(message_id)
    if message is None:
        return "not pending"
    try:
        message.deliver()
    except RETRYABLE as exc:
        message.record_failure(exc, retry=True)
        if message.status == OutboxMessage.Status.PENDING:
            raise self.retry(countdown=message.retry_delay().total_seconds()) from exc
        return "failed"
    except (TemplateDoesNotExist, TemplateSyntaxError, KeyError, ValueError) as exc:
        message.record_failure(exc, retry=False)
        return "failed"
    message.mark_sent()
    return "sent"
