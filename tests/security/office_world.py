"""Two offices' worth of data, every piece carrying a marker string of its office, for the isolation tests.

Built with the models' own methods and the factories, as the public forms, the counters, the payment import
and the sweeps make them: applications in every status, requests of every kind and in many statuses with
messages, internal notes and uploads, payments, duplicate-payment rows, outbox rows, audit entries and admin
history. Every name, note, message, email address, staff name and uploaded file holds a marker such as
`zqkashgarname007`; a marker of office B in any page that a member of office A is shown is a leak.
"""

import datetime
import io
import itertools
import uuid
from dataclasses import dataclass, field

from django.contrib.admin.models import CHANGE
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.core.files.base import ContentFile
from django.db import models

from applications import sweeps as application_sweeps
from applications.models import Application, ExamSession, Payment
from notifications.models import OutboxMessage
from offices.models import Office, User
from tests.conftest import PASSWORD, STAFF
from tests.factories import approve, pdf_bytes, resident_id, submit_application
from tests.tickets.factories import FIRST_REGISTRATION_DAY, open_ticket
from tickets.models import DuplicatePayment, Exemption, Kind, Ticket

URUMQI, KASHGAR = "650100", "653100"
TAGS = {URUMQI: "zqurumqi", KASHGAR: "zqkashgar"}

AT_THE_COUNTER = FIRST_REGISTRATION_DAY + datetime.timedelta(days=5)  # 2024-06-25, before every deadline
PAID_AT = FIRST_REGISTRATION_DAY + datetime.timedelta(days=1)
AFTER_PAYMENT_CLOSE = datetime.datetime(2024, 7, 3, 9, tzinfo=FIRST_REGISTRATION_DAY.tzinfo)
# Decisions that need registration still open (returning for correction) are made at this moment of the 2024 session.
DURING_REGISTRATION = AT_THE_COUNTER
AFTER_INFO_CHANGE_DEADLINE = datetime.datetime(2024, 8, 20, 9, tzinfo=FIRST_REGISTRATION_DAY.tzinfo)

_passport_serial = itertools.count(1)


@dataclass
class OfficeData:
    office: Office
    tag: str
    markers: list = field(default_factory=list)
    search_terms: dict = field(default_factory=dict)  # kind -> terms typed into search boxes and autocomplete
    owned: dict = field(default_factory=dict)  # model -> {pk}: rows built for this office (for the audit log)
    staff: list = field(default_factory=list)

    def mark(self, what):
        marker = f"{self.tag}{what}{len(self.markers) + 1:03d}"
        self.markers.append(marker)
        return marker

    def email(self):
        return f"{self.mark('mail')}@example.com"

    def searchable(self, kind, *terms):
        self.search_terms.setdefault(kind, []).extend(terms)

    def own(self, *objects):
        for obj in objects:
            self.owned.setdefault(type(obj), set()).add(obj.pk)


def marked_pdf(data, name_what="file"):
    """A real PDF whose bytes hold a marker (its title), under an original name that holds another."""
    upload = ContentFile(pdf_bytes(data.mark("pdf")), name=uuid.uuid4().hex + ".pdf")
    upload.original_name = f"{data.mark(name_what)}.pdf"
    return upload


def marked_png(data):
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", data.mark("png"))
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (30, 30, 200)).save(out, format="PNG", pnginfo=info)
    return ContentFile(out.getvalue(), name=uuid.uuid4().hex + ".png")


def create_staff():
    """The named staff of DESIGN.md (tests/conftest.py STAFF), made once for the module."""
    return {
        username: User.objects.create_staff(
            username, office=Office.objects.get(code=code), role=role, password=PASSWORD
        )
        for username, (code, role) in STAFF.items()
    }


def prepare_office(code, named_staff):
    office = Office.objects.get(code=code)
    data = OfficeData(office=office, tag=TAGS[code])
    office.email = data.email()
    office.hours_zh = data.mark("hours")
    office.address_en = data.mark("address")
    office.save()
    marked = User.objects.create_staff(
        data.mark("staff"),
        office=office,
        role="manager",
        password=PASSWORD,
        first_name=data.mark("first"),
        last_name=data.mark("last"),
        email=data.email(),
    )
    data.staff = [user for user in named_staff.values() if user.office_id == code] + [marked]
    data.searchable("username", marked.username)
    data.searchable("email", marked.email)
    data.own(office, *data.staff)
    return data


