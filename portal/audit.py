"""The audit log (django-auditlog): who changed what, when, from which address, before and after.

Registered here, in one place, so that what is audited reads as one list. Document numbers are masked by
the portal's own function (auditlog's default masks the wrong half); the client address comes from
portal.clientip.client_ip, the same proxy-aware function as the login lockout and the rate limits.
Staff see the entries of their office's objects only (portal/admin.py, `entries_for`).
"""

import ipaddress

from auditlog.middleware import AuditlogMiddleware as LibraryAuditlogMiddleware
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.db.models.signals import pre_save

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


def register_models():
    """Called once from PortalConfig.ready()."""
    from applications.models import Application, Candidate, ExamSession
    from offices.models import Office, User
    from tickets.models import CertificationDeletion, Exemption, InfoChange, PasswordReset, Refund, Ticket

    # The computed checks are long and follow from the fields; their outcome is in the flags.
    auditlog.register(Application, exclude_fields=[*NEVER_AUDITED, "checks"])
    auditlog.register(Candidate, mask_fields=["document_number"])
    auditlog.register(ExamSession)
    auditlog.register(Ticket, exclude_fields=[*NEVER_AUDITED, "scope_key"])
    auditlog.register(InfoChange, mask_fields=["old_document_number", "new_document_number"])
    for detail in (PasswordReset, CertificationDeletion, Refund, Exemption):
        auditlog.register(detail)
    auditlog.register(Office)
    auditlog.register(User, exclude_fields=["password", "last_login"], m2m_fields={"groups", "user_permissions"})
    pre_save.connect(mask_free_text, sender=LogEntry, dispatch_uid="portal.audit.mask_free_text")


def mask_free_text(sender, instance, **kwargs):
    """Notes and messages are free text: a document number typed into one is masked in the entry too."""
    instance.object_repr = mask_text(instance.object_repr)
    instance.changes = mask_structure(instance.changes)
    instance.changes_text = mask_text(instance.changes_text)
    instance.additional_data = mask_structure(instance.additional_data)


class AuditlogMiddleware(LibraryAuditlogMiddleware):
    """auditlog's middleware, with the client address of portal.clientip: auditlog itself would take the
    leftmost X-Forwarded-For address, which the client writes, and a port the client may also choose."""

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


def entries_for(user, queryset=None):
    """The audit entries `user` may read: all for regional staff; for the others, entries of the
    applications, requests and candidates their office sees. Offices, sessions and staff: regional only."""
    from applications.models import Application, Candidate
    from tickets.models import DETAIL_MODELS, Ticket

    queryset = LogEntry.objects.all() if queryset is None else queryset
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
        return queryset.none()
    if user.sees_all_offices:
        return queryset
    if not user.office_id:
        return queryset.none()
    content_type = ContentType.objects.get_for_model
    tickets = Ticket.objects.for_user(user).values("pk")
    visible = (
        Q(content_type=content_type(Application), object_id__in=Application.objects.for_user(user).values("pk"))
        | Q(content_type=content_type(Candidate), object_id__in=Candidate.objects.for_user(user).values("pk"))
        | Q(content_type=content_type(Ticket), object_id__in=tickets)
        # A request's detail row shares the request's primary key.
        | Q(content_type__in=[content_type(model) for model in DETAIL_MODELS.values()], object_id__in=tickets)
    )
    return queryset.filter(visible)


def record_bulk_changes(model, changes, *, reprs=None, reason="", request=None, batch_size=1000):
    """Entries for rows changed with QuerySet.update(), which sends no signal (so auditlog sees nothing):
    `changes` is {pk: {field: (old, new)}}, `reprs` {pk: str(object)}. One INSERT per batch; the actor and
    address are the request's when one is given (bulk_create bypasses the middleware's hook), else none."""
    if not changes:
        return []
    content_type = ContentType.objects.get_for_model(model)
    reprs = reprs or {}
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    remote_addr = AuditlogMiddleware._get_remote_addr(request) if request is not None else None
    entries = [
        LogEntry(
            content_type=content_type,
            object_pk=str(pk),
            object_id=pk if isinstance(pk, int) else None,
            object_repr=mask_text(reprs.get(pk, f"{model._meta.verbose_name} {pk}")),
            action=LogEntry.Action.UPDATE,
            changes={field: [str(old), str(new)] for field, (old, new) in fields.items()},
            additional_data={"reason": reason} if reason else None,
            actor=actor,
            remote_addr=remote_addr,
        )
        for pk, fields in changes.items()
    ]
    return LogEntry.objects.bulk_create(entries, batch_size=batch_size)
