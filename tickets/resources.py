"""Spreadsheets of the request admin: the system-screened duplicate-payment list that the regional office
imports (FAQ 18), and the exemption summary exported after registration closes (FAQ 19)."""

import datetime
import decimal

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.results import RowResult

from applications.models import Application, ExamSession
from applications.models import Status as ApplicationStatus
from applications.resources import DocumentNumberWidget, RequiredTextWidget
from core import id_numbers
from core.resources import SafeExportResource, normalise_headers
from core.spreadsheet_jobs import BackgroundResource

from .models import OPEN_STATUSES, DuplicatePayment, Kind, Refund, Status, Ticket

# The system's list has Chinese headers; staff may also type the English ones.
DUPLICATE_HEADER_ALIASES = {
    "document_number": ("document number", "证件号码", "身份证号", "身份证号码", "证件号"),
    "name": ("姓名", "考生姓名"),
    "payment_codes": ("payment codes", "缴费编码", "缴费编号", "缴费单号", "订单号"),
    "amounts": ("金额", "缴费金额", "支付金额"),
    "paid_at": ("paid at", "缴费时间", "支付时间"),
}
DUPLICATE_COLUMNS = tuple(DUPLICATE_HEADER_ALIASES)
LIST_DATA_FIELDS = ("payment_codes", "amounts", "paid_at")


