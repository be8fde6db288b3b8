"""Builders for request tickets (through Ticket.open_request, as the public forms file them) and the
helpers the admin tests share (test_admin_*.py)."""

import datetime
import uuid

from django.conf import settings
from django.contrib.messages import get_messages

from applications.models import Candidate, ExamSession
from core.references import new_reference
from offices.workdays import BEIJING
from tests.factories import identity, pdf_file
from tickets.models import DETAIL_MODELS, REFERENCE_PREFIX, Kind, Ticket, TicketEvent

INBOX = "/admin/tickets/ticket/"
ESCALATIONS = f"{INBOX}escalations/"
EXEMPTION_SUMMARY = f"{INBOX}exemption-summary/"
DUPLICATES = "/admin/tickets/duplicatepayment/"


def at(*args):
    return datetime.datetime(*args, tzinfo=BEIJING)


FIRST_REGISTRATION_DAY = at(2024, 6, 20, 9)


def default_details(kind):
    return {
        Kind.PASSWORD_RESET: lambda: {"platform": "xinjiang"},
        Kind.INFO_CHANGE: lambda: {"scope": "platform_identity", "old_name": "张三", "new_name": "张珊"},
        Kind.CERT_DELETION: lambda: {"statement": "我忘记了全国平台账号的邮箱，申请删除实名认证信息。"},
        Kind.REFUND: lambda: {
            "source": "candidate_report",
            "payment_codes": "6500001, 6500002",
            "amounts": "176, 176",
            "paid_at": "2024-06-20, 2024-06-21",
        },
        Kind.EXEMPTION: lambda: {
            "degree": "mpacc",
            "certificate_number": "1075532015000123",
            "school": "新疆财经大学",
            "graduation_date": datetime.date(2015, 6, 30),
        },
    }[kind]()


def open_ticket(
    kind,
    office,
    *,
    session=None,
    now=None,
    identity_changes=None,
    contact=None,
    platform=None,
    candidate=None,
    **detail_changes,
):
    """A request as the public form files it (status submitted), on the first registration day by default.
    Exemptions and registration-info changes belong to the 2024 session unless another is given."""
    needs_session = kind == Kind.EXEMPTION or detail_changes.get("scope") == "registration"
    if session is None and needs_session:
        session = ExamSession.objects.get(year=2024)
    details = {**default_details(kind), **detail_changes}
    if candidate is not None:
        person = {f: getattr(candidate, f) for f in ("document_type", "document_number", "name", "birth_date")}
        person.update(gender=candidate.gender, nationality=candidate.nationality)
    else:
        person = identity(**(identity_changes or {}))
    ticket, _created = Ticket.open_request(
        kind=kind,
        office=office,
        identity=person,
        contact={"email": "candidate@example.com", "phone": "13800000000", "language": "zh-hans", **(contact or {})},
        detail_fields=details,
        submission_key=uuid.uuid4().hex,
        session=session,
        platform=details.get("platform", "") if platform is None else platform,
        now=now or FIRST_REGISTRATION_DAY,
    )
    return ticket


def with_file(field, name="proof.pdf"):
    upload = pdf_file(name)
    return {field: upload, f"{field}_name": name}


def clone_tickets(template, count):
    """`count` more tickets like `template`, each of its own candidate, written in bulk (fast)."""
    from tests.factories import resident_id

    candidate = template.candidate
    candidates = Candidate.objects.bulk_create(
        [
            Candidate(
                document_type=candidate.document_type,
                document_number=resident_id(area=f"{652000 + n}"),
                name=f"{candidate.name}{n}",
                birth_date=candidate.birth_date,
                gender=candidate.gender,
            )
            for n in range(count)
        ]
    )
    skip = {"id", "reference", "status_token", "submission_key", "candidate", "scope_key"}
    values = {f.attname: getattr(template, f.attname) for f in Ticket._meta.concrete_fields if f.name not in skip}
    tickets = Ticket.objects.bulk_create(
        [
            Ticket(
                **values,
                candidate=new,
                scope_key=template.scope_key,
                reference=new_reference(REFERENCE_PREFIX[template.kind]),
                status_token=uuid.uuid4().hex,
                submission_key=uuid.uuid4().hex,
            )
            for new in candidates
        ]
    )
    detail = template.detail
    detail_values = {f.attname: getattr(detail, f.attname) for f in detail._meta.concrete_fields if f.name != "ticket"}
    DETAIL_MODELS[template.kind].objects.bulk_create(
        [DETAIL_MODELS[template.kind](**{**detail_values, "ticket_id": ticket.pk}) for ticket in tickets]
    )
    TicketEvent.objects.bulk_create(
        [
            TicketEvent(ticket=ticket, at=ticket.submitted_at, actor="candidate", to_status=ticket.status)
            for ticket in tickets
        ]
    )
    return tickets


def staff_client(client, user):
    """The test client logged in as `user`, with the admin in English (the default is Chinese)."""
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def change_url(ticket):
    return f"{INBOX}{ticket.pk}/change/"


def step_url(ticket, slug):
    return f"{INBOX}{ticket.pk}/step/{slug}/"


def file_url(ticket, field):
    return f"{INBOX}{ticket.pk}/file/{field}/"


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def rows(response):
    """References shown in the changelist's result table."""
    return [ticket.reference for ticket in response.context["cl"].result_list]
