"""Document numbers are masked wherever staff or logs see them; the full number only in the change views of an
application and of a request, with the permission, and each such view is recorded in the audit log. A walk over
every admin page proves there is no third place."""

import csv
import datetime
import html
import io
import json
import logging
import re
from urllib.parse import urljoin, urlsplit

import pytest
from auditlog.models import LogEntry as AuditEntry
from django.contrib import admin
from django.contrib.admin.models import CHANGE
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from applications import sweeps
from applications.models import Candidate, Payment
from core import id_numbers
from core.privacy import mask_text
from notifications.models import OutboxMessage
from tests.applications.admin_helpers import CHANGELIST, application, change_url, decide_url, staff_client
from tests.factories import approve, resident_id
from tickets.models import DuplicatePayment, IdentityChange, Kind

from .conftest import open_ticket

# Decisions on the 2024 session's applications while they still have effect (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("during_the_2024_session")]

NUMBER = resident_id(birth="19880412", area="650102")
MASKED = id_numbers.mask("resident_id", NUMBER)
NEW_NUMBER = resident_id(birth="19880412", area="650105")  # the number an information change asks for
NEW_MASKED = id_numbers.mask("resident_id", NEW_NUMBER)


@pytest.fixture
def submitted(session_2024, urumqi):
    """An application of the candidate holding NUMBER, in Ürümqi, with a received email queued."""
    return application(session_2024, urumqi, identity_changes={"document_number": NUMBER, "name": "马晓"})


@pytest.fixture
def info_change(submitted, urumqi):
    """The same candidate's request to change the registered document number: old and new number."""
    return open_ticket(
        Kind.INFO_CHANGE,
        urumqi,
        {"scope": "platform_identity", "old_document_number": NUMBER, "new_document_number": NEW_NUMBER},
        candidate_identity={
            "document_type": "resident_id",
            "document_number": NUMBER,
            "name": "马晓",
            "birth_date": datetime.date(1988, 4, 12),
            "gender": "M",
        },
    )


def ticket_change_url(ticket):
    return f"/admin/tickets/ticket/{ticket.pk}/change/"


def without_echo(html, term):
    """The page without what echoes the staff member's own search: the search box (value="…") and the links
    that keep the search (?q=…, _changelist_filters=q%3D…). The rows themselves must show no full number."""
    return html.replace(f'value="{term}"', "").replace(f"q={term}", "").replace(f"q%3D{term}", "")


def everything_in(entries):
    return json.dumps(
        [[e.object_repr, e.changes, e.changes_text, e.additional_data] for e in entries], ensure_ascii=False
    )


def test_masks_resident_id_shapes_in_free_text():
    assert mask_text(f"Key (document_number)=({NUMBER}) exists") == f"Key (document_number)=({MASKED}) exists"
    assert mask_text("ABC123456789012 and 650102********123X") == "AB***********12 and 650102********123X"
    # Not a number of the ID layout: longer runs, payment codes, phones.
    for text in ("20240702123456789012", "PAY-0001", "13800000000", f"x{NUMBER}"):
        assert mask_text(text) == text


# Lists, search, autocomplete -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["reviewer_urumqi", "regional_admin"])
def test_changelist_shows_the_masked_number(client, staff, submitted, who):
    html = staff_client(client, staff[who]).get(CHANGELIST).content.decode()
    assert submitted.reference in html
    assert MASKED in html
    assert NUMBER not in html


@pytest.mark.parametrize("who", ["reviewer_urumqi", "regional_admin"])
def test_search_by_the_full_number_finds_the_application_and_shows_it_masked(client, staff, submitted, who):
    response = staff_client(client, staff[who]).get(CHANGELIST, {"q": NUMBER})
    html = response.content.decode()
    assert submitted.reference in html and MASKED in html
    # The only full number on the page is the one the staff member typed into the search box.
    assert NUMBER not in without_echo(html, NUMBER)


def test_autocomplete_never_returns_a_full_number(client, regional_admin, submitted):
    from django.contrib import admin

    client = staff_client(client, regional_admin)
    for model, model_admin in admin.site._registry.items():
        for field_name in model_admin.autocomplete_fields:
            params = {
                "term": NUMBER,
                "app_label": model._meta.app_label,
                "model_name": model._meta.model_name,
                "field_name": field_name,
            }
            response = client.get("/admin/autocomplete/", params)
            assert NUMBER not in response.content.decode(), (model, field_name)


