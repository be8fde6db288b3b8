"""Steps of the change view: each calls the model's method; refusals are admin messages and write nothing."""

import datetime
import re
import threading

import pytest
import time_machine
from django.db import connection
from django.test import Client

from applications.models import Application
from notifications.models import OutboxMessage
from tests.factories import approve, resident_id, submit_application
from tests.tickets.factories import (
    at,
    change_url,
    file_url,
    messages_of,
    open_ticket,
    staff_client,
    step_url,
    with_file,
)
from tickets.models import CannedReply, IdentityChange, Kind, Status, Ticket, TicketEvent, TicketMessage

pytestmark = pytest.mark.django_db

# The shape of the fixed reset password of FAQ 4 (see tests/public/test_pages.py).
PASSWORD_SHAPE = re.compile(r"[A-Za-z]{2,8}\*\d{2,8}")
BEFORE_EXEMPTION_DEADLINE = at(2024, 6, 25, 10)


def post_step(client, ticket, slug, data=None):
    """POST a step; returns the messages shown on the change page it leads back to."""
    response = client.post(step_url(ticket, slug), data or {}, follow=True)
    assert response.redirect_chain == [(change_url(ticket), 302)], response.content.decode()[-2000:]
    return [str(message) for message in response.context["messages"]]


def step_labels(client, ticket):
    response = client.get(change_url(ticket))
    assert response.status_code == 200
    return [str(label) for _url, label, _regional in response.context["steps"]]


def events(ticket):
    return list(TicketEvent.objects.filter(ticket=ticket).values_list("to_status", "note"))


def candidate_emails(ticket):
    return OutboxMessage.objects.filter(dedup_key__startswith=f"ticket:{ticket.pk}:").order_by("pk")


# Password reset ---------------------------------------------------------------------------------------------


def test_password_reset_verify_start_record_complete(client, urumqi, reviewer_urumqi):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    client = staff_client(client, reviewer_urumqi)
    # The step-by-step path stays for a counter that cannot reset at once (see test_counter_rounds.py).
    assert "Verify identity" in step_labels(client, ticket)

    form = client.get(step_url(ticket, "verify"))
    assert form.status_code == 200 and "How the identity was verified" in form.content.decode()
    # “Other” needs words: the form says so and nothing is written.
    assert client.post(step_url(ticket, "verify"), {"method": "other", "other": "  "}).status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).status == Status.SUBMITTED

    assert post_step(client, ticket, "verify", {"method": "other", "other": "resident ID card original"}) == [
        f"Identity verified for {ticket.reference}."
    ]
    post_step(client, ticket, "start", {"note": ""})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assigned_to, ticket.identity_verified_how) == (
        Status.IN_PROGRESS,
        reviewer_urumqi,
        "resident ID card original",
    )

    page = client.get(step_url(ticket, "record-reset")).content.decode()
    assert 'type="password"' not in page and "Never type, write down or send the password" in page
    post_step(client, ticket, "record-reset")
    assert "Record that the reset was done" not in step_labels(client, ticket)
    assert post_step(client, ticket, "complete", {"note": ""}) == [
        f"{ticket.reference} completed; the candidate is told by email."
    ]
    ticket.refresh_from_db()
    assert ticket.status == Status.COMPLETED and ticket.password_reset.reset_done_at is not None
    assert [to for to, _note in events(ticket)] == ["submitted", "verified", "in_progress", "in_progress", "completed"]

    last = candidate_emails(ticket).last()
    assert last.recipient == "candidate@example.com"
    subject, body = last.context["subject"], last.context["body"]
    assert "重置" in body or "reset" in body.lower()
    pages = [client.get(change_url(ticket)).content.decode(), page]
    for text in [subject, body, *pages, *(m.context["body"] for m in candidate_emails(ticket))]:
        assert not PASSWORD_SHAPE.search(text)


def test_complete_before_the_kinds_step_is_a_message_and_writes_nothing(client, urumqi, reviewer_urumqi):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    ticket.verify(reviewer_urumqi, "ID card")
    before, emails = events(ticket), candidate_emails(ticket).count()
    client = staff_client(client, reviewer_urumqi)
    assert post_step(client, ticket, "complete", {"note": ""}) == ["Record that the password was reset first."]
    assert Ticket.objects.get(pk=ticket.pk).status == Status.VERIFIED
    assert events(ticket) == before and candidate_emails(ticket).count() == emails


