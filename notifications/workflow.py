"""The transition engine's emails: a workflow whose emails go through the outbox (sent after commit)."""

from core.transitions import Workflow

from .models import enqueue_emails


class OutboxWorkflow(Workflow):
    def queue_emails(self, messages):
        return len(enqueue_emails(messages))
