"""Uploaded files are deleted PORTAL_UPLOAD_RETENTION_DAYS days after their session's last exam day (requests
without a session: after they were closed), with a history note and an audit entry; running again changes nothing."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.core.files.storage import default_storage

from applications.models import ApplicationEvent
from portal import sweeps as portal_sweeps
from portal.retention import delete_expired_uploads
from tests.applications.admin_helpers import application
from tests.factories import pdf_file
from tickets.models import Kind, TicketEvent

from .conftest import at, open_ticket

pytestmark = pytest.mark.django_db

# The 2024 exam ends on 9 September 2024: with 365 days, files go from 9 September 2025 (Beijing time).
DUE = at(2025, 9, 9)
DAY_BEFORE = at(2025, 9, 8, 23, 59)


def stored(field_file):
    return bool(field_file) and default_storage.exists(field_file.name)


@pytest.fixture
def with_files(session_2024, urumqi):
    app = application(
        session_2024,
        urumqi,
        files={"insurance_pdf": pdf_file("社保.pdf"), "degree_certificate": pdf_file("学位证.pdf")},
    )
    assert stored(app.insurance_pdf) and stored(app.degree_certificate)
    return app


def test_files_stay_until_the_retention_period_is_over(with_files):
    assert delete_expired_uploads(DAY_BEFORE).endswith(": 0 applications, 0 requests")
    with_files.refresh_from_db()
    assert stored(with_files.insurance_pdf) and stored(with_files.degree_certificate)


def test_files_are_deleted_and_the_deletion_recorded(with_files):
    names = (with_files.insurance_pdf.name, with_files.degree_certificate.name)

    summary = delete_expired_uploads(DUE)

    assert summary == "uploads deleted after the retention period: 1 applications, 0 requests"
    with_files.refresh_from_db()
    assert not with_files.insurance_pdf and not with_files.degree_certificate
    assert with_files.insurance_pdf_name == "" and with_files.degree_certificate_name == ""
    assert not any(default_storage.exists(name) for name in names)
    # A history note, shown with the application ...
    note = ApplicationEvent.objects.filter(application=with_files).latest("pk")
    assert (note.actor, note.from_status, note.to_status) == ("system", with_files.status, with_files.status)
    assert "365" in note.note
    # ... and an audit entry of the change, without an actor.
    entry = LogEntry.objects.get_for_object(with_files).filter(action=LogEntry.Action.UPDATE).latest("pk")
    assert entry.actor is None
    assert entry.changes["insurance_pdf"] == [names[0], ""]
    assert entry.changes["degree_certificate"] == [names[1], ""]
    assert entry.additional_data["reason"]


def test_running_again_changes_nothing(with_files):
    delete_expired_uploads(DUE)
    events, entries = ApplicationEvent.objects.count(), LogEntry.objects.count()

    assert delete_expired_uploads(DUE + datetime.timedelta(days=1)).endswith(": 0 applications, 0 requests")
    assert (ApplicationEvent.objects.count(), LogEntry.objects.count()) == (events, entries)


def test_a_file_already_gone_is_cleared_too(with_files):
    # An earlier run deleted the file and then failed before its commit: the next run finishes the job.
    default_storage.delete(with_files.insurance_pdf.name)
    delete_expired_uploads(DUE)
    with_files.refresh_from_db()
    assert not with_files.insurance_pdf and not with_files.degree_certificate


def test_the_period_is_a_setting(settings, with_files):
    settings.PORTAL_UPLOAD_RETENTION_DAYS = 30
    assert delete_expired_uploads(at(2024, 10, 8, 23)).endswith(": 0 applications, 0 requests")
    assert delete_expired_uploads(at(2024, 10, 9)).endswith(": 1 applications, 0 requests")


def test_the_sweep_is_registered(settings, with_files):
    assert "portal.retention.delete_expired_uploads" in settings.PORTAL_SWEEPS
    summaries = dict(portal_sweeps.run_all(DUE))
    assert summaries["portal.retention.delete_expired_uploads"].endswith(": 1 applications, 0 requests")


# Requests ---------------------------------------------------------------------------------------------------------


def test_closed_requests_of_the_session_lose_their_files_open_ones_keep_them(session_2024, urumqi, reviewer_urumqi):
    details = {
        "scope": "platform_identity",
        "old_name": "张三",
        "new_name": "张珊",
        "proof": pdf_file("改名证明.pdf"),
        "proof_name": "改名证明.pdf",
    }
    closed = open_ticket(Kind.INFO_CHANGE, urumqi, dict(details), session=session_2024)
    still_open = open_ticket(Kind.INFO_CHANGE, urumqi, {**details, "proof": pdf_file()}, session=session_2024)
    closed.reject(reviewer_urumqi, "no proof of the change", now=at(2024, 6, 21, 9))
    proof = closed.info_change.proof.name

    assert delete_expired_uploads(DUE) == "uploads deleted after the retention period: 0 applications, 1 requests"

    closed.info_change.refresh_from_db()
    assert not closed.info_change.proof and closed.info_change.proof_name == ""
    assert not default_storage.exists(proof)
    assert stored(still_open.info_change.proof)
    note = TicketEvent.objects.filter(ticket=closed).latest("pk")
    assert note.actor == "system" and note.from_status == note.to_status == "rejected"
    entry = LogEntry.objects.get_for_object(closed.info_change).latest("pk")
    assert entry.changes["proof"] == [proof, ""]


def test_requests_without_a_session_keep_their_files_for_the_period_after_closing(urumqi, reviewer_urumqi):
    scan = {"statement": "lost email", "statement_scan": pdf_file(), "statement_scan_name": "s.pdf"}
    deletion = open_ticket(Kind.CERT_DELETION, urumqi, scan)
    refund = open_ticket(
        Kind.REFUND, urumqi, {"source": "candidate_report", "receipt": pdf_file(), "receipt_name": "回单.pdf"}
    )
    closed_at = at(2024, 8, 1, 10)
    deletion.reject(reviewer_urumqi, "not needed", now=closed_at)
    refund.reject(reviewer_urumqi, "not a duplicate", now=closed_at)

    assert delete_expired_uploads(closed_at + datetime.timedelta(days=364)).endswith(", 0 requests")
    assert delete_expired_uploads(closed_at + datetime.timedelta(days=365)).endswith(", 2 requests")

    deletion.cert_deletion.refresh_from_db()
    refund.refund.refresh_from_db()
    assert not deletion.cert_deletion.statement_scan and not refund.refund.receipt
    assert delete_expired_uploads(closed_at + datetime.timedelta(days=400)).endswith(", 0 requests")