def test_a_step_the_status_no_longer_allows_is_a_message(client, urumqi, reviewer_urumqi):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    ticket.reject(reviewer_urumqi, "came without ID")
    client = staff_client(client, reviewer_urumqi)
    assert step_labels(client, ticket) == ["Message the candidate", "Add an internal note"]
    message = post_step(client, ticket, "verify", {"method": "other", "other": "ID card"})
    assert message == [f"{ticket.reference} is “Rejected”: this step is not possible now."]
    assert Ticket.objects.get(pk=ticket.pk).status == Status.REJECTED


def test_verify_after_the_in_person_deadline_shows_the_models_refusal(client, session_2024, urumqi, reviewer_urumqi):
    ticket = open_ticket(Kind.EXEMPTION, urumqi)
    client = staff_client(client, reviewer_urumqi)
    with time_machine.travel(at(2024, 7, 2, 12), tick=False):  # the exemption deadline, to the second
        message = post_step(client, ticket, "verify", {"method": "other", "other": "ID card"})
    assert message == ["The in-person deadline of this request has passed."]
    assert Ticket.objects.get(pk=ticket.pk).status == Status.SUBMITTED


def test_reject_needs_a_note(client, urumqi, reviewer_urumqi):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    client = staff_client(client, reviewer_urumqi)
    assert client.post(step_url(ticket, "reject"), {"note": ""}).status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).status == Status.SUBMITTED
    post_step(client, ticket, "reject", {"note": "Not our office: go to Kashgar."})
    assert Ticket.objects.get(pk=ticket.pk).status == Status.REJECTED
    assert "Not our office: go to Kashgar." in candidate_emails(ticket).last().context["body"]


# Certification deletion and refund: the regional step ------------------------------------------------------


def test_certification_deletion_local_escalates_only_regional_deletes_and_completes(
    client, urumqi, reviewer_urumqi, regional_admin
):
    ticket = open_ticket(Kind.CERT_DELETION, urumqi, contact={"language": "en"})
    local = staff_client(client, reviewer_urumqi)
    post_step(local, ticket, "verify", {"method": "other", "other": "ID card original"})
    assert client.post(step_url(ticket, "escalate"), {"note": ""}).status_code == 200  # the note is required
    post_step(local, ticket, "escalate", {"note": "Statement received; please delete."})
    ticket.refresh_from_db()
    assert ticket.status == Status.ESCALATED and ticket.escalated_at

    # The local reviewer sees no regional button, and posting one directly is refused; nothing is written.
    labels = step_labels(local, ticket)
    assert "Mark the certification deleted" not in labels and "Complete" not in labels and "Reject" not in labels
    before = events(ticket)
    for slug in ("mark-deleted", "complete", "reject"):
        assert local.post(step_url(ticket, slug), {"note": "x"}).status_code == 403, slug
        assert local.get(step_url(ticket, slug)).status_code == 403, slug
    ticket.refresh_from_db()
    assert ticket.status == Status.ESCALATED and ticket.cert_deletion.deleted_at is None
    assert events(ticket) == before

    regional = staff_client(client, regional_admin)
    assert {"Mark the certification deleted", "Complete"} <= set(step_labels(regional, ticket))
    assert post_step(regional, ticket, "complete", {"note": ""}) == ["Record that the certification was deleted first."]
    post_step(regional, ticket, "mark-deleted")
    post_step(regional, ticket, "complete", {"note": ""})
    ticket.refresh_from_db()
    assert ticket.status == Status.COMPLETED
    assert ticket.cert_deletion.deleted_by == regional_admin
    assert "register again" in candidate_emails(ticket).last().context["body"]


def test_the_model_refuses_the_regional_step_to_local_staff(urumqi, reviewer_urumqi):
    from django.core.exceptions import PermissionDenied

    ticket = open_ticket(Kind.CERT_DELETION, urumqi)
    ticket.verify(reviewer_urumqi, "ID card")
    ticket.escalate(reviewer_urumqi, "please delete")
    with pytest.raises(PermissionDenied):
        ticket.cert_deletion.mark_deleted(reviewer_urumqi)


