"""The transition engine's emails: a workflow whose emails go through the outbox (sent after commit)."""

from django.conf import settings

from core.transitions import Workflow

from .models import OutboxMessage, enqueue_emails, render_email


class OutboxWorkflow(Workflow):
    escalation_template = ""  # the email to staff about an overdue record
    escalation_key = ""  # its outbox key: <key>:<record pk>:<user pk>

    def queue_emails(self, messages):
        return len(enqueue_emails(messages))

    def escalation_email(self, record, user):
        """The email to a manager (or regional staff) about an overdue record, in the admin's language. It carries
        the masked document number only: the full one is behind the admin's permission."""
        opts = self.model._meta
        language = settings.LANGUAGE_CODE
        context = {
            opts.model_name: record,
            "recipient": user,
            "masked_document_number": record.candidate.masked_document_number,
            "admin_url": f"{settings.PORTAL_BASE_URL}/admin/{opts.app_label}/{opts.model_name}/{record.pk}/change/",
            "base_url": settings.PORTAL_BASE_URL,
        }
        return OutboxMessage(
            dedup_key=f"{self.escalation_key}:{record.pk}:{user.pk}",
            recipient=user.email,
            language=language,
            template="message",
            context=render_email(self.escalation_template, language, context),
            office_id=record.office_id,
        )