def _application(data, session, *, foreign=False, files=None, **changes):
    name = data.mark("name")
    if foreign:
        person = {
            "document_type": "passport",
            "document_number": f"E{next(_passport_serial):08d}",
            "nationality": "Kazakhstan",
        }
    else:
        person = {"document_number": resident_id()}
    application = submit_application(
        session,
        data.office,
        now=FIRST_REGISTRATION_DAY,
        identity_changes={"name": name, **person},
        files=files if files is not None else {"insurance_pdf": marked_pdf(data)},
        email=data.email(),
        school=data.mark("school"),
        major=data.mark("major"),
        **changes,
    )
    data.own(application, application.candidate)
    data.markers += [application.reference, application.candidate.document_number]
    data.searchable("name", name)
    data.searchable("reference", application.reference)
    data.searchable("number", application.candidate.document_number)
    data.searchable("email", application.email)
    return application


def build_applications_before_the_deadlines(data, session):
    """Applications that the close and lapse sweeps will move: one approved, one returned."""
    reviewer = data.staff[0]
    to_lapse = _application(data, session)
    approve(to_lapse, reviewer, note=data.mark("note"))
    to_close = _application(data, session)
    to_close.return_for_correction(reviewer, data.mark("note"), now=DURING_REGISTRATION)
    return [to_lapse, to_close]


def run_deadline_sweeps():
    application_sweeps.close_incomplete_applications(AFTER_PAYMENT_CLOSE)
    application_sweeps.lapse_unpaid_applications(AFTER_PAYMENT_CLOSE)


def build_applications(data, session):
    reviewer, manager = data.staff[0], data.staff[-1]
    submitted = _application(
        data, session, files={"insurance_pdf": marked_pdf(data), "degree_certificate": marked_pdf(data)}
    )
    submitted.record_verified_months(reviewer, 120)
    returned = _application(data, session)
    returned.return_for_correction(reviewer, data.mark("note"), now=DURING_REGISTRATION)
    in_person = _application(
        data, session, foreign=True, files={"insurance_pdf": marked_pdf(data), "passport_copy": marked_pdf(data)}
    )
    approved = _application(data, session)
    approve(approved, manager, note=data.mark("note"))
    rejected = _application(data, session)
    rejected.reject(reviewer, "other", note=data.mark("note"))
    withdrawn = _application(data, session)
    withdrawn.withdraw()
    paid = _application(data, session)
    approve(paid, reviewer)
    payment = Payment.objects.create(
        session=session,
        payment_code=data.mark("pay"),
        document_number=paid.candidate.document_number,
        name=paid.candidate.name,
        amount="176.00",
        paid_at=PAID_AT,
        note=data.mark("note"),
    )
    payment.apply(now=PAID_AT)
    # Nobody's application: only regional staff may see it; it still carries this office's markers.
    unmatched = Payment.objects.create(
        session=session,
        payment_code=data.mark("pay"),
        document_number=resident_id(),
        name=data.mark("name"),
        amount="176.00",
        paid_at=PAID_AT,
    )
    unmatched.apply(now=PAID_AT)
    data.searchable("code", payment.payment_code, unmatched.payment_code)
    data.searchable("name", unmatched.name)
    paid.refresh_from_db()
    return {
        "submitted": submitted,
        "returned": returned,
        "in_person": in_person,
        "approved": approved,
        "rejected": rejected,
        "withdrawn": withdrawn,
        "paid": paid,
    }


def _ticket(data, kind, **changes):
    name = data.mark("name")
    identity_changes = {"name": name} if "candidate" not in changes else None
    ticket = open_ticket(
        kind, data.office, identity_changes=identity_changes, contact={"email": data.email()}, **changes
    )
    data.own(ticket, ticket.candidate, ticket.detail)
    data.markers += [ticket.reference, ticket.candidate.document_number]
    data.searchable("reference", ticket.reference)
    data.searchable("name", ticket.candidate.name)
    return ticket