def test_refund_local_escalates_regional_checks_refunds_and_completes(client, urumqi, reviewer_urumqi, regional_admin):
    ticket = open_ticket(Kind.REFUND, urumqi, contact={"language": "en"})
    local = staff_client(client, reviewer_urumqi)
    post_step(local, ticket, "verify", {"method": "other", "other": "ID card and bank receipt"})
    post_step(local, ticket, "escalate", {"note": "Paid twice, receipt attached."})
    assert not {"Record the non-tax system check", "Record the refund"} & set(step_labels(local, ticket))
    for slug, data in (
        ("nontax-check", {}),
        ("record-refund", {"amount": "176", "date": "2024-07-20", "voucher_number": "V1"}),
    ):
        assert local.post(step_url(ticket, slug), data).status_code == 403
    ticket.refresh_from_db()
    assert ticket.refund.nontax_checked_at is None and ticket.refund.voucher_number == ""

    regional = staff_client(client, regional_admin)
    assert post_step(regional, ticket, "complete", {"note": ""}) == ["Record the check in the non-tax system first."]
    post_step(regional, ticket, "nontax-check")
    bad = regional.post(
        step_url(ticket, "record-refund"), {"amount": "0", "date": "2024-07-20", "voucher_number": "V1"}
    )
    assert bad.status_code == 200  # the form refuses a zero amount
    post_step(regional, ticket, "record-refund", {"amount": "176.00", "date": "2024-07-20", "voucher_number": "FS-001"})
    post_step(regional, ticket, "complete", {"note": ""})
    ticket.refresh_from_db()
    assert ticket.status == Status.COMPLETED
    assert (str(ticket.refund.refund_amount), ticket.refund.refund_date, ticket.refund.voucher_number) == (
        "176.00",
        datetime.date(2024, 7, 20),
        "FS-001",
    )
    assert "refunded" in candidate_emails(ticket).last().context["body"]


def test_only_escalating_kinds_can_be_escalated(client, urumqi, reviewer_urumqi):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    ticket.verify(reviewer_urumqi, "ID card")
    client = staff_client(client, reviewer_urumqi)
    assert "Escalate to the regional office" not in step_labels(client, ticket)
    assert post_step(client, ticket, "escalate", {"note": "x"}) == [
        "This step does not apply to a request of this kind."
    ]
    assert Ticket.objects.get(pk=ticket.pk).status == Status.VERIFIED


# Exemption -------------------------------------------------------------------------------------------------


def exemption_with_application(session, office, graduation_date):
    application = submit_application(session, office, now=at(2024, 6, 20, 9))
    ticket = open_ticket(Kind.EXEMPTION, office, candidate=application.candidate, graduation_date=graduation_date)
    return application, ticket


def test_exemption_needs_every_material_then_marks_the_application_exempt(
    client, session_2024, urumqi, reviewer_urumqi
):
    application, ticket = exemption_with_application(session_2024, urumqi, datetime.date(2015, 6, 30))
    client = staff_client(client, reviewer_urumqi)
    with time_machine.travel(BEFORE_EXEMPTION_DEADLINE, tick=False):
        post_step(client, ticket, "verify", {"method": "other", "other": "ID card"})
        form = client.get(step_url(ticket, "materials")).context["form"]
        assert set(form.fields) == {
            "id_card_seen",
            "degree_certificate_seen",
            "chsi_record_seen",
            "application_form_seen",
        }
        three = {"id_card_seen": "on", "degree_certificate_seen": "on", "application_form_seen": "on"}
        post_step(client, ticket, "materials", three)
        message = post_step(client, ticket, "complete", {"note": ""})
        assert message == ["Materials not seen yet: 学信网 registration record seen."]
        assert not Application.objects.get(pk=application.pk).management_exempt
        post_step(client, ticket, "materials", {**three, "chsi_record_seen": "on"})
        post_step(client, ticket, "complete", {"note": "MPAcc certificate checked"})
    ticket.refresh_from_db()
    assert ticket.status == Status.COMPLETED
    assert Application.objects.get(pk=application.pk).management_exempt


def test_exemption_of_a_graduate_before_2002_needs_no_chsi_record(client, session_2024, urumqi, reviewer_urumqi):
    application, ticket = exemption_with_application(session_2024, urumqi, datetime.date(2001, 7, 1))
    client = staff_client(client, reviewer_urumqi)
    with time_machine.travel(BEFORE_EXEMPTION_DEADLINE, tick=False):
        post_step(client, ticket, "verify", {"method": "other", "other": "ID card"})
        form = client.get(step_url(ticket, "materials")).context["form"]
        assert "chsi_record_seen" not in form.fields
        post_step(
            client,
            ticket,
            "materials",
            {"id_card_seen": "on", "degree_certificate_seen": "on", "application_form_seen": "on"},
        )
        post_step(client, ticket, "complete", {"note": ""})
    assert Ticket.objects.get(pk=ticket.pk).status == Status.COMPLETED
    assert Application.objects.get(pk=application.pk).management_exempt


