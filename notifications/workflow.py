"""The transition engine's emails: a workflow whose emails go through the outbox (sent after commit)."""

from django.conf import settings

from core.transitions import Workflow

from .models import OutboxMessage, enqueue_emails, render_email


def staff_message(key, user, template, context, office_id):
    """An email to a staff member, in the admin's language (staff have no language of their own)."""
    language = settings.LANGUAGE_CODE
    context = render_email(template, language, context)
    return OutboxMessage(
        dedup_key=key, recipient=user.email, language=language, template="message", context=context, office_id=office_id
    )


class OutboxWorkflow(Workflow):
    escalation_template = ""  # the email to staff about an overdue record
    escalation_key = ""  # its outbox key: <key>:<record pk>:<user pk>:due-<due time as Unix seconds>
    due_warning_template = "notifications/email/due_warning"  # the email to an office's staff about work due soon

    def queue_emails(self, messages):
        return len(enqueue_emails(messages))

    def escalation_email(self, record, user):
        """The email to a manager (or regional staff) about an overdue record, in the admin's language. It carries
        the masked document number only: the full one is behind the admin's permission."""
        opts = self.model._meta
        context = {
            opts.model_name: record,
            "recipient": user,
            "masked_document_number": record.candidate.masked_document_number,
            "admin_url": f"{settings.PORTAL_BASE_URL}/admin/{opts.app_label}/{opts.model_name}/{record.pk}/change/",
            "base_url": settings.PORTAL_BASE_URL,
        }
        # Once per due time: escalated again after a new due time passes (a resubmission), it is emailed again.
        key = f"{self.escalation_key}:{record.pk}:{user.pk}:due-{int(record.due_at.timestamp())}"
        return staff_message(key, user, self.escalation_template, context, record.office_id)

    def due_warning_email(self, office_id, records, user, now):
        """One email to a reviewer or manager (or regional staff) listing the records of one office due soon, in
        the admin's language; references and due times only. Key: due-warning:<model>:<user pk>:<first pk>:<now>
        (the records' due_warned_for is the claim; the key only keeps one run's email from being queued twice)."""
        opts = self.model._meta
        records = sorted(records, key=lambda record: (record.due_at, record.reference))
        changelist = f"{settings.PORTAL_BASE_URL}/admin/{opts.app_label}/{opts.model_name}/"
        context = {
            "recipient": user,
            "office": records[0].office,
            "kind": opts.verbose_name_plural,
            "records": records,
            "first_due": records[0].due_at,
            "changelist_url": f"{changelist}?office__code__exact={office_id}",
        }
        key = f"due-warning:{opts.label_lower}:{user.pk}:{records[0].pk}:{int(now.timestamp())}"
        return staff_message(key, user, self.due_warning_template, context, office_id)