# Change view: full number with the permission, and recorded ----------------------------------------------


def test_staff_with_the_permission_see_the_full_number_and_the_view_is_recorded(client, regional_admin, submitted):
    assert regional_admin.has_perm("applications.view_full_document_number")
    client = staff_client(client, regional_admin)

    html = client.get(change_url(submitted), REMOTE_ADDR="198.51.100.9").content.decode()

    assert NUMBER in html
    access = AuditEntry.objects.get(action=AuditEntry.Action.ACCESS)
    assert access.content_type.model_class() is Candidate
    assert access.object_id == submitted.candidate_id
    assert (access.actor, access.remote_addr) == (regional_admin, "198.51.100.9")
    assert access.additional_data == {"shown": "full document number", "application": submitted.reference}
    assert NUMBER not in everything_in([access])

    client.get(change_url(submitted))
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).count() == 2  # each view


def test_staff_without_the_permission_see_it_masked_and_nothing_is_recorded(client, reviewer_urumqi, submitted):
    assert not reviewer_urumqi.has_perm("applications.view_full_document_number")
    html = staff_client(client, reviewer_urumqi).get(change_url(submitted)).content.decode()
    assert MASKED in html
    assert NUMBER not in html
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).exists()


def test_the_request_change_view_shows_old_and_new_number_with_the_permission_and_is_recorded(
    client, regional_admin, info_change
):
    client = staff_client(client, regional_admin)

    html = client.get(ticket_change_url(info_change), REMOTE_ADDR="198.51.100.9").content.decode()

    assert NUMBER in html and NEW_NUMBER in html
    access = AuditEntry.objects.get(action=AuditEntry.Action.ACCESS)
    assert access.content_type.model_class() is Candidate
    assert access.object_id == info_change.candidate_id
    assert (access.actor, access.remote_addr) == (regional_admin, "198.51.100.9")
    assert access.additional_data == {"shown": "full document number", "ticket": info_change.reference}
    assert NUMBER not in everything_in([access]) and NEW_NUMBER not in everything_in([access])


def test_the_request_change_view_without_the_permission_is_masked_and_not_recorded(
    client, reviewer_urumqi, info_change
):
    html = staff_client(client, reviewer_urumqi).get(ticket_change_url(info_change)).content.decode()
    assert MASKED in html and NEW_MASKED in html
    assert NUMBER not in html and NEW_NUMBER not in html
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).exists()