# Personal-information change ---------------------------------------------------------------------------------


def paid_application(session, office, reviewer):
    application = submit_application(session, office, now=at(2024, 6, 20, 9))
    approve(application, reviewer, now=at(2024, 6, 21, 9))
    application.mark_paid(at(2024, 6, 21, 10), "PAY-1", now=at(2024, 6, 21, 10))
    return application


def test_info_change_links_the_paid_application_and_keeps_the_old_number(
    client, session_2024, urumqi, kashgar, reviewer_urumqi
):
    application = paid_application(session_2024, urumqi, reviewer_urumqi)
    candidate = application.candidate
    old_number, new_number = candidate.document_number, resident_id("19900101")
    ticket = open_ticket(
        Kind.INFO_CHANGE,
        urumqi,
        candidate=candidate,
        scope="registration",
        old_name="",
        new_name="",
        old_document_number=old_number,
        new_document_number=new_number,
        now=at(2024, 7, 10, 9),
        **with_file("proof", "改号证明.pdf"),
    )
    client = staff_client(client, reviewer_urumqi)
    with time_machine.travel(at(2024, 7, 11, 9), tick=False):
        post_step(client, ticket, "verify", {"method": "other", "other": "old and new ID cards"})
        assert post_step(client, ticket, "complete", {"note": ""}) == [
            "Link the paid application whose registration changes."
        ]
        form = client.get(step_url(ticket, "link-application")).context["form"]
        assert list(form.fields["application"].queryset) == [application]
        post_step(client, ticket, "link-application", {"application": application.pk})
        post_step(client, ticket, "complete", {"note": ""})
    candidate.refresh_from_db()
    assert candidate.document_number == new_number
    change = IdentityChange.objects.get(candidate=candidate, field="document_number")
    assert (change.old_value, change.new_value, change.ticket_id) == (old_number, new_number, ticket.pk)
    assert ticket.info_change.__class__.objects.get(pk=ticket.pk).application == application


# Take, assign, messages, notes -------------------------------------------------------------------------------


def test_reviewers_take_managers_also_assign_within_the_office(
    client, urumqi, reviewer_urumqi, manager_urumqi, reviewer_kashgar
):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    reviewer = staff_client(client, reviewer_urumqi)
    labels = step_labels(reviewer, ticket)
    assert "Take (assign to me)" in labels and "Assign" not in labels
    assert reviewer.post(step_url(ticket, "assign"), {"assignee": manager_urumqi.pk}).status_code == 403
    post_step(reviewer, ticket, "take")
    assert Ticket.objects.get(pk=ticket.pk).assigned_to == reviewer_urumqi

    manager = staff_client(Client(), manager_urumqi)
    assert "Assign" in step_labels(manager, ticket)
    refused = manager.post(step_url(ticket, "assign"), {"assignee": reviewer_kashgar.pk})
    assert refused.status_code == 200 and "assignee" in refused.context["form"].errors
    post_step(manager, ticket, "assign", {"assignee": manager_urumqi.pk})
    assert Ticket.objects.get(pk=ticket.pk).assigned_to == manager_urumqi
    assert events(ticket)[-1] == ("submitted", "Assigned to manager_urumqi")


def test_a_canned_reply_fills_the_message_in_the_candidates_language(client, urumqi, reviewer_urumqi):
    reply = CannedReply.objects.create(
        title="Bring the original",
        kind=Kind.PASSWORD_RESET,
        body_zh="请携带身份证原件。",
        body_en="Bring your ID card.",
    )
    CannedReply.objects.create(title="Refund only", kind=Kind.REFUND, body_zh="退费", body_en="Refund")
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi, contact={"language": "en"})
    client = staff_client(client, reviewer_urumqi)
    form = client.get(step_url(ticket, "message")).context["form"]
    assert list(form.fields["canned"].queryset) == [reply]
    filled = client.post(step_url(ticket, "message"), {"canned": reply.pk, "body": "", "_fill": "1"})
    assert filled.status_code == 200
    assert filled.context["form"].initial["body"] == "Bring your ID card."
    assert not TicketMessage.objects.exists()

    post_step(client, ticket, "message", {"canned": "", "body": "Bring your ID card. We open at 10:00."})
    message = TicketMessage.objects.get()
    assert (message.visible_to_candidate, message.author, message.body) == (
        True,
        reviewer_urumqi,
        "Bring your ID card. We open at 10:00.",
    )
    email = OutboxMessage.objects.get(dedup_key=f"ticket:{ticket.pk}:message:{message.pk}")
    assert "We open at 10:00." in email.context["body"]