def build_tickets(data, session, paid_application):
    reviewer, manager = data.staff[0], data.staff[-1]
    now = AT_THE_COUNTER

    _ticket(data, Kind.PASSWORD_RESET)  # submitted

    working = _ticket(data, Kind.PASSWORD_RESET)
    working.verify(reviewer, data.mark("how"), now=now)
    working.start(reviewer, note=data.mark("note"), now=now)  # the reset itself is still to be recorded
    working.post_message(data.mark("msg"), by=reviewer, visible_to_candidate=True, now=now)
    working.post_message(data.mark("internal"), by=manager, visible_to_candidate=False, now=now)

    done = _ticket(data, Kind.PASSWORD_RESET)
    done.verify(reviewer, data.mark("how"), now=now)
    done.password_reset.record_reset(reviewer, now=now)
    done.complete(manager, note=data.mark("note"), now=now)

    proof = marked_pdf(data, "proof")
    identity_change = _ticket(
        data,
        Kind.INFO_CHANGE,
        old_name=data.mark("old"),
        new_name=data.mark("new"),
        proof=proof,
        proof_name=proof.original_name,
        new_photo=marked_png(data),
    )
    identity_change.verify(reviewer, data.mark("how"), now=now)
    identity_change.post_message(data.mark("internal"), by=reviewer, visible_to_candidate=False, now=now)

    registration = _ticket(
        data,
        Kind.INFO_CHANGE,
        candidate=paid_application.candidate,
        scope="registration",
        old_name="",
        new_name=data.mark("new"),
    )
    registration.verify(reviewer, data.mark("how"), now=now)
    registration.info_change.link_application(reviewer, paid_application, now=now)

    late = _ticket(data, Kind.INFO_CHANGE, scope="registration", old_name="", new_name=data.mark("new"))
    late.expire(AFTER_INFO_CHANGE_DEADLINE)

    scan = marked_pdf(data, "scan")
    deletion = _ticket(data, Kind.CERT_DELETION, statement=data.mark("statement"), statement_scan=scan)
    deletion.verify(reviewer, data.mark("how"), now=now)
    deletion.escalate(reviewer, data.mark("escalation"), now=now)

    to_escalate = _ticket(data, Kind.CERT_DELETION, statement=data.mark("statement"))
    to_escalate.verify(reviewer, data.mark("how"), now=now)

    receipt = marked_pdf(data, "receipt")
    refund = _ticket(data, Kind.REFUND, receipt=receipt, receipt_name=receipt.original_name)
    refund.verify(reviewer, data.mark("how"), now=now)
    refund.escalate(reviewer, data.mark("escalation"), now=now)
    refund.post_message(data.mark("msg"), by=manager, visible_to_candidate=True, now=now)
    listed = DuplicatePayment.objects.create(
        session=session,
        document_number=refund.candidate.document_number,
        name=refund.candidate.name,
        payment_codes=data.mark("codes"),
        amounts="176, 176",
        paid_at="2024-06-20, 2024-06-21",
        ticket=refund,
        note=data.mark("note"),
    )
    listed.ticket.refund.attach_list_data(
        {"payment_codes": listed.payment_codes, "amounts": listed.amounts, "paid_at": listed.paid_at}, now=now
    )
    # A row that matched no request: regional staff only; it carries this office's markers all the same.
    DuplicatePayment.objects.create(
        session=session,
        document_number=resident_id(),
        name=data.mark("name"),
        payment_codes=data.mark("codes"),
        amounts="176",
        paid_at="2024-06-20",
        note=data.mark("note"),
    )

    exemption = _ticket(data, Kind.EXEMPTION, school=data.mark("school"), certificate_number=data.mark("cert"))
    exemption.verify(reviewer, data.mark("how"), now=now)
    Exemption.objects.filter(ticket=exemption).update(
        id_card_seen=True, degree_certificate_seen=True, chsi_record_seen=True, application_form_seen=True
    )
    exemption.refresh_from_db()
    exemption.complete(manager, note=data.mark("note"), now=now)

    at_the_counter = _ticket(data, Kind.EXEMPTION, school=data.mark("school"))
    at_the_counter.verify(reviewer, data.mark("how"), now=now)
    Exemption.objects.filter(ticket=at_the_counter).update(id_card_seen=True)

    refused = _ticket(data, Kind.EXEMPTION, school=data.mark("school"))
    refused.reject(reviewer, data.mark("reason"), now=now)


