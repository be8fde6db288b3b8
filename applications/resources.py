"""Spreadsheets of the registration admin: the payment list imported by the regional office, and the
export of an office's reviewed applications."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.results import RowResult

from core import id_numbers
from core.resources import SafeExportResource, normalise_headers
from core.spreadsheet_jobs import BackgroundResource

from . import payments
from .models import Application, ExamSession, Payment

# The national platform's list has Chinese headers; staff may also type the English ones.
PAYMENT_HEADER_ALIASES = {
    "document_number": ("document number", "证件号码", "身份证号", "身份证号码", "证件号"),
    "name": ("姓名", "考生姓名"),
    "amount": ("金额", "缴费金额", "支付金额"),
    "paid_at": ("paid at", "缴费时间", "支付时间"),
    "payment_code": ("payment code", "缴费编码", "缴费编号", "订单号", "支付流水号"),
}
PAYMENT_COLUMNS = tuple(PAYMENT_HEADER_ALIASES)
# What the dry run says each row will do (applications/payments.py decide).
PREVIEW_LABELS = {
    payments.PAYS: _("Pays"),
    payments.ALREADY_PAID: _("Already paid"),
    payments.UNMATCHED: _("Unmatched: no application for this number in the session"),
    payments.LATE: _("Paid after payment close: not applied"),
    payments.FUTURE: _("Payment time in the future: refused"),
    payments.NOT_APPROVED: _("Application not approved: not applied"),
}
# The preview's column headers, in the order of the resource's fields.
PAYMENT_COLUMN_LABELS = {
    "payment_code": _("payment code"),
    "document_number": _("document number"),
    "name": _("name"),
    "amount": _("amount"),
    "paid_at": _("paid at"),
}


class DocumentNumberWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        if isinstance(value, float):
            # An 18-digit number stored as a spreadsheet number has already lost its last digits.
            raise ValueError(_("The document number is stored as a number: format the column as text."))
        number = id_numbers.normalize("" if value is None else str(value))
        if not number:
            raise ValueError(_("The document number is missing."))
        return number

    def render(self, value, obj=None, **kwargs):
        # Payments are never exported: only the import preview shows this column, masked like every list.
        return id_numbers.mask("", value or "")


class RequiredTextWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        text = "" if value is None else str(value).strip()
        if not text:
            raise ValueError(_("This value is missing."))
        return text


class AmountWidget(widgets.DecimalWidget):
    def clean(self, value, row=None, **kwargs):
        amount = super().clean(value, row, **kwargs)
        if amount is None or amount <= Decimal(0):
            raise ValueError(_("The amount must be a positive number."))
        return amount


class PaidAtWidget(widgets.DateTimeWidget):
    """A moment with a time of day (a bare date cannot be compared with the 18:00 payment close);
    times without a zone are Beijing time (the current time zone)."""

    FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")

    def __init__(self):
        super().__init__()
        self.formats = self.FORMATS

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, str):
            value = value.strip()
        elif isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            value = None  # a date alone: refused below
        try:
            moment = super().clean(value, row, **kwargs)
        except ValueError:
            moment = None
        if moment is None:
            raise ValueError(_("Enter the payment time as 2024-07-02 17:30:00 (Beijing time)."))
        return moment


class PaymentResource(BackgroundResource, resources.ModelResource):
    """One row per payment of the national platform's list. The payment code identifies a row, so a
    file imported twice changes nothing; after saving, each row is matched to its application.

    Pass `session` (the exam session the list belongs to, or its pk as a background job stores it) when creating
    the resource.
    """

    payment_code = fields.Field(attribute="payment_code", column_name="payment_code", widget=RequiredTextWidget())
    document_number = fields.Field(
        attribute="document_number", column_name="document_number", widget=DocumentNumberWidget()
    )
    name = fields.Field(attribute="name", column_name="name", widget=RequiredTextWidget())
    amount = fields.Field(attribute="amount", column_name="amount", widget=AmountWidget())
    paid_at = fields.Field(attribute="paid_at", column_name="paid_at", widget=PaidAtWidget())

    class Meta:
        model = Payment
        fields = ("payment_code", "document_number", "name", "amount", "paid_at")
        import_order = fields
        import_id_fields = ("payment_code",)
        skip_unchanged = True
        report_skipped = True
        store_instance = True
        # New rows are written 1,000 per INSERT; the payments already imported are read in before_import.
        use_bulk = True
        batch_size = 1000

    def __init__(self, session=None, **kwargs):
        super().__init__(**kwargs)
        if session is not None and not isinstance(session, ExamSession):
            session = ExamSession.objects.get(pk=session)
        self.session = session
        self.outcome = {"paid": 0, "unmatched": 0, "not_applied": 0}
        self.unmatched_rows = []  # (masked document number, name)
        self.known = {}  # payment code → the payment imported before, or met earlier in this file
        self.payments = []  # the file's valid rows, in order: matched (and applied) after the import
        self.row_results = []  # their rows of the preview, which the dry run tells what will happen

    @classmethod
    def get_display_name(cls):
        return _("Payment records")

    def before_import(self, dataset, **kwargs):
        # Errors here stop the whole file (import-export shows them above the rows; nothing is written).
        if self.session is None:
            del dataset[:]
            raise ValueError(_("Choose the exam session of this payment list."))
        normalise_headers(dataset, PAYMENT_HEADER_ALIASES, PAYMENT_COLUMNS)
        if "payment_code" in dataset.headers:
            codes = {self.code_of(value) for value in dataset["payment_code"]}
            self.known = Payment.objects.in_bulk(codes - {""}, field_name="payment_code")

    @staticmethod
    def code_of(value):
        return "" if value is None else str(value).strip()

    def get_instance(self, instance_loader, row):
        return self.known.get(self.code_of(row.get("payment_code")))

    def init_instance(self, row=None):
        return Payment(session=self.session)

    def import_instance(self, instance, row, **kwargs):
        known = instance.pk or self.known.get(instance.payment_code) is instance
        before = {column: getattr(instance, column) for column in PAYMENT_COLUMNS} if known else None
        super().import_instance(instance, row, **kwargs)
        if before is not None:
            changed = [column for column in PAYMENT_COLUMNS if getattr(instance, column) != before[column]]
            if changed:
                # A payment that already moved an application to paid is a record: it is never rewritten.
                raise ValidationError(
                    {
                        column: _("Payment %(code)s was imported before with a different value.")
                        % {"code": instance.payment_code}
                        for column in changed
                    }
                )

    def after_import_row(self, row, row_result, **kwargs):
        payment = row_result.instance
        if payment is None or row_result.import_type not in (
            RowResult.IMPORT_TYPE_NEW,
            RowResult.IMPORT_TYPE_UPDATE,
            RowResult.IMPORT_TYPE_SKIP,
        ):
            return
        # A second row with the same code is the same payment (bulk mode saves new rows in batches).
        self.known.setdefault(payment.payment_code, payment)
        self.payments.append(payment)
        self.row_results.append(row_result)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run"):
            # The preview changes nothing: it says per row what the import will do, and counts it.
            result.payment_counts = self.preview_rows()
            result.payment_headers = [PAYMENT_COLUMN_LABELS.get(header, header) for header in result.diff_headers]
        elif not result.has_errors():
            # Applied on every import, unchanged rows too: applying is safe to repeat, and an application
            # approved since the last import of the same list becomes paid now.
            outcome = payments.apply_payments(self.session, self.payments)
            self.outcome.update(paid=outcome["paid"], not_applied=outcome["not_applied"])
            for payment in self.payments:
                if payment.application_id is None:
                    self.add_unmatched(payment)
        result.payment_outcome = dict(self.outcome)
        result.unmatched_rows = list(self.unmatched_rows)  # listed by a job's page (core.spreadsheet_jobs)

    def preview_rows(self):
        """Put on each preview row what importing it will do (payments.preview); returns the counts."""
        counts = {outcome: 0 for outcome in PREVIEW_LABELS}
        counts["amount_differs"] = 0
        rows = payments.preview(self.session, self.payments)
        for row_result, (payment, outcome, _note, application, fee) in zip(self.row_results, rows, strict=True):
            counts[outcome] += 1
            if outcome == payments.UNMATCHED:
                self.add_unmatched(payment)
            text = PREVIEW_LABELS[outcome]
            if application is not None:
                text = gettext("%(outcome)s: %(reference)s (%(office)s)") % {
                    "outcome": text,
                    "reference": application.reference,
                    "office": application.office.name_zh,
                }
            row_result.payment_outcome = outcome
            row_result.payment_outcome_text = text
            row_result.payment_amount_note = ""
            if fee is not None and payment.amount != fee:
                counts["amount_differs"] += 1
                row_result.payment_amount_note = gettext("Amount differs from the fee (%(fee)s).") % {"fee": fee}
        return counts

    def add_unmatched(self, payment):
        self.outcome["unmatched"] += 1
        self.unmatched_rows.append((id_numbers.mask("", payment.document_number), payment.name))


class ApplicationExportResource(BackgroundResource, SafeExportResource):
    """The reviewed applications of an office for the regional office: ID numbers masked, formulas defused."""

    reference = fields.Field(attribute="reference", column_name=_("reference"))
    office = fields.Field(column_name=_("exam office"))
    document_number = fields.Field(column_name=_("document number (masked)"))
    name = fields.Field(attribute="candidate__name", column_name=_("name"))
    qualification = fields.Field(column_name=_("highest qualification"))
    status = fields.Field(column_name=_("status"))
    decided_by = fields.Field(column_name=_("decided by"))
    decided_at = fields.Field(attribute="decided_at", column_name=_("decided at"), widget=widgets.DateTimeWidget())
    verified_months = fields.Field(
        attribute="verified_insured_months", column_name=_("social-insurance months verified")
    )

    class Meta:
        model = Application
        fields = (
            "reference",
            "office",
            "document_number",
            "name",
            "qualification",
            "status",
            "decided_by",
            "decided_at",
            "verified_months",
        )
        export_order = fields

    @classmethod
    def get_display_name(cls):
        return _("Reviewed applications")

    @classmethod
    def get_model_queryset(cls):
        # A background export starts from here (the admin's export passes its own queryset, joined alike).
        return Application.objects.select_related("candidate", "office", "decided_by")

    def dehydrate_office(self, application):
        return str(application.office)

    def dehydrate_document_number(self, application):
        return application.candidate.masked_document_number

    def dehydrate_qualification(self, application):
        return self.label("qualification", application.qualification)

    def dehydrate_status(self, application):
        return self.label("status", application.status)

    def label(self, field, value):
        """The choice's label in the export's language. Model.get_FOO_display hashes every (lazy) label of the
        field again for each call: a third of the time of a 50,000-row export."""
        labels = self.__dict__.setdefault("_labels", {})
        if field not in labels:
            labels[field] = {key: str(text) for key, text in Application._meta.get_field(field).flatchoices}
        return labels[field].get(value, value)

    def dehydrate_decided_by(self, application):
        return application.decided_by.get_username() if application.decided_by_id else ""