def test_an_internal_note_is_not_emailed(client, urumqi, reviewer_urumqi):
    ticket = open_ticket(Kind.PASSWORD_RESET, urumqi)
    emails = OutboxMessage.objects.count()
    client = staff_client(client, reviewer_urumqi)
    post_step(client, ticket, "note", {"body": "Candidate will come on Monday."})
    note = TicketMessage.objects.get()
    assert not note.visible_to_candidate
    assert OutboxMessage.objects.count() == emails
    html = client.get(change_url(ticket)).content.decode()
    assert "Candidate will come on Monday." in html


# Change view and downloads -------------------------------------------------------------------------------


def test_change_view_shows_common_data_the_kinds_fields_history_and_masked_numbers(client, urumqi, reviewer_urumqi):
    new_number = resident_id("19900101")
    ticket = open_ticket(Kind.INFO_CHANGE, urumqi, new_document_number=new_number, **with_file("proof", "证明.pdf"))
    ticket.post_message("internal remark", by=reviewer_urumqi, visible_to_candidate=False)
    response = staff_client(client, reviewer_urumqi).get(change_url(ticket))
    html = response.content.decode()
    assert ticket.reference in html
    assert "Personal-information change" in html
    assert "Platform identity after real-name authentication (FAQ 9)" in html
    assert "张珊" in html
    assert new_number not in html and f"{new_number[:6]}********{new_number[-4:]}" in html
    assert ticket.candidate.document_number not in html
    assert file_url(ticket, "proof") in html and "证明.pdf" in html
    assert "internal remark" in html
    assert "History" in html or "history" in html
    assert 'name="_save"' not in html  # read-only


def test_download_is_an_attachment_with_nosniff(client, urumqi, reviewer_urumqi):
    ticket = open_ticket(Kind.INFO_CHANGE, urumqi, **with_file("proof", "证明.pdf"))
    client = staff_client(client, reviewer_urumqi)
    response = client.get(file_url(ticket, "proof"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert client.get(file_url(ticket, "new_photo")).status_code == 404  # not uploaded
    assert client.get(file_url(ticket, "receipt")).status_code == 404  # not a field of this kind
    assert client.get(file_url(ticket, "password")).status_code == 404


# Two staff verifying the same request at once (PostgreSQL row locks) ---------------------------------------


def _in_threads(*jobs):
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_staff_verifying_at_once_one_wins_the_other_gets_ticket_closed(staff):
    from offices.models import Office

    ticket = open_ticket(Kind.PASSWORD_RESET, Office.objects.get(code="650100"))
    reviewer, manager = staff["reviewer_urumqi"], staff["manager_urumqi"]
    first, second = Ticket.objects.get(pk=ticket.pk), Ticket.objects.get(pk=ticket.pk)  # both still "submitted"
    results = _in_threads(lambda: first.verify(reviewer, "ID card"), lambda: second.verify(manager, "ID card"))
    assert sorted(type(result).__name__ for result in results) == ["Refused", "TicketEvent"]
    assert TicketEvent.objects.filter(ticket=ticket, to_status=Status.VERIFIED).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clicks_on_verify_at_once_through_the_admin_write_one_entry(staff):
    from offices.models import Office

    ticket = open_ticket(Kind.PASSWORD_RESET, Office.objects.get(code="650100"))
    clients = [staff_client(Client(), staff[name]) for name in ("reviewer_urumqi", "manager_urumqi")]

    def click(client):
        return lambda: messages_of(client.post(step_url(ticket, "verify"), {"method": "other", "other": "ID card"}))

    results = _in_threads(click(clients[0]), click(clients[1]))
    assert sorted(len(result) for result in results) == [1, 1], results
    outcomes = sorted(result[0] for result in results)
    assert outcomes[0] == f"Identity verified for {ticket.reference}."
    assert "this step is not possible now" in outcomes[1] or "cannot become" in outcomes[1]
    assert TicketEvent.objects.filter(ticket=ticket, to_status=Status.VERIFIED).count() == 1
    assert Ticket.objects.get(pk=ticket.pk).status == Status.VERIFIED