def build_visits(data, in_person_application):
    """Counter visits (appointments): the office's hours, a closed day, booked, moved, checked-in and displaced
    visits of its requests."""
    from appointments import booking as visit_rules
    from appointments.models import DEFAULT_KINDS, ClosedDay, CounterSettings

    reviewer, now = data.staff[0], AT_THE_COUNTER
    tz = AT_THE_COUNTER.tzinfo
    settings_row = CounterSettings.objects.create(
        office=data.office, counters=3, kinds=DEFAULT_KINDS, visitor_note=data.mark("door")
    )
    booked = visit_rules.book(_ticket(data, Kind.PASSWORD_RESET), datetime.datetime(2024, 6, 26, 10, tzinfo=tz), now)
    moved = visit_rules.book(_ticket(data, Kind.PASSWORD_RESET), datetime.datetime(2024, 6, 26, 10, tzinfo=tz), now)
    visit_rules.move(moved.ticket, datetime.datetime(2024, 6, 26, 16, tzinfo=tz), now)
    visit_rules.check_in(booked, reviewer, datetime.datetime(2024, 6, 26, 9, 55, tzinfo=tz))
    displaced = visit_rules.book(_ticket(data, Kind.PASSWORD_RESET), datetime.datetime(2024, 6, 27, 10, tzinfo=tz), now)
    if in_person_application.status == "in_person_review":
        visit_rules.book(in_person_application, datetime.datetime(2024, 6, 26, 11, tzinfo=tz), now)
    closed = ClosedDay.objects.create(office=data.office, date=datetime.date(2024, 6, 27), note=data.mark("closed"))
    visit_rules.reconcile_office(data.office, now)
    data.own(settings_row, closed, *type(booked).objects.filter(office=data.office))
    assert type(displaced).objects.get(pk=displaced.pk).status == "displaced"


def build_history_and_outbox(data):
    """Admin history (change messages) of the office's objects, and failed emails a resend could pick up."""
    user = data.staff[-1]
    for model in (Application, Ticket, Office, User):
        rows = model.objects.filter(pk__in=data.owned.get(model, ()))
        AdminLogEntry.objects.log_actions(user.pk, rows, CHANGE, change_message=data.mark("history"))
    failing = OutboxMessage.objects.filter(office=data.office).order_by("pk")[:3]
    for message in failing:
        message.record_failure(OSError(data.mark("smtp")), retry=False)
    build_spreadsheet_job(data, user)


def build_spreadsheet_job(data, user):
    """Background jobs of the office's staff (django-import-export-extensions): a finished export, its file
    holding a marker, and a payment import waiting for confirmation, its file and unmatched row holding markers.
    They are never run: the world is rolled back, so the tasks queued on commit are never sent."""
    from import_export_extensions.models import ExportJob, ImportJob
    from import_export_extensions.results import Result

    export = ExportJob(
        resource_path="applications.resources.ApplicationExportResource",
        file_format_path="import_export.formats.base_formats.CSV",
        resource_kwargs={"language": "en"},
        created_by=user,
        export_status=ExportJob.ExportStatus.EXPORTED,
    )
    export.data_file.save(
        f"{data.mark('export')}.csv", ContentFile(f"reference\n{data.mark('row')}\n".encode()), save=False
    )
    export.save()
    result = Result()
    result.unmatched_rows = [("650103********0012", data.mark("unmatched"))]
    ImportJob.objects.create(
        resource_path="applications.resources.PaymentResource",
        resource_kwargs={"session": ExamSession.objects.get(year=2024).pk, "language": "en"},
        data_file=ContentFile(f"{data.mark('upload')}\n".encode(), name=f"{data.mark('payments')}.csv"),
        created_by=user,
        import_status=ImportJob.ImportStatus.PARSED,
        result=result,
    )


def build_world():
    """Both offices' data; returns {office code: OfficeData}."""
    named_staff = create_staff()
    session = ExamSession.objects.get(year=2024)
    world = {code: prepare_office(code, named_staff) for code in (URUMQI, KASHGAR)}
    for data in world.values():
        build_applications_before_the_deadlines(data, session)
    run_deadline_sweeps()
    for data in world.values():
        applications = build_applications(data, session)
        build_tickets(data, session, applications["paid"])
        build_visits(data, applications["in_person"])
        build_history_and_outbox(data)
    return world, named_staff


def office_owned(model):
    return hasattr(model, "office_lookup")


def pks_of_office(model, code, world_data):
    """The rows of `model` that belong to office `code`: by the model's office lookup, by a foreign key to an
    office-owned model, or (the audit log) by the object an entry is about."""
    if office_owned(model):
        return set(model._default_manager.filter(**{model.office_lookup: code}).values_list("pk", flat=True))
    paths = [
        f"{f.name}__{f.related_model.office_lookup}"
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is not None and office_owned(f.related_model)
    ]
    query = models.Q(pk__in=[])
    for path in paths:
        query |= models.Q(**{path: code})
    names = {f.name for f in model._meta.concrete_fields}
    if {"content_type", "object_pk"} <= names:  # a generic relation: the audit log's entries
        from django.contrib.contenttypes.models import ContentType

        for owned_model, pks in world_data.owned.items():
            query |= models.Q(
                content_type=ContentType.objects.get_for_model(owned_model), object_pk__in=[str(pk) for pk in pks]
            )
    return set(model._default_manager.filter(query).values_list("pk", flat=True))
