"""Audit entries (django-auditlog) that know no domain: the masking callable, the middleware with the portal's
client address, free-text masking of every entry, entries for rows changed with QuerySet.update() and the
full-number access entry. Which models are audited is the roof's list (portal/audit.py). Document numbers are
masked by the portal's own function (auditlog's default masks the wrong half); the client address comes from
core.clientip.client_ip, the same proxy-aware function as the login lockout and the rate limits.
"""

import ipaddress
from contextvars import ContextVar

from auditlog.middleware import AuditlogMiddleware as LibraryAuditlogMiddleware
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from .clientip import client_ip
from .id_numbers import mask
from .privacy import mask_structure, mask_text

# Never in an entry: the secrets of private status links and of one-time submission keys.
NEVER_AUDITED = ["status_token", "submission_key"]


def mask_document_number(value: str) -> str:
    """AUDITLOG_MASK_CALLABLE: auditlog passes the value as text ("None" for an empty one)."""
    if value in ("None", ""):
        return value
    return mask("", value)


def mask_free_text(sender, instance, **kwargs):
    """Notes and messages are free text: a document number typed into one is masked in the entry too."""
    instance.object_repr = mask_text(instance.object_repr)
    instance.changes = mask_structure(instance.changes)
    instance.changes_text = mask_text(instance.changes_text)
    instance.additional_data = mask_structure(instance.additional_data)


# The request being served, for entries written in bulk (bulk_create bypasses auditlog's own hook): set by the
# middleware for the length of the request only.
served_request = ContextVar("served_request", default=None)


class AuditlogMiddleware(LibraryAuditlogMiddleware):
    """auditlog's middleware, with the client address of core.clientip: auditlog itself would take the
    leftmost X-Forwarded-For address, which the client writes, and a port the client may also choose."""

    def __call__(self, request):
        token = served_request.set(request)
        try:
            return super().__call__(request)
        finally:
            served_request.reset(token)

    @staticmethod
    def _get_remote_addr(request):
        address = client_ip(request)
        try:
            # The column is an IP address: client_ip already ignores a malformed X-Forwarded-For entry, but the
            # socket address may be none (a unix socket gives ""), which must not fail the request's transaction.
            return str(ipaddress.ip_address(address))
        except ValueError:
            return None

    @staticmethod
    def _get_remote_port(request):
        return None


def record_full_number_view(candidate, **context):
    """An ACCESS entry: a staff member was shown the candidate's full document number.

    Actor and address are filled in by the middleware, as for every entry written in a request.
    """
    return LogEntry.objects.log_create(
        candidate,
        force_log=True,
        action=LogEntry.Action.ACCESS,
        changes=None,
        additional_data={"shown": "full document number", **context},
    )


def record_bulk_changes(model, changes, *, reprs=None, reason="", request=None, actor=None, batch_size=1000):
    """Entries for rows changed with QuerySet.update(), which sends no signal (so auditlog sees nothing):
    `changes` is {pk: {field: (old, new)}}, `reprs` {pk: str(object)}. One INSERT per batch; the actor and
    address are those of `request`, else of the request being served (bulk_create bypasses the middleware's
    hook); `actor` names the person when there is no request. Free text is masked as in
    every entry (mask_free_text)."""
    if not changes:
        return []
    content_type = ContentType.objects.get_for_model(model)
    reprs = reprs or {}
    request = request if request is not None else served_request.get()
    user = getattr(request, "user", None)
    if actor is None and user is not None and user.is_authenticated:
        actor = user
    remote_addr = AuditlogMiddleware._get_remote_addr(request) if request is not None else None
    entries = [
        LogEntry(
            content_type=content_type,
            object_pk=str(pk),
            object_id=pk if isinstance(pk, int) else None,
            object_repr=mask_text(reprs.get(pk, f"{model._meta.verbose_name} {pk}")),
            action=LogEntry.Action.UPDATE,
            changes=mask_structure({field: [str(old), str(new)] for field, (old, new) in fields.items()}),
            additional_data=mask_structure({"reason": reason}) if reason else None,
            actor=actor,
            remote_addr=remote_addr,
        )
        for pk, fields in changes.items()
    ]
    return LogEntry.objects.bulk_create(entries, batch_size=batch_size)