def test_decision_page_and_history_are_masked(client, regional_admin, submitted):
    client = staff_client(client, regional_admin)
    for url in (decide_url(submitted, "approve"), f"{CHANGELIST}{submitted.pk}/history/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert NUMBER not in response.content.decode(), url


# Every admin page: the two change views above are the only ones with a full number ---------------------------

FULL_NUMBER_VIEWS = {"applications/application", "tickets/ticket"}
OBJECTS_PER_MODEL = 12


@pytest.fixture
def everything(client, regional_admin, reviewer_urumqi, session_2024, submitted, info_change):
    """Rows of every kind that hold or point to the number: payments and duplicate-payment rows imported for it,
    a decision (admin history, audit entries, an email), a message on the request."""
    staff_client(client, reviewer_urumqi).post(decide_url(submitted, "approve"), {"note": f"ID {NUMBER} checked"})
    client.logout()
    Payment.objects.create(
        session=session_2024,
        payment_code="PAY-1",
        document_number=NUMBER,
        name="马晓",
        amount=300,
        paid_at=datetime.datetime(2024, 7, 1, 10, tzinfo=datetime.UTC),
        application=submitted,
    )
    DuplicatePayment.objects.create(
        session=session_2024,
        document_number=NUMBER,
        name="马晓",
        payment_codes="PAY-1, PAY-2",
        amounts="300, 300",
        paid_at="2024-07-01, 2024-07-01",
    )
    info_change.post_message(f"Bring the card {NEW_NUMBER}", by=reviewer_urumqi, visible_to_candidate=False)


def admin_pages(client, user):
    """GET paths of every admin page `user` can reach from the registered models: each changelist (plain and
    searched by the full number), the add, change, history and delete pages of their objects, and every admin
    link and form target on the changelists and change pages (steps, decisions, downloads, imports, exports,
    queues and summaries)."""
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    pages, linking = {"/admin/"}, set()  # linking: the pages whose links are followed too
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_view_or_change_permission(request):
            continue
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        linking.add(base)
        pages |= {f"{base}?q={NUMBER}", f"{base}?q={NEW_NUMBER}", f"{base}add/"}
        for pk in model_admin.get_queryset(request).values_list("pk", flat=True)[:OBJECTS_PER_MODEL]:
            linking.add(f"{base}{pk}/change/")
            pages |= {f"{base}{pk}/history/", f"{base}{pk}/delete/"}
    for page in sorted(linking):
        text = client.get(page).content.decode()
        for target in re.findall(r'(?:href|action)="([^"#]*)"', text):
            path = urlsplit(urljoin(page, html.unescape(target))).path
            if path.startswith("/admin/") and "logout" not in path:
                pages.add(path)
    return sorted(pages | linking)


def page_text(response):
    """Headers and body (a file's bytes too), without the echo of a search for either number."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", "replace") + "\n".join(f"{name}: {value}" for name, value in response.items())
    return without_echo(without_echo(text, NUMBER), NEW_NUMBER)


def shown_full(response):
    text = page_text(response)
    return [number for number in (NUMBER, NEW_NUMBER) if number in text]


def view_of(path):
    return "/".join(path.split("/")[2:4])


@pytest.mark.usefixtures("everything")
def test_no_other_admin_page_shows_a_full_number_and_each_one_that_does_is_recorded(client, regional_admin):
    client = staff_client(client, regional_admin)
    pages = admin_pages(client, regional_admin)
    assert len(pages) > 60  # the walk reached the models, their objects and the custom views
    AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).delete()

    showing = {}
    for page in pages:
        before = AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).count()
        response = client.get(page)
        assert response.status_code < 500, page
        recorded = AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).count() - before
        if shown_full(response):
            showing[page] = shown_full(response)
            assert recorded == 1, f"{page} shows a full number without an access entry"

    assert {view_of(page) for page in showing} == FULL_NUMBER_VIEWS, showing
    assert all(page.endswith("/change/") for page in showing), showing
    assert any(NEW_NUMBER in numbers for numbers in showing.values())  # the request's new number too


@pytest.mark.usefixtures("everything")
@pytest.mark.parametrize("who", ["reviewer_urumqi", "manager_urumqi"])
def test_without_the_permission_no_admin_page_shows_a_full_number(client, staff, who):
    user = staff[who]
    assert not user.has_perm("applications.view_full_document_number")
    client = staff_client(client, user)
    leaks = {}
    for page in admin_pages(client, user):
        text = page_text(client.get(page))
        for number in (NUMBER, NEW_NUMBER):
            if number in text:
                at = text.index(number)
                leaks.setdefault(page, []).append(text[at - 200 : at + 40])
    assert leaks == {}, leaks
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).exists()


# Admin history, audit entries, emails, exports -------------------------------------------------------------


def test_admin_log_entries_after_a_decision_are_masked(client, reviewer_urumqi, submitted):
    client = staff_client(client, reviewer_urumqi)
    assert (
        client.post(
            decide_url(submitted, "approve"), {"note": f"ID {NUMBER} checked", "override": f"ID {NUMBER} seen"}
        ).status_code
        == 302
    )

    entries = AdminLogEntry.objects.all()
    assert entries.exists()
    for entry in entries:
        assert NUMBER not in entry.object_repr + entry.change_message


def test_admin_log_entries_are_masked_whatever_the_object_says(reviewer_urumqi, submitted):
    # A __str__ or a message that carries a number (an identity change, a note) is masked on the way in.
    AdminLogEntry.objects.log_actions(
        reviewer_urumqi.pk, [submitted], CHANGE, change_message=f"number {NUMBER}", single_object=True
    )
    submitted.reference = NUMBER  # what a careless __str__ would print
    AdminLogEntry.objects.log_actions(reviewer_urumqi.pk, [submitted], CHANGE, single_object=True)
    for entry in AdminLogEntry.objects.all():
        assert NUMBER not in entry.object_repr + entry.change_message
        assert MASKED in entry.object_repr + entry.change_message


def test_audit_entries_never_hold_a_full_number(client, reviewer_urumqi, session_2024, urumqi, submitted):
    client = staff_client(client, reviewer_urumqi)
    client.post(decide_url(submitted, "return"), {"note": f"身份证号 {NUMBER} 与照片不符"})
    candidate = submitted.candidate
    candidate.name = "马晓明"
    candidate.save()
    open_ticket(
        Kind.INFO_CHANGE,
        urumqi,
        {"scope": "platform_identity", "old_document_number": NUMBER, "new_document_number": resident_id()},
        candidate_identity={
            "document_type": "resident_id",
            "document_number": NUMBER,
            "name": "马晓",
            "birth_date": datetime.date(1988, 4, 12),
            "gender": "M",
        },
    )

    entries = AuditEntry.objects.all()
    assert entries.filter(content_type__model="candidate").exists()
    assert entries.filter(content_type__model="infochange").exists()
    assert NUMBER not in everything_in(entries)
    assert MASKED in everything_in(entries)


def test_identity_changes_print_masked_numbers(urumqi, submitted):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi, {"platform": "xinjiang"})
    change = IdentityChange(
        candidate=submitted.candidate, ticket=ticket, field="document_number", old_value=NUMBER, new_value=NUMBER
    )
    assert str(change) == f"document_number: {MASKED} → {MASKED}"


def test_emails_are_masked(client, reviewer_urumqi, manager_urumqi, session_2024, urumqi, submitted):
    staff_client(client, reviewer_urumqi).post(decide_url(submitted, "approve"), {"note": ""})
    # And a staff email: an overdue application is escalated to the office's manager.
    overdue = application(session_2024, urumqi, identity_changes={"document_number": resident_id(area="650103")})
    manager_urumqi.email = "manager@example.com"
    manager_urumqi.save()
    sweeps.escalate_overdue_applications(overdue.due_at + datetime.timedelta(hours=1))
    assert OutboxMessage.objects.filter(recipient="manager@example.com").exists()

    messages = OutboxMessage.objects.all()
    assert messages.count() >= 4  # received (2), approved, escalation
    for message in messages:
        subject, body = message.render()
        shown = json.dumps(message.context, ensure_ascii=False) + subject + body
        assert NUMBER not in shown and overdue.candidate.document_number not in shown


def test_exports_are_masked(client, regional_admin, reviewer_urumqi, submitted):
    approve(submitted, reviewer_urumqi)
    columns = ("reference", "office", "document_number", "name", "qualification", "status", "decided_by")
    data = {"format": "1", "resource": "0", **{f"applicationexportresource_{c}": "on" for c in columns}}
    response = staff_client(client, regional_admin).post(f"{CHANGELIST}export/", data)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert [submitted.reference, MASKED] == [rows[1][0], rows[1][2]]
    assert NUMBER not in response.content.decode("utf-8")


def test_payment_import_preview_is_masked(client, regional_admin, reviewer_urumqi, session_2024, submitted):
    approve(submitted, reviewer_urumqi)
    upload = SimpleUploadedFile(
        "payments.csv",
        f"document_number,name,amount,paid_at,payment_code\n{NUMBER},马晓,300,2024-07-01 10:30,PAY-9\n".encode(),
    )
    response = staff_client(client, regional_admin).post(
        "/admin/applications/payment/import/",
        {"import_file": upload, "format": "1", "resource": "0", "session": session_2024.pk},
    )
    html = response.content.decode()
    assert "PAY-9" in html and MASKED in html
    assert NUMBER not in html


# Application logs -------------------------------------------------------------------------------------------


def test_log_lines_and_tracebacks_are_masked(log_output):
    logger = logging.getLogger("applications.views")
    logger.warning("lookup failed for %s", NUMBER)
    try:
        raise ValueError(f"duplicate key ({NUMBER})")
    except ValueError:
        logger.exception("could not save candidate %(number)s", {"number": NUMBER})

    written = log_output.getvalue()
    assert f"lookup failed for {MASKED}" in written
    assert f"ValueError: duplicate key ({MASKED})" in written
    assert NUMBER not in written
