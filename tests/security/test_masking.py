"""Document numbers are masked wherever staff or logs see them; the full number only in the change view, with
the permission, and each such view is recorded in the audit log."""

import csv
import datetime
import io
import json
import logging

import pytest
from auditlog.models import LogEntry as AuditEntry
from django.contrib.admin.models import CHANGE
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from applications import sweeps
from applications.models import Candidate
from core import id_numbers
from core.privacy import mask_text
from notifications.models import OutboxMessage
from tests.applications.admin_helpers import CHANGELIST, application, change_url, decide_url, staff_client
from tests.factories import approve, resident_id
from tickets.models import IdentityChange, Kind

from .conftest import open_ticket

pytestmark = pytest.mark.django_db

NUMBER = resident_id(birth="19880412", area="650102")
MASKED = id_numbers.mask("resident_id", NUMBER)


@pytest.fixture
def submitted(session_2024, urumqi):
    """An application of the candidate holding NUMBER, in Ürümqi, with a received email queued."""
    return application(session_2024, urumqi, identity_changes={"document_number": NUMBER, "name": "马晓"})


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


def test_decision_page_and_history_are_masked(client, regional_admin, submitted):
    client = staff_client(client, regional_admin)
    for url in (decide_url(submitted, "approve"), f"{CHANGELIST}{submitted.pk}/history/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert NUMBER not in response.content.decode(), url


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
