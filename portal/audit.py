"""The audit log's roof: which models are audited (one list, here) and which entries each staff member may
read. The domain-free parts (masking, middleware, bulk entries) are core/audit.py.
"""

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.db.models.signals import pre_save

from core.audit import NEVER_AUDITED, mask_free_text

from .visibility import candidates_for


def register_models():
    """Called once from PortalConfig.ready()."""
    from applications.models import Application, Candidate, ExamSession
    from appointments.models import Booking, ClosedDay, CounterSettings
    from offices.models import Office, User
    from tickets.models import (
        CertificationDeletion,
        Exemption,
        FormTemplate,
        InfoChange,
        PasswordReset,
        Refund,
        Ticket,
    )

    # The computed checks are long and follow from the fields; their outcome is in the flags.
    auditlog.register(Application, exclude_fields=[*NEVER_AUDITED, "checks"])
    auditlog.register(Candidate, mask_fields=["document_number"])
    auditlog.register(ExamSession)
    auditlog.register(Ticket, exclude_fields=[*NEVER_AUDITED, "scope_key"])
    auditlog.register(InfoChange, mask_fields=["old_document_number", "new_document_number"])
    for detail in (PasswordReset, CertificationDeletion, Refund, Exemption):
        auditlog.register(detail)
    auditlog.register(Office)
    # The downloadable forms' text: what regional staff changed in the form candidates sign.
    auditlog.register(FormTemplate)
    for model in (Booking, CounterSettings, ClosedDay):
        auditlog.register(model)
    auditlog.register(User, exclude_fields=["password", "last_login"], m2m_fields={"groups", "user_permissions"})
    pre_save.connect(mask_free_text, sender=LogEntry, dispatch_uid="core.audit.mask_free_text")


def entries_for(user, queryset=None):
    """The audit entries `user` may read: all for regional staff; for the others, entries of the
    applications, requests and candidates their office sees. Offices, sessions and staff: regional only."""
    from applications.models import Application, Candidate
    from appointments.models import Booking, ClosedDay, CounterSettings
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
        | Q(content_type=content_type(Candidate), object_id__in=candidates_for(user).values("pk"))
        | Q(content_type=content_type(Ticket), object_id__in=tickets)
        # A request's detail row shares the request's primary key.
        | Q(content_type__in=[content_type(model) for model in DETAIL_MODELS.values()], object_id__in=tickets)
        | Q(content_type=content_type(Booking), object_id__in=Booking.objects.for_user(user).values("pk"))
        | Q(
            content_type=content_type(CounterSettings),
            object_id__in=CounterSettings.objects.for_user(user).values("pk"),
        )
        | Q(content_type=content_type(ClosedDay), object_id__in=ClosedDay.objects.for_user(user).values("pk"))
    )
    return queryset.filter(visible)