class ListTextWidget(widgets.CharWidget):
    """A required cell kept as the text the list shows (several payments may share one cell)."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime.datetime):
            text = value.strftime("%Y-%m-%d %H:%M:%S")
        elif isinstance(value, float) and value.is_integer():
            text = str(int(value))
        elif isinstance(value, decimal.Decimal | float | int):
            text = str(value)
        else:
            text = "" if value is None else str(value).strip()
        if not text:
            raise ValueError(_("This value is missing."))
        return text


class MaskedDocumentNumberWidget(DocumentNumberWidget):
    """Normalised on import; masked wherever the resource shows it (the preview of the import)."""

    def render(self, value, obj=None, **kwargs):
        return id_numbers.mask("", value or "")


class SessionWidget(widgets.ForeignKeyWidget):
    def render(self, value, obj=None, **kwargs):
        return str(value.year) if value else ""


def match_application(session, document_number):
    """The candidate's application of the session that gives the refund its office and contact details:
    the paid one first, else the latest."""
    applications = Application.objects.filter(
        session=session, candidate__document_number=id_numbers.normalize(document_number)
    ).select_related("candidate", "office")
    return (
        applications.filter(status=ApplicationStatus.PAID).order_by("-paid_at").first()
        or applications.order_by("-submitted_at").first()
    )


def list_submission_key(session, document_number):
    """One refund ticket per candidate and session: a re-import finds the ticket it opened before."""
    return f"duplicate-list:{session.pk}:{id_numbers.normalize(document_number)}"


def refund_ticket_for(row, application):
    """(ticket, action) for a list row: the ticket linked before, the one the list opened before, the refund
    the candidate reported themselves (open, else completed), or (None, "create")."""
    if row.ticket_id:
        return row.ticket, "update"
    refunds = Ticket.objects.filter(kind=Kind.REFUND, session=row.session_id)
    ticket = refunds.filter(submission_key=list_submission_key(row.session, row.document_number)).first()
    if ticket:
        return ticket, "update"
    own = refunds.filter(candidate=application.candidate)
    ticket = own.filter(status__in=OPEN_STATUSES).first() or own.filter(status=Status.COMPLETED).first()
    if ticket:
        return ticket, "attach"
    return None, "create"


def sync_refund_ticket(row, application, now=None):
    """Create or update the ONE refund ticket of the row's candidate and session; returns (ticket, outcome),
    outcome in created / updated / attached / unchanged. Safe to repeat: the same row changes nothing twice."""
    now = now or timezone.now()
    ticket, action = refund_ticket_for(row, application)
    data = {field: getattr(row, field) for field in LIST_DATA_FIELDS}
    if ticket is None:
        candidate = application.candidate
        ticket, created = Ticket.open_request(
            kind=Kind.REFUND,
            office=application.office,
            identity={
                "document_type": candidate.document_type,
                "document_number": candidate.document_number,
                "name": candidate.name,
                "birth_date": candidate.birth_date,
                "gender": candidate.gender,
                "nationality": candidate.nationality,
            },
            contact={"email": application.email, "phone": application.phone, "language": application.language},
            detail_fields={"source": Refund.Source.SCREENED_LIST, **data},
            submission_key=list_submission_key(row.session, row.document_number),
            session=row.session,
            now=now,
        )
        outcome = "created" if created else "unchanged"
    else:
        changed = ticket.refund.attach_list_data(data, now)
        outcome = "attached" if action == "attach" else "updated" if changed else "unchanged"
    DuplicatePayment.objects.filter(pk=row.pk).update(ticket=ticket, note="")
    row.ticket, row.note = ticket, ""
    return ticket, outcome


def preview_text(action, ticket, application):
    """What the import will do with a matched row of the list, in words for the preview."""
    if action == "create":
        return gettext("Opens a refund request (application %(ref)s, %(office)s)") % {
            "ref": application.reference,
            "office": application.office.name_zh,
        }
    if action == "attach":
        return gettext("Completes the refund request %(ref)s the candidate filed (%(office)s)") % {
            "ref": ticket.reference,
            "office": application.office.name_zh,
        }
    return gettext("Updates the refund request %(ref)s (%(office)s)") % {
        "ref": ticket.reference,
        "office": application.office.name_zh,
    }


class DuplicatePaymentResource(BackgroundResource, resources.ModelResource):
    """One row per candidate of the system-screened duplicate-payment list of the current session.

    The session (not a column of the file) and the document number identify a row, so the same file
    imported twice writes nothing new; every matched row creates or updates one refund ticket.
    Pass `session` (or its pk, as a background job stores it) when creating the resource.
    """

    session = fields.Field(attribute="session", column_name="session", widget=SessionWidget(ExamSession))
    document_number = fields.Field(
        attribute="document_number", column_name="document_number", widget=MaskedDocumentNumberWidget()
    )
    name = fields.Field(attribute="name", column_name="name", widget=RequiredTextWidget())
    payment_codes = fields.Field(attribute="payment_codes", column_name="payment_codes", widget=ListTextWidget())
    amounts = fields.Field(attribute="amounts", column_name="amounts", widget=ListTextWidget())
    paid_at = fields.Field(attribute="paid_at", column_name="paid_at", widget=ListTextWidget())

    class Meta:
        model = DuplicatePayment
        fields = ("session", "document_number", "name", "payment_codes", "amounts", "paid_at")
        import_order = fields
        import_id_fields = ("session", "document_number")
        skip_unchanged = True
        report_skipped = True
        store_instance = True

    def __init__(self, session=None, **kwargs):
        super().__init__(**kwargs)
        if session is not None and not isinstance(session, ExamSession):
            session = ExamSession.objects.get(pk=session)
        self.session = session
        self.outcome = {"created": 0, "updated": 0, "attached": 0, "unchanged": 0, "matched": 0, "unmatched": []}

    @classmethod
    def get_display_name(cls):
        return _("Duplicate-payment list")

    def before_import(self, dataset, **kwargs):
        # Errors here stop the whole file (shown above the rows; nothing is written).
        if self.session is None:
            del dataset[:]
            raise ValueError(_("There is no current exam session: make one session current first."))
        normalise_headers(dataset, DUPLICATE_HEADER_ALIASES, DUPLICATE_COLUMNS)
        if "session" in dataset.headers:
            del dataset["session"]  # the list belongs to the current session, whatever a column says
        dataset.append_col([self.session.pk] * len(dataset), header="session")

    def after_import_row(self, row, row_result, **kwargs):
        instance = row_result.instance
        if instance is None or row_result.import_type not in (
            RowResult.IMPORT_TYPE_NEW,
            RowResult.IMPORT_TYPE_UPDATE,
            RowResult.IMPORT_TYPE_SKIP,
        ):
            return
        application = match_application(self.session, instance.document_number)
        if application is None:
            self.outcome["unmatched"].append((id_numbers.mask("", instance.document_number), instance.name))
            row_result.refund_outcome = "unmatched"
            row_result.refund_outcome_text = gettext("Unmatched: no application of this session has this number")
            if not kwargs.get("dry_run"):
                note = gettext("No application of this session has this document number.")
                DuplicatePayment.objects.filter(pk=instance.pk).update(ticket=None, note=note)
            return
        self.outcome["matched"] += 1
        if kwargs.get("dry_run"):
            # The preview changes no ticket: it says which request the row will open, update or complete.
            ticket, action = refund_ticket_for(instance, application)
            row_result.refund_outcome = action
            row_result.refund_outcome_text = preview_text(action, ticket, application)
            return
        _ticket, outcome = sync_refund_ticket(instance, application)
        self.outcome[outcome] += 1

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        result.refund_outcome = {**self.outcome, "unmatched_count": len(self.outcome["unmatched"])}
        result.unmatched_rows = list(self.outcome["unmatched"])  # listed by a job's page (core.spreadsheet_jobs)


class ExemptionSummaryResource(SafeExportResource):
    """Approved exemptions of a session for the regional office: ID numbers masked, formulas defused.

    Export a Ticket queryset annotated with `decided_by_name` (see staff_views.exemption_summary_queryset).
    """

    office = fields.Field(column_name=_("exam office"))
    reference = fields.Field(attribute="reference", column_name=_("reference"))
    name = fields.Field(attribute="candidate__name", column_name=_("name"))
    document_number = fields.Field(column_name=_("document number (masked)"))
    degree = fields.Field(column_name=_("degree"))
    school = fields.Field(attribute="exemption__school", column_name=_("school"))
    certificate_number = fields.Field(attribute="exemption__certificate_number", column_name=_("certificate number"))
    graduation_date = fields.Field(
        attribute="exemption__graduation_date", column_name=_("graduation date"), widget=widgets.DateWidget()
    )
    decided_by = fields.Field(attribute="decided_by_name", column_name=_("decided by"))
    decided_at = fields.Field(column_name=_("decided at"))

    class Meta:
        model = Ticket
        fields = (
            "office",
            "reference",
            "name",
            "document_number",
            "degree",
            "school",
            "certificate_number",
            "graduation_date",
            "decided_by",
            "decided_at",
        )
        export_order = fields

    @classmethod
    def get_display_name(cls):
        return _("Exemption summary")

    def dehydrate_office(self, ticket):
        return str(ticket.office)

    def dehydrate_document_number(self, ticket):
        return ticket.candidate.masked_document_number

    def dehydrate_degree(self, ticket):
        return str(ticket.exemption.get_degree_display())

    def dehydrate_decided_at(self, ticket):
        return timezone.localtime(ticket.closed_at).strftime("%Y-%m-%d %H:%M") if ticket.closed_at else ""
